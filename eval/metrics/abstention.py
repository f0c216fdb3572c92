"""Abstention as a binary classifier whose positive class is "abstain".

Truth: a question is out of scope when it expects no entry. So
- true positive  = declined an out-of-scope question,
- false positive = declined an in-scope question (a student left without an answer it had),
- false negative = answered an out-of-scope question (the bot said something it should not),
- true negative  = answered an in-scope question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AbstentionCounts:
    tp: int
    fp: int
    fn: int
    tn: int


def abstention_counts(abstained: Sequence[bool], in_scope: Sequence[bool]) -> AbstentionCounts:
    if len(abstained) != len(in_scope):
        raise ValueError("abstained and in_scope must have the same length")
    pairs = list(zip(abstained, in_scope, strict=True))
    return AbstentionCounts(
        tp=sum(a and not s for a, s in pairs),
        fp=sum(a and s for a, s in pairs),
        fn=sum(not a and not s for a, s in pairs),
        tn=sum(not a and s for a, s in pairs),
    )


def precision(c: AbstentionCounts) -> float | None:
    """Of the questions declined, the share that should have been (None if none declined)."""
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else None


def recall(c: AbstentionCounts) -> float | None:
    """Of the questions that should be declined, the share that were (None if there are none)."""
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else None


def f1(c: AbstentionCounts) -> float | None:
    """Harmonic mean of precision and recall: 2tp / (2tp + fp + fn)."""
    denominator = 2 * c.tp + c.fp + c.fn
    return 2 * c.tp / denominator if denominator else None


def answered_rate_in_scope(c: AbstentionCounts) -> float | None:
    """Share of in-scope questions the system answered at all (right entry or not)."""
    return c.tn / (c.tn + c.fp) if c.tn + c.fp else None
