"""The CI gate: fail when a headline metric of tabot drops below its floor in thresholds.json.

Gated: tabot's hit@1, abstention F1 and faithfulness on the test sets, and the support scorer's
balanced accuracy on `support_meta.jsonl`. The last one is what makes the faithfulness side of
the gate able to fail: grounded answers quote the TA verbatim, so their faithfulness is 1.0 by
construction, while the scorer that would judge an LLM's sentences is measured on labelled
supported / perturbed sentences it was not tuned on.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.datasets import DatasetError

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.json"
GATED = ("hit@1", "abstention_f1", "faithfulness", "support_meta_balanced_accuracy")
SUPPORT_META_KEY = "support_meta_balanced_accuracy"


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """{metric: floor} for the gated metrics; a missing or non-numeric one is an error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: thresholds file not found") from None
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    floors = {}
    for metric in GATED:
        value = data.get(metric)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise DatasetError(f"{path}: '{metric}' must be a number (the lowest acceptable value)")
        floors[metric] = float(value)
    return floors


def gated_values(results: dict) -> dict[str, float | None]:
    """The gated metrics out of `run_eval` results (None when one was not measured)."""
    values = {metric: results["systems"]["tabot"]["metrics"].get(metric) for metric in GATED
              if metric != SUPPORT_META_KEY}
    meta = results.get("support", {}).get("support_meta")
    values[SUPPORT_META_KEY] = meta["scorer"]["balanced_accuracy"] if meta else None
    return values


def gate_failures(metrics: dict, floors: dict[str, float]) -> list[str]:
    """One line per gated metric below its floor (a metric that could not be measured fails too)."""
    failed = []
    for metric, floor in floors.items():
        value = metrics.get(metric)
        if value is None:
            failed.append(f"{metric}: not measured (no questions for it), floor {floor:.3f}")
        elif value < floor:
            failed.append(f"{metric}: {value:.3f} < floor {floor:.3f}")
    return failed
