"""tabot on real posts copied verbatim, whose text stays outside the repository.

    python -m eval.verbatim LIST.tsv [LIST.tsv ...] --texts DIR [--out RECORDS.json] [--no-baseline]

The verbatim lists (`eval/datasets/verbatim_*_sources.tsv`) hold each real post's address and the
decision a TA with the nine answers wrote before anything ran on it: an entry id or `decline`, and
(where the list has the column) whether the TA was `sure` or `unsure`. The posts are other people's
words, so the repository keeps only their addresses; whoever measures keeps the text in DIR, one file
per post, copied as the page shows it and named by `text_file(address)`.

Per list, for tabot and the plain LangChain + Chroma dense baseline (calibrated by the same rule as in
`tabot eval`): in-scope posts answered from their entry, ranking hit@1 (the entry ranked first,
answered or not), out-of-scope posts declined, and how many declined in-scope posts offer their entry
among the closest topics (the buttons under a decline); then the same for the posts judged `sure`. A post
whose text is missing from DIR is named and left out of every count, never scored as a miss.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from eval.baselines import Reply


@dataclass(frozen=True)
class VerbatimPost:
    address: str
    ta: str  # an entry id, or "decline"
    confidence: str  # "sure", "unsure", or "" where the list does not say

    @property
    def in_scope(self) -> bool:
        return self.ta != "decline"

    @property
    def judged(self) -> bool:
        """False where the TA named two outcomes ("decline/circular?"): nothing to score against."""
        return "/" not in self.ta


def text_file(address: str) -> str:
    """The file name a post's text is kept under: its address hashed, so any address makes a valid,
    unique name and the directory says nothing about the posts."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:16] + ".txt"


def read_list(path: Path) -> list[VerbatimPost]:
    """A verbatim list's posts: comment lines (#) skipped, then a header naming `address` and `ta`.
    The first list marks an unsure decision with "?" after it instead of a `confidence` column."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    if not rows or not {"address", "ta"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a tab-separated header with 'address' and 'ta'")
    posts = []
    for row in rows:
        ta, confidence = row["ta"].strip(), (row.get("confidence") or "").strip()
        if ta.endswith("?"):
            ta, confidence = ta.rstrip("?"), "unsure"
        posts.append(VerbatimPost(row["address"].strip(), ta, confidence))
    return posts


@dataclass(frozen=True)
class Tally:
    """One system on one group of posts."""

    in_scope: int
    answered_right: int
    ranked_first: int
    out_of_scope: int
    declined: int
    declined_in_scope: int = 0  # in-scope posts declined ...
    offered: int = 0  # ... whose entry is among the closest topics the decline offers (its candidates)

    def row(self) -> str:
        def share(k: int, n: int) -> str:
            return f"{k} / {n} ({k / n:.2f})" if n else "-"
        return (f"{share(self.answered_right, self.in_scope)} | {share(self.ranked_first, self.in_scope)} | "
                f"{share(self.declined, self.out_of_scope)} | {self.offered} of {self.declined_in_scope}")


def tally(posts: Sequence[VerbatimPost], replies: Sequence[Reply]) -> Tally:
    """In scope: answered with the TA's entry first, the entry ranked first whatever the decision, and
    of those declined, how many offer the entry among their closest topics; out of scope: declined."""
    pairs = list(zip(posts, replies, strict=True))
    inside = [(p, r) for p, r in pairs if p.in_scope]
    outside = [r for p, r in pairs if not p.in_scope]
    return Tally(in_scope=len(inside),
                 answered_right=sum(not r.abstained and r.answered[:1] == [p.ta] for p, r in inside),
                 ranked_first=sum(r.candidates[:1] == [p.ta] for p, r in inside),
                 out_of_scope=len(outside), declined=sum(r.abstained for r in outside),
                 declined_in_scope=sum(r.abstained for _, r in inside),
                 offered=sum(r.abstained and p.ta in r.candidates for p, r in inside))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.verbatim", description=__doc__.split("\n\n")[0])
    parser.add_argument("lists", nargs="+", type=Path, help="verbatim lists (eval/datasets/verbatim_*_sources.tsv)")
    parser.add_argument("--texts", type=Path, required=True, help="the posts' text files, named by text_file()")
    parser.add_argument("--out", type=Path, help="write each post's decision per system here (JSON)")
    parser.add_argument("--no-baseline", action="store_true", help="tabot only")
    args = parser.parse_args(argv)
    lists = {path.name: [post for post in read_list(path) if post.judged] for path in args.lists}
    if not args.texts.is_dir():
        parser.error(f"{args.texts} is not a directory")

    from bot.config import Settings
    from bot.service import Tabot
    from eval.run import OursSystem

    tabot = Tabot.start(Settings.from_env())
    for name, posts in lists.items():
        unknown = sorted({p.ta for p in posts if p.in_scope and p.ta not in tabot.entries})
        if unknown:
            parser.error(f"{name}: not entries of this knowledge base: {', '.join(unknown)}")
    systems: list = [OursSystem(tabot)]
    if not args.no_baseline:
        from bot.search.embeddings import model_path
        from eval.baselines import DenseBaseline
        from eval.datasets import CALIBRATION_SETS, load_question_sets

        dense = DenseBaseline(tabot.entries, str(model_path()))
        calibration = load_question_sets(list(CALIBRATION_SETS), known_entries=tabot.entries)
        dense.calibrate([q.question for q in calibration], [q.in_scope for q in calibration])
        systems.append(dense)

    records = []
    for name, posts in lists.items():
        present = [p for p in posts if (args.texts / text_file(p.address)).is_file()]
        missing = [p.address for p in posts if p not in present]
        print(f"\n{name}: {len(present)} of {len(posts)} posts have text in {args.texts}"
              + (f"; missing: {', '.join(missing)}" if missing else ""))
        texts = [(args.texts / text_file(p.address)).read_text(encoding="utf-8") for p in present]
        replies = {system.name: [system.ask(text) for text in texts] for system in systems}
        print("| system | posts | answered and right | ranking hit@1 | out of scope declined "
              "| in scope declined: entry among those offered |")
        print("|---|---|---|---|---|---|")
        sure = [i for i, p in enumerate(present) if p.confidence == "sure"]
        for system in systems:
            mine = replies[system.name]
            print(f"| {system.label} | all | {tally(present, mine).row()} |")
            if sure:
                print(f"| {system.label} | judged sure | "
                      f"{tally([present[i] for i in sure], [mine[i] for i in sure]).row()} |")
        for i, post in enumerate(present):
            records.append({"list": name, **asdict(post), "systems": {
                system.name: {"abstained": replies[system.name][i].abstained,
                              "answered": replies[system.name][i].answered,
                              "candidates": replies[system.name][i].candidates[:3],
                              "confidence": replies[system.name][i].confidence} for system in systems}})
    if args.out:
        args.out.write_text(json.dumps(records, indent=1), encoding="utf-8")
        print(f"\nrecords: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
