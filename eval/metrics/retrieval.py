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

from eval.metrics import Metric


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


HIT_AT_1 = Metric("hit@1", "hit@1", "in-scope questions answered with an expected entry first (a decline is a miss)")
HIT_AT_3 = Metric("hit@3", "hit@3", "in-scope questions with an expected entry in the answer's top 3")
MRR = Metric("mrr", "MRR", "mean reciprocal rank of the first expected entry, end to end")
RANKING_HIT_AT_1 = Metric("retrieval_hit@1", "ranking-only hit@1", "expected entry ranked first, ignoring abstention")
ALL_EXPECTED = Metric("all_expected_answered", "all expected answered (multi-entry)",
                      "multi-entry questions whose every expected entry was answered from")
ANSWERED_RIGHT = Metric("answered_right", "answered and right",
                        "per question set: in-scope questions answered with an expected entry first", scope="split")
SPLIT_RANKING = Metric("ranking_hit@1", "ranking hit@1", "per question set: expected entry ranked first, "
                       "ignoring abstention", scope="split")
DECLINED_OFFERED = Metric("declined_offered@3", "in-scope declined: entry among 3 offered",
                          "per question set: of the in-scope questions declined, the share whose expected entry is "
                          "among the top 3 ranked (the closest topics a decline offers)", scope="split")
WRONG_FLAGGED = Metric("wrong_flagged_unsure", "answered wrongly: flagged unsure",
                       "per question set: of the questions answered wrongly (out of scope, or the wrong entry first), "
                       "the share whose answer told the student it may not cover the question", scope="split")
METRICS = (HIT_AT_1, HIT_AT_3, MRR, RANKING_HIT_AT_1, ALL_EXPECTED, ANSWERED_RIGHT, SPLIT_RANKING, DECLINED_OFFERED,
           WRONG_FLAGGED)
