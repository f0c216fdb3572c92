"""Where a warm answer's time goes, stage by stage, beside one bare query embedding.

    python -m eval.latency_stages [--repeats 2] [--sets real_posts:test ...]

Asks tabot every question of the test sets (`eval.datasets.TEST_SETS`, or the sets named) `repeats`
times and, beside each answer, embeds the raw question once (the "bare query embedding" of `tabot
eval`'s latency ratio). Inside each answer it times, with timers wrapped around these calls for this
run only: the MiniLM encoder, the Chroma query, BM25, reading the post, reading its misspelled words
(`bot.search.reading.spelling`), and semantic coverage (with the near misses' word-by-word agreement); the
rest is everything else (cleaning, ranking, composing, demos). Printed: each stage's median and
mean, the median answer over the median bare embedding (the issue-11 latency ratio), and the ratio
the same answers would have if the encoder ran exactly once per question, i.e. each answer's encoder
time replaced by its question's bare embedding. A post is one encoder pass (its focus is read inside
its prose, `bot.search.in_context`), so the two differ where the answer encodes more (a focus past
the encoder's reach, the question sentences of an answered post) or less (prose is the post without
its code, logs and quotes). Last, the answers grouped by the passes each made besides the post's own
(`PASSES`): how many take each path, and how fast.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

STAGES = ("encoder", "chroma", "bm25", "read_post", "spelling", "semantic_coverage")
# The encoder passes an answer may make besides the post's own, timed as wholes (their encoder time is
# also in the encoder stage): the course check's, beside the post's own (`MiniLM.two_passes`), and an
# answered post's parts'. Which of them an answer made is its path: the median answer is set by how
# many answers take each path, since an answer with another pass is slower than nearly every answer
# without one.
PASSES = ("course_check_pass", "parts_pass")


def _timed(owner: Any, name: str, stage: str, spent: dict[str, float]) -> None:
    """Replace `owner.name` by a wrapper that adds its wall time to `spent[stage]`."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[stage] += (time.perf_counter() - started) * 1000

    setattr(owner, name, wrapper)


def stage_times(tabot: Any, questions: list[str], repeats: int = 1) -> tuple[list[dict[str, float]], list[float]]:
    """Per answer, ms spent in each of STAGES and in total; per answer, the bare embedding beside it.

    Wraps tabot's encoder, index and two modules' functions with timers for the duration of the call."""
    import bot.search.retrieve as retrieve
    from bot.search.reading.spelling import Speller

    spent: dict[str, float] = defaultdict(float)
    encoder, index = tabot.index.model, tabot.index
    wrapped = [(encoder, "encode_with_pieces", "encoder"), (encoder, "encode", "encoder"),
               (encoder, "encode_in_context", "encoder"),
               (index, "dense_search_many", "chroma"), (index, "lexical_search", "bm25"),
               (retrieve, "read_post", "read_post"),  # compose reads a post through the retriever
               (Speller, "correct_post", "spelling"), (retrieve, "matched_words", "semantic_coverage"),
               (encoder, "two_passes", "course_check_pass"), (tabot.retriever, "embed_texts", "parts_pass")]
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in wrapped]
    for owner, name, stage in wrapped:
        _timed(owner, name, stage, spent)
    answers: list[dict[str, float]] = []
    bare: list[float] = []
    try:
        for question in questions[:5]:  # warm-up: first-call costs are not latency
            tabot.ask(question)
        for _ in range(repeats):
            for question in questions:
                spent.clear()
                started = time.perf_counter()
                tabot.ask(question)
                answers.append({**spent, "total": (time.perf_counter() - started) * 1000})
                started = time.perf_counter()
                tabot.embed_query(question)  # what `tabot eval` times (its encoder time is cleared above)
                bare.append((time.perf_counter() - started) * 1000)
    finally:
        for owner, name, original in reversed(saved):
            if original is None:
                delattr(owner, name)  # an instance whose method was looked up on its class
            else:
                setattr(owner, name, original)
    return answers, bare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.latency_stages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sets", nargs="+", metavar="SET",
                        help="question sets to time (default: the test sets), e.g. real_posts:test or short_dev")
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.service import Tabot
    from eval.datasets import TEST_SETS, load_question_sets

    tabot = Tabot.start(Settings.from_env())
    questions = [q.question for q in load_question_sets(args.sets or list(TEST_SETS), known_entries=tabot.entries)]
    answers, bare = stage_times(tabot, questions, args.repeats)
    median = statistics.median
    totals = [a["total"] for a in answers]
    print(f"{len(questions)} questions x {args.repeats}; medians and means in ms")
    for stage in STAGES:
        values = [a.get(stage, 0.0) for a in answers]
        print(f"  {stage:18} median {median(values):6.2f}   mean {statistics.mean(values):6.2f}")
    rest = [a["total"] - sum(a.get(s, 0.0) for s in STAGES) for a in answers]
    print(f"  {'rest':18} median {median(rest):6.2f}   mean {statistics.mean(rest):6.2f}")
    print(f"answer median {median(totals):.2f} ms; bare query embedding median {median(bare):.2f} ms; "
          f"ratio {median(totals) / median(bare):.2f}")
    once = [a["total"] - a.get("encoder", 0.0) + b for a, b in zip(answers, bare, strict=True)]
    print(f"with the encoder run once per question: ratio {median(once) / median(bare):.2f}")
    print("by the passes an answer made besides its own (share of answers, median ms, share at or below "
          "the median answer):")
    for path, times in sorted(answer_paths(answers).items(), key=lambda item: -len(item[1])):
        at_or_below = sum(t <= median(totals) for t in times) / len(times)
        print(f"  {path:32} {len(times) / len(answers):5.2f}  {median(times):6.2f}  {at_or_below:5.2f}")
    return 0


def answer_paths(answers: list[dict[str, float]]) -> dict[str, list[float]]:
    """The answers' total times grouped by the `PASSES` each made ("own pass only" for none)."""
    paths: dict[str, list[float]] = defaultdict(list)
    for answer in answers:
        paths[" + ".join(p for p in PASSES if answer.get(p)) or "own pass only"].append(answer["total"])
    return dict(paths)


if __name__ == "__main__":
    raise SystemExit(main())
