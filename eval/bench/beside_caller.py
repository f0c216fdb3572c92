"""What holding Chroma's threads beside the caller (`bot.search.beside_caller`) saves, in one process.

    python -m eval.bench.beside_caller [--sets development|test] [--rounds 2]

Starts tabot once and alternates, `--rounds` times, a block with the threads held beside the caller
and a block without (`KnowledgeIndex.beside_caller.active`), so that both see the same load:

1. **The query alone, as an answer makes it**: for each question, its encoder pass (as a post's own
   pass runs just before its query) and then one Chroma query of two vectors at the answer path's k,
   timed alone. Median per block.
2. **Whole answers**: `eval.latency_stages.stage_times` over the questions (each answer beside one
   bare query embedding of its question): the median answer, the median bare embedding, their ratio
   (issue 11's latency ratio) and the Chroma stage's median. Per block.

`--sets development` (the default) times the development and calibration questions; `--sets test`
the test sets, as `tabot eval` does (timing only: nothing here reads a decision). Prints a Markdown
table; timings are measurements, never asserted in tests.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any


def query_after_encoding(tabot: Any, questions: list[str]) -> list[float]:
    """Per question, ms of one two-vector Chroma query run right after that question's encoder pass."""
    index = tabot.index
    times = []
    previous = index.model.encode_array([questions[-1]])[0]
    for question in questions:
        vector = index.model.encode_array([question])[0]
        started = time.perf_counter()
        index.dense_search_many([vector, previous], tabot.retriever.k_chunks)
        times.append((time.perf_counter() - started) * 1000)
        previous = vector
    return times


def measure(tabot: Any, questions: list[str], rounds: int) -> list[dict[str, Any]]:
    """One row per block: whether the threads were held beside the caller, and its medians."""
    from eval.latency_stages import stage_times

    beside = tabot.index.beside_caller
    was = beside.active
    rows = []
    try:
        for round_ in range(rounds):
            for active in (False, True) if round_ % 2 == 0 else (True, False):
                beside.active = active and was
                query = query_after_encoding(tabot, questions)
                answers, bare = stage_times(tabot, questions)
                totals = [a["total"] for a in answers]
                rows.append({"beside": beside.active, "query_ms": statistics.median(query),
                             "answer_ms": statistics.median(totals), "bare_ms": statistics.median(bare),
                             "ratio": statistics.median(totals) / statistics.median(bare),
                             "chroma_stage_ms": statistics.median(a.get("chroma", 0.0) for a in answers)})
    finally:
        beside.active = was
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.beside_caller",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", choices=("development", "test"), default="development")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.service import Tabot
    from eval.datasets import CALIBRATION_SETS, DEVELOPMENT_SETS, TEST_SETS, load_question_sets

    tabot = Tabot.start(Settings.from_env())
    if not tabot.index.beside_caller.active:
        print("this platform cannot hold threads beside their caller (or Chroma is a server): nothing to compare")
        return 1
    sets = TEST_SETS if args.sets == "test" else DEVELOPMENT_SETS + CALIBRATION_SETS
    questions = [q.question for q in load_question_sets(list(sets), known_entries=tabot.entries)]
    print(f"{len(questions)} {args.sets} questions, {args.rounds} rounds; medians in ms\n")
    print("| block | Chroma query after an encoder pass | answer | bare embedding | answer / bare | Chroma stage |")
    print("|---|---|---|---|---|---|")
    for row in measure(tabot, questions, args.rounds):
        print(f"| {'beside the caller' if row['beside'] else 'as it comes'} | {row['query_ms']:.2f} | "
              f"{row['answer_ms']:.2f} | {row['bare_ms']:.2f} | {row['ratio']:.3f} | {row['chroma_stage_ms']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
