"""Meta-evaluation of the support scorer: does it tell supported sentences from perturbed ones?

Balanced accuracy = (true-positive rate + true-negative rate) / 2, with "supported" as the
positive class, so the 0.5 a constant answer gets is the floor whatever the class balance.
Per perturbation kind the rows all share one label, so the per-kind number is plain accuracy
(the share of that kind the scorer labels correctly).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answering.support_text import normalise
from eval.metrics import Metric


def balanced_accuracy(predicted: Sequence[bool], actual: Sequence[bool]) -> float | None:
    """Mean of recall on each class; None unless both classes occur."""
    positives = [p for p, a in zip(predicted, actual, strict=True) if a]
    negatives = [p for p, a in zip(predicted, actual, strict=True) if not a]
    if not positives or not negatives:
        return None
    tpr = sum(positives) / len(positives)
    tnr = sum(not p for p in negatives) / len(negatives)
    return (tpr + tnr) / 2


def accuracy_by_kind(predicted: Sequence[bool], actual: Sequence[bool], kinds: Sequence[str]) -> dict[str, dict]:
    """{kind: {"n", "correct", "accuracy"}} in order of first appearance."""
    table: dict[str, dict] = {}
    for p, a, kind in zip(predicted, actual, kinds, strict=True):
        row = table.setdefault(kind, {"n": 0, "correct": 0})
        row["n"] += 1
        row["correct"] += p == a
    for row in table.values():
        row["accuracy"] = row["correct"] / row["n"]
    return table


def naive_overlap(sentence: str, source: str) -> float:
    """The baseline a support metric must beat: share of the sentence's words found anywhere in the source."""
    words = set(re.findall(r"[a-z0-9]+", normalise(sentence)))
    have = set(re.findall(r"[a-z0-9]+", normalise(source)))
    return len(words & have) / len(words) if words else 0.0


NAIVE_THRESHOLD = 0.5


def naive_supported(sentence: str, source: str, threshold: float = NAIVE_THRESHOLD) -> bool:
    return naive_overlap(sentence, source) >= threshold


SUPPORT_META_BALANCED_ACCURACY = Metric(
    "support_meta_balanced_accuracy", "support scorer balanced accuracy (support_meta)",
    "the support scorer's balanced accuracy on the held-out labelled sentences", scope="support")
METRICS = (SUPPORT_META_BALANCED_ACCURACY,)
