"""The CI gate: fail when a gated metric of tabot drops below its floor in thresholds.json.

Every key of thresholds.json names a metric of the registry (`eval.metrics.registry`), so the
report, the gate and the floors read one list:

- `"hit@1"`, `"abstention_f1"`, `"faithfulness"`: tabot over all test questions;
- `"support_meta_balanced_accuracy"`: the support scorer on held-out labelled sentences. This is what
  makes the faithfulness side of the gate able to fail: grounded answers quote the TA verbatim, so
  their faithfulness is 1.0 by construction, while the scorer that would judge an LLM's sentences
  is measured on sentences it was not tuned on;
- `"SPLIT/METRIC"` (e.g. `"real_posts:test/answered_right"`): tabot on one question set;
- `"SPLIT/METRIC-over-SYSTEM"` (e.g. `"real_posts:test/ranking_hit@1-over-dense"`): tabot's value minus
  that baseline's, measured in the same run, must be at least the floor.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.datasets import DatasetError
from eval.metrics import registry

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.json"
SUPPORT_META_KEY = "support_meta_balanced_accuracy"
OVER = "-over-"


def _check_key(key: str, path: Path) -> None:
    metrics = registry()
    split, _, name = key.rpartition("/")
    name = name.split(OVER)[0]
    if name not in metrics:
        raise DatasetError(f"{path}: unknown metric {name!r} in {key!r}; known: {sorted(metrics)}")
    if bool(split) != (metrics[name].scope == "split"):
        where = "per question set (SPLIT/METRIC)" if metrics[name].scope == "split" else "not per question set"
        raise DatasetError(f"{path}: {name!r} is {where}; fix the key {key!r}")


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """{gated key: floor}; an unknown metric or a non-numeric floor is an error naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: thresholds file not found") from None
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or not data:
        raise DatasetError(f"{path}: expected an object of {{metric: lowest acceptable value}}")
    floors = {}
    for key, value in data.items():
        _check_key(key, path)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise DatasetError(f"{path}: '{key}' must be a number (the lowest acceptable value)")
        floors[key] = float(value)
    return floors


def gated_value(results: dict, key: str) -> float | None:
    """The value a floor applies to, out of `run_eval` results (None when it was not measured)."""
    split, _, name = key.rpartition("/")
    name, _, baseline = name.partition(OVER)
    systems = results["systems"]
    if name == SUPPORT_META_KEY:
        meta = results.get("support", {}).get("support_meta")
        return meta["scorer"]["balanced_accuracy"] if meta else None

    def value(system: str) -> float | None:
        if system not in systems:
            return None
        metrics = systems[system]["metrics"]
        return metrics["by_split"].get(split, {}).get(name) if split else metrics.get(name)

    ours = value("tabot")
    if not baseline:
        return ours
    theirs = value(baseline)
    return None if ours is None or theirs is None else ours - theirs


def gated_values(results: dict, floors: dict[str, float]) -> dict[str, float | None]:
    return {key: gated_value(results, key) for key in floors}


def gate_failures(values: dict, floors: dict[str, float]) -> list[str]:
    """One line per gated metric below its floor (a metric that could not be measured fails too)."""
    failed = []
    for key, floor in floors.items():
        value = values.get(key)
        if value is None:
            failed.append(f"{key}: not measured (no questions for it, or its baseline did not run), floor {floor:.3f}")
        elif value < floor:
            failed.append(f"{key}: {value:.3f} < floor {floor:.3f}")
    return failed
