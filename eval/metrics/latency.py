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
