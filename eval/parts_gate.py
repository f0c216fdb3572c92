"""What the parts gate (`bot.answering.compose.parts_may_add`) changes in what answers cite.

    python -m eval.parts_gate [--pairs 400] [--seed 35]

An answered post with several questions reads them alone (its parts), an encoder pass about as long
as the post's own, and cites an entry a part finds confidently. Since the thirty-fifth session the
parts are read only where that could add an entry. Each post below is answered twice, with the gate
as built and with it always open (every answered post with parts reads them, as before), and the
entries each answer cites are compared. Two kinds of posts:

1. the calibration and development rows (never a test row);
2. `--pairs` posts made of two in-scope development questions of two different entries, joined the
   ways students join a second question (one after the other, after a blank line, ", and ...",
   "Also, ...", "btw ...", `JOINS`): posts that should cite both entries.

Printed per kind: the posts, how many read their parts alone with the gate and without it, how many
cite other entries with the gate (each listed), and for the pairs how many cite both entries each way.
Nothing is timed; the gate's latency is in `python -m eval.latency_stages --sets ...`.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import bot.answering.compose as compose

# Where the second question goes, as students attach it (the first question as written, the second
# lower-cased where it continues a sentence).
JOINS: tuple[Callable[[str, str], str], ...] = (
    lambda a, b: f"{a} {b}",
    lambda a, b: f"{a}\n\n{b}",
    lambda a, b: f"{a.rstrip('?.!')}, and {b[:1].lower()}{b[1:]}",
    lambda a, b: f"Two things. {a} Also, {b[:1].lower()}{b[1:]}",
    lambda a, b: f"{a} btw {b[:1].lower()}{b[1:]}",
)
PAIR_SETS = ("short_dev", "abbreviated_dev", "abbreviated_dev_2", "statements_dev")


def joined_pairs(questions: list[tuple[str, str]], count: int, seed: int) -> list[tuple[str, set[str]]]:
    """`count` posts, each two of `questions` ((text, its one entry)) of different entries, joined by
    one of `JOINS`, with the two entries; the same for the same seed."""
    by_entry: dict[str, list[str]] = defaultdict(list)
    for text, entry_id in questions:
        by_entry[entry_id].append(text.strip())
    entries = sorted(by_entry)
    if len(entries) < 2:
        return []
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        first, second = rng.sample(entries, 2)
        join = rng.choice(JOINS)
        posts.append((join(rng.choice(by_entry[first]), rng.choice(by_entry[second])), {first, second}))
    return posts


@contextmanager
def gate_open() -> Iterator[None]:
    """The parts gate always open while inside: every answered post with parts reads them alone."""
    built = compose.parts_may_add
    compose.parts_may_add = lambda *_: True
    try:
        yield
    finally:
        compose.parts_may_add = built


def cited(tabot: Any, post: str) -> tuple[list[str], bool]:
    """The entries an answer to `post` cites, and whether it read its parts alone."""
    read: list[int] = []
    embed_texts = tabot.retriever.embed_texts
    tabot.retriever.embed_texts = lambda texts: read.append(1) or embed_texts(texts)
    try:
        selection, _ = tabot.composer.select(post, None)
    finally:
        del tabot.retriever.embed_texts  # the instance attribute: the method is the class's again
    return [hit.entry_id for hit in selection.entries], bool(read)


def compare(tabot: Any, posts: list[tuple[str, set[str]]]) -> dict[str, Any]:
    """Each post answered with the gate as built and with it open: parts read, cited entries compared.
    `posts`: (text, the entries it should cite; empty where that is not known)."""
    gated = [cited(tabot, text) for text, _ in posts]
    with gate_open():
        opened = [cited(tabot, text) for text, _ in posts]
    return {
        "posts": len(posts),
        "parts_read_gated": sum(read for _, read in gated),
        "parts_read_open": sum(read for _, read in opened),
        "changed": [(text, g, o) for (text, _), (g, _), (o, _) in zip(posts, gated, opened, strict=True) if g != o],
        "both_cited_gated": sum(bool(want) and want <= set(g) for (_, want), (g, _) in zip(posts, gated, strict=True)),
        "both_cited_open": sum(bool(want) and want <= set(o) for (_, want), (o, _) in zip(posts, opened, strict=True)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.parts_gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=35)
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.service import Tabot
    from eval.datasets import CALIBRATION_SETS, DEVELOPMENT_SETS, load_question_sets

    tabot = Tabot.start(Settings.from_env())
    rows = load_question_sets(list(CALIBRATION_SETS) + list(DEVELOPMENT_SETS), known_entries=tabot.entries)
    singles = [(q.question, q.expected[0])
               for q in load_question_sets(list(PAIR_SETS), known_entries=tabot.entries) if len(q.expected) == 1]
    kinds = {"calibration and development rows": [(q.question, set()) for q in rows],
             f"two development questions joined ({args.pairs}, seed {args.seed})":
                 joined_pairs(singles, args.pairs, args.seed)}
    for kind, posts in kinds.items():
        found = compare(tabot, posts)
        print(f"{kind}: {found['posts']} posts; parts read alone {found['parts_read_gated']} with the gate, "
              f"{found['parts_read_open']} without; cited entries changed {len(found['changed'])}")
        if any(want for _, want in posts):
            print(f"  both entries cited: {found['both_cited_gated']} with the gate, "
                  f"{found['both_cited_open']} without")
        for text, gated, opened in found["changed"]:
            print(f"  {text[:100]!r}: {gated} with the gate, {opened} without")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
