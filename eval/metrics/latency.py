"""Latency summaries: median and p95 per stage, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks.

    Same definition as numpy's default ("linear"): position (n - 1) * q / 100 in sorted order.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be in [0, 100]")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stage_summary(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """{stage: {"median", "p95", "n"}} over every timings dict that has that stage."""
    stages: dict[str, list[float]] = {}
    for timing in timings:
        for stage, ms in timing.items():
            stages.setdefault(stage, []).append(float(ms))
    return {stage: {"median": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
            for stage, values in sorted(stages.items())}


def ratio_by_split(answer_ms: Sequence[float], bare_ms: Sequence[float],
                   splits: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per split, the median answer, the median bare embedding of the same questions and their ratio
    (issue 11's latency target), from three lists in the same question order.

    The ratio over all test sets mixes short synthetic questions and long posts, in the proportions
    the sets happen to have; each set's own ratio says how questions of that shape fare (the long
    real-phrasing posts issue 11 is about, or one-line questions)."""
    if not len(answer_ms) == len(bare_ms) == len(splits):
        raise ValueError("answer_ms, bare_ms and splits must be in the same question order")
    grouped: dict[str, tuple[list[float], list[float]]] = {}
    for answer, bare, split in zip(answer_ms, bare_ms, splits, strict=True):
        answers, bares = grouped.setdefault(split, ([], []))
        answers.append(answer)
        bares.append(bare)
    out = {}
    for split, (answers, bares) in grouped.items():
        answer, bare = percentile(answers, 50), percentile(bares, 50)
        out[split] = {"answer_median": answer, "bare_median": bare, "ratio": answer / bare if bare else None,
                      "n": len(answers)}
    return out
