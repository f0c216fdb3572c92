"""The shared contract of every demo: named checks, a result, and the command line.

A demo's `run()` returns a `DemoResult` whose checks each compare a computed value with an
independent reference (a closed form, finite differences, a second method). The helpers
below build those checks so the arithmetic of each one is visible in its `detail`:
`close` (|value - reference| <= tolerance), `max_error` (max |a - b| over arrays),
`greater` / `less` (a strict threshold) and `equal` (exact).

`main(run)` is the CLI every module exposes as `python -m demos.<name>`: a readable table by
default, `--json` for the single JSON document the runner parses, `--out DIR` for artifacts
(plots); exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars and arrays become floats/ints/lists; NaN/inf become strings.

    Non-finite floats are written as strings because strict JSON parsers (browsers) reject NaN.
    """
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} in a demo result")


@dataclass
class Check:
    name: str
    passed: bool
    value: Any
    reference: Any
    tolerance: float | None
    detail: str

    def __post_init__(self) -> None:
        # numpy comparisons give np.bool_ / np.float64; keep plain Python types in results.
        self.passed = bool(self.passed)
        if self.tolerance is not None:
            self.tolerance = float(self.tolerance)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "value": jsonable(self.value),
                "reference": jsonable(self.reference),
                "tolerance": None if self.tolerance is None else jsonable(float(self.tolerance)),
                "detail": self.detail}


@dataclass
class DemoResult:
    name: str
    claim: str
    checks: list[Check]
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        # A result without checks proves nothing, so it does not pass.
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no check {name!r}; it has {[c.name for c in self.checks]}")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "claim": self.claim, "passed": self.passed,
                "checks": [c.to_json() for c in self.checks],
                "metrics": jsonable(self.metrics), "artifacts": dict(self.artifacts)}


# --- check builders -------------------------------------------------------------------------

def _join(detail: str, arithmetic: str) -> str:
    return f"{detail} ({arithmetic})" if detail else arithmetic


def close(name: str, value: float, reference: float, *, atol: float = 0.0, rtol: float = 0.0,
          detail: str = "") -> Check:
    """Passes when |value - reference| <= atol + rtol * |reference|."""
    value, reference = float(value), float(reference)
    tol = atol + rtol * abs(reference)
    err = abs(value - reference)
    passed = err <= tol  # False for NaN
    arithmetic = f"|value - reference| = {err:.3g}, needs <= {tol:.3g}"
    return Check(name, passed, value, reference, tol, _join(detail, arithmetic))


def max_error(name: str, values: Any, reference: Any, *, atol: float, detail: str = "",
              relative: bool = False) -> Check:
    """Passes when max |values - reference| (divided by |reference| if `relative`) <= atol.

    The check's value is that maximum error and its reference 0, so the table shows how far apart
    the two computations are rather than two long arrays.
    """
    a = np.asarray(values, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        return Check(name, False, list(a.shape), list(b.shape), atol, _join(detail, "shapes differ"))
    diff = np.abs(a - b)
    if relative:
        diff = diff / np.abs(b)
    err = float(np.max(diff)) if diff.size else 0.0
    kind = "max |a - b| / |b|" if relative else "max |a - b|"
    passed = bool(np.all(np.isfinite(diff))) and err <= atol
    return Check(name, passed, err, 0.0, atol, _join(detail, f"{kind} = {err:.3g}, needs <= {atol:.3g}"))


def greater(name: str, value: float, threshold: float, *, detail: str = "") -> Check:
    """Passes when value > threshold (strictly)."""
    value, threshold = float(value), float(threshold)
    arithmetic = f"{value:.4g}, needs > {threshold:.4g}"
    return Check(name, value > threshold, value, threshold, None, _join(detail, arithmetic))


def less(name: str, value: float, threshold: float, *, detail: str = "") -> Check:
    """Passes when value < threshold (strictly)."""
    value, threshold = float(value), float(threshold)
    arithmetic = f"{value:.4g}, needs < {threshold:.4g}"
    return Check(name, value < threshold, value, threshold, None, _join(detail, arithmetic))


def equal(name: str, value: Any, reference: Any, *, detail: str = "") -> Check:
    """Passes when value == reference exactly (counts, labels)."""
    arithmetic = f"{value!r}, needs == {reference!r}"
    return Check(name, bool(value == reference), value, reference, None, _join(detail, arithmetic))


# --- command line ---------------------------------------------------------------------------

def short(value: Any, width: int = 24) -> str:
    """A number or small value in at most `width` characters (also used by `tabot demos`)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else json.dumps(jsonable(value))
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(result: DemoResult) -> str:
    rows = [("check", "passed", "value", "reference", "tolerance")]
    rows += [(c.name, "PASS" if c.passed else "FAIL", short(c.value), short(c.reference), short(c.tolerance))
             for c in result.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"{result.name}: {result.claim}", ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    failed = [c for c in result.checks if not c.passed]
    for c in failed:
        lines.append(f"  FAILED {c.name}: {c.detail}")
    if result.metrics:
        lines += ["", "metrics:"]
        lines += [f"  {k}: {short(v)}" for k, v in result.metrics.items()]
    for k, v in result.artifacts.items():
        lines.append(f"{k}: {v}")
    lines += ["", "all checks passed" if result.passed else f"{len(failed)} check(s) FAILED"]
    return "\n".join(lines)


def main(run: Callable[..., DemoResult], argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(run.__module__ or "demo") + ": run the demo and its checks")
    parser.add_argument("--json", action="store_true", help="print only the result as one JSON document")
    parser.add_argument("--out", type=Path, default=None, help="folder for artifacts such as plots")
    args = parser.parse_args(argv)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    result = run(out_dir=args.out)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(format_table(result))
    return 0 if result.passed else 1
