"""Benchmark: BM25 query latency at scale, bm25s (sparse matrices) vs a pure-Python scan.

    python -m eval.bench.lexical [--chunks 100000] [--queries 50]

Builds a synthetic corpus of N chunks from the TA answers' own vocabulary (so term statistics are
realistic), then times the same queries through `bot.search.lexical.LexicalIndex` and through a naive
per-query loop over every chunk computing the same BM25 formula. Prints medians and the ratio;
both are measured in the same run, so machine load affects them alike.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import Counter

from bot.config import Settings
from bot.knowledge import load_entries
from bot.search.lexical import LexicalIndex, tokenize


def naive_bm25(query: list[str], docs: list[Counter], lengths: list[int], k: int,
               k1: float = 1.5, b: float = 0.75) -> list[tuple[int, float]]:
    """The reference a per-query scan would compute (Lucene-style idf), one document at a time."""
    n = len(docs)
    average = sum(lengths) / n
    frequency = {t: sum(1 for d in docs if t in d) for t in set(query)}
    scores = []
    for i, doc in enumerate(docs):
        score = 0.0
        for term in query:
            tf = doc.get(term, 0)
            if tf:
                idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / average))
        if score > 0:
            scores.append((i, score))
    return sorted(scores, key=lambda pair: -pair[1])[:k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.lexical")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args(argv)
    rng = random.Random(0)
    entries = load_entries(Settings().knowledge_dir)
    words = " ".join(e.answer for e in entries).split()
    texts = [" ".join(rng.choices(words, k=rng.randint(12, 40))) for _ in range(args.chunks)]
    questions = [alias for e in entries for alias in e.aliases][: args.queries]

    started = time.perf_counter()
    index = LexicalIndex.build(texts)
    build_s = time.perf_counter() - started
    fast = []
    for question in questions:
        t0 = time.perf_counter()
        index.search(question, 40)
        fast.append((time.perf_counter() - t0) * 1000)

    docs = [Counter(tokens) for tokens in tokenize(texts)]
    lengths = [sum(d.values()) for d in docs]
    slow = []
    for question in questions[:10]:  # the scan is slow; 10 queries give a stable median
        query = tokenize([question])[0]
        t0 = time.perf_counter()
        naive_bm25(query, docs, lengths, 40)
        slow.append((time.perf_counter() - t0) * 1000)

    fast_median, slow_median = statistics.median(fast), statistics.median(slow)
    print(f"chunks: {args.chunks:,}; bm25s index build: {build_s:.1f} s")
    print(f"bm25s query:       median {fast_median:.2f} ms over {len(fast)} queries")
    print(f"pure-Python scan:  median {slow_median:.1f} ms over {len(slow)} queries")
    print(f"ratio (scan / bm25s): {slow_median / fast_median:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
