"""Plain-text views of demo runs for `tabot demos`: a table of every check, or one run in full."""

from __future__ import annotations

import json
import sys

from bot.config import Settings
from bot.demo_runs.runner import DemoRun, DemoRunner
from bot.errors import DemoError
from demos._common import short


def _grid(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def render_table(runs: list[DemoRun]) -> str:
    """One row per check (demo name and time on its first row); a not-verified demo gets one row."""
    rows: list[tuple[str, ...]] = [("demo", "check", "passed", "value", "reference", "time")]
    for run in runs:
        if not run.verified:
            rows.append((run.name, "NOT VERIFIED", "-", "-", "-", f"{run.seconds:.2f}s"))
            continue
        for i, c in enumerate(run.checks):
            rows.append((run.name if i == 0 else "", c.name, "PASS" if c.passed else "FAIL",
                         short(c.value, 12), short(c.reference, 12), f"{run.seconds:.2f}s" if i == 0 else ""))
    lines = _grid(rows)
    for run in runs:
        if not run.verified:
            lines.append(f"{run.name}: not verified: {run.reason}")
        for c in run.checks:
            if not c.passed:
                lines.append(f"{run.name}.{c.name} FAILED: {c.detail}")
    n_checks = sum(len(r.checks) for r in runs)
    n_failed = sum(1 for r in runs for c in r.checks if not c.passed)
    n_unverified = sum(1 for r in runs if not r.verified)
    total = sum(r.seconds for r in runs)
    lines.append(f"{len(runs)} demos, {n_checks} checks: {n_checks - n_failed} passed, {n_failed} failed; "
                 f"{n_unverified} not verified; total demo time {total:.2f}s")
    return "\n".join(lines)


def render_run(run: DemoRun) -> str:
    """Everything about one run: claim, status, each check with its arithmetic, metrics, artifacts."""
    lines = [f"{run.name}: {run.status}  ({run.seconds:.2f}s, source {run.source_hash[:12]})", f"claim: {run.claim}"]
    if run.checks:
        lines.append("")
        lines += _grid([("check", "passed", "value", "reference")]
                       + [(c.name, "PASS" if c.passed else "FAIL", short(c.value, 16), short(c.reference, 16))
                          for c in run.checks])
        lines.append("")
        lines += [f"  {c.name}: {c.detail}" for c in run.checks]
    if run.metrics:
        lines += ["", "metrics:"] + [f"  {k}: {short(v, 70)}" for k, v in run.metrics.items()]
    if run.artifacts:
        lines += ["", "artifacts:"] + [f"  {k}: {v}" for k, v in run.artifacts.items()]
    return "\n".join(lines)


def demos_command(action: str, name: str | None, as_json: bool, use_cache: bool, settings: Settings) -> int:
    """`tabot demos [verify [NAME] | run NAME] [--json] [--no-cache]`; returns the exit status.

    verify: every demo (or NAME), cached unless --no-cache; a table, non-zero if anything failed or
    was not verified. run NAME: one demo, always a fresh run, shown in full. Progress goes to stderr.
    """
    runner = DemoRunner(settings)
    if action == "verify":
        if name is not None:
            runs = [runner.run(name, use_cache=use_cache)]
        else:
            runs = runner.verify_all(use_cache, progress=lambda line: print(line, file=sys.stderr, flush=True))
        print(json.dumps([r.to_json() for r in runs], indent=2) if as_json else render_table(runs))
        return 0 if runs and all(r.passed for r in runs) else 1
    if action == "run":
        if not name:
            raise DemoError(f"say which demo to run: tabot demos run NAME, one of: {', '.join(runner.names())}")
        run = runner.run(name, use_cache=False)
        print(json.dumps(run.to_json(), indent=2) if as_json else render_run(run))
        return 0 if run.passed else 1
    raise DemoError(f"unknown demos action {str(action)[:30]!r}; use `tabot demos verify` or `tabot demos run NAME`")
