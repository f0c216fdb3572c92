"""Metrics, one module per family (ragas style): each is a pure function over plain values, and each
module declares the `Metric`s it owns, so the report, the gate and thresholds.json read one list.

retrieval     hit@k, reciprocal rank, all-expected-answered, answered-and-right
abstention    confusion counts, precision / recall / F1 (positive class = "abstain"), declined share
faithfulness  share of answer sentences supported by their cited TA text (bot.answering.support)
demos         share of attached claims whose demo passed
latency       median and p95 per stage
meta          balanced accuracy of the support scorer, overall and per perturbation kind
certainty     real-phrasing rates apart on the posts a blind label audit was sure of and on the rest
intervals     Wilson intervals of a rate, the exact McNemar test of a change
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A named number of the report: `name` is its key in results, the gate and thresholds.json."""

    name: str
    label: str  # column title in the report
    doc: str  # one line: what it measures
    scope: str = "system"  # "system": over all questions; "split": per question set; "support": scorer meta


def registry() -> dict[str, Metric]:
    """Every metric by name; a name declared twice is a bug caught here."""
    from eval.metrics import abstention, demos, faithfulness, meta, retrieval

    found: dict[str, Metric] = {}
    for module in (retrieval, abstention, faithfulness, demos, meta):
        for metric in module.METRICS:
            if metric.name in found:
                raise ValueError(f"metric {metric.name!r} declared twice")
            found[metric.name] = metric
    return found
