"""Abstention as a binary classifier whose positive class is "abstain".

Truth: a question is out of scope when it expects no entry. So
- true positive  = declined an out-of-scope question,
- false positive = declined an in-scope question (a student left without an answer it had),
- false negative = answered an out-of-scope question (the bot said something it should not),
- true negative  = answered an in-scope question.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from eval.metrics import Metric


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


def best_threshold(scores: Sequence[float], in_scope: Sequence[bool]) -> float:
    """The decline threshold (decline when score < threshold) that maximises abstention F1.

    The one rule every system's threshold is set by (tabot's calibrated confidence and both
    baselines' raw top scores alike), always on calibration.jsonl. It works on any score scale:
    the candidates are the midpoints between consecutive distinct scores, plus one just below the
    lowest (answer everything) and one just above the highest (decline everything). When several
    candidates tie on F1, the middle one of them wins, so the threshold sits away from both edges
    of the best range rather than touching a calibration score.
    """
    distinct = sorted(set(scores))
    if not distinct:
        raise ValueError("no calibration scores")
    candidates = [distinct[0] - 1e-6]
    candidates += [(a + b) / 2 for a, b in itertools.pairwise(distinct)]
    candidates.append(distinct[-1] + 1e-6)
    rated = [(f1(abstention_counts([s < t for s in scores], in_scope)) or 0.0, t) for t in candidates]
    best = max(score for score, _ in rated)
    tied = [t for score, t in rated if score == best]
    return tied[len(tied) // 2]


PRECISION = Metric("abstention_precision", "abstain P", "of the questions declined, the share that should have been")
RECALL = Metric("abstention_recall", "abstain R", "of the questions that should be declined, the share that were")
F1 = Metric("abstention_f1", "abstain F1", "harmonic mean of abstention precision and recall")
ANSWERED_IN_SCOPE = Metric("answered_rate_in_scope", "answered rate in scope", "in-scope questions answered at all")
DECLINED_OUT = Metric("declined_out_of_scope", "out-of-scope declined",
                      "per question set: out-of-scope, off-topic and injection questions declined", scope="split")
METRICS = (PRECISION, RECALL, F1, ANSWERED_IN_SCOPE, DECLINED_OUT)
