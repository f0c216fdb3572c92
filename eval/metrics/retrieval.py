"""Ranking metrics for questions that have expected entries.

A question may expect several entries ("is cross-entropy the same as NLL, and what is the
derivative of softmax?"). Definitions:

- `first_hit_rank`: 1-based rank of the first expected entry in the ranking, or None.
- hit@k: 1 if *any* expected entry is ranked at or above k, else 0.
- reciprocal rank: 1 / first_hit_rank (0 when no expected entry is ranked).
- all-expected-answered: 1 if *every* expected entry is among the entries the system actually
  answered with (its sources), else 0 - a multi-entry question is only fully served then.

A system that declines an in-scope question has an empty ranking, so it scores 0 on all of
these: retrieval is measured end to end, the way a student experiences it.
"""

from __future__ import annotations

from collections.abc import Sequence


def first_hit_rank(ranking: Sequence[str], expected: Sequence[str]) -> int | None:
    """1-based rank of the first expected entry in `ranking`, or None if none is ranked."""
    wanted = set(expected)
    for rank, entry_id in enumerate(ranking, start=1):
        if entry_id in wanted:
            return rank
    return None


def hit_at_k(ranking: Sequence[str], expected: Sequence[str], k: int) -> float:
    rank = first_hit_rank(ranking, expected)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(ranking: Sequence[str], expected: Sequence[str]) -> float:
    rank = first_hit_rank(ranking, expected)
    return 1.0 / rank if rank is not None else 0.0


def all_expected_answered(answered: Sequence[str], expected: Sequence[str]) -> float:
    return 1.0 if expected and set(expected) <= set(answered) else 0.0


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None for no values (reported as "n/a", never as 0)."""
    return sum(values) / len(values) if values else None
