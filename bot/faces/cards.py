"""The parts of a reply every face draws the same way: demo cards and the numbers in them.

A demo backing three sentences of one answer is one card (`group_demos`); its verdict is the
`Verdict` of its runs, never a string to parse; its numbers are formatted by `format_value`. The
browser (`faces.render`), the terminal (`faces.render.answer_text`) and Discord
(`faces.discord.render`) only choose how to lay these out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.schema import CheckResult, DemoAttachment, Verdict

# Long arrays are for the JSON output, not for a reader skimming a card.
MAX_LISTED_ITEMS = 6
MAX_TABLE_ROWS = 8


def format_value(value: Any) -> str:
    """A short human form of a demo number (or list/dict of numbers) for a table cell."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        items = [f"{k}={format_value(v)}" for k, v in list(value.items())[:4]]
        return ", ".join(items) + (", …" if len(value) > 4 else "")
    if isinstance(value, list | tuple):
        items = [format_value(v) for v in value[:4]]
        return "[" + ", ".join(items) + (", …" if len(value) > 4 else "") + "]"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def group_demos(demos: Iterable[DemoAttachment]) -> list[tuple[DemoAttachment, ...]]:
    """One group per demo name, in first-seen order: a demo backing three claims is one card.

    Every front end (browser, terminal, Discord) draws one card per group, with the helpers below.
    """
    groups: dict[str, list[DemoAttachment]] = {}
    for demo in demos:
        groups.setdefault(demo.name, []).append(demo)
    return [tuple(g) for g in groups.values()]


def _as_group(demo: DemoAttachment | Sequence[DemoAttachment]) -> tuple[DemoAttachment, ...]:
    return (demo,) if isinstance(demo, DemoAttachment) else tuple(demo)


def demo_checks(demo: DemoAttachment | Sequence[DemoAttachment]) -> list[CheckResult]:
    """Each check of a group once, in first-seen order; a failure wins over a pass of the same name.

    Claims of one demo may name the same check; it comes from one run, so it is shown once, and
    should two copies ever disagree the card must not hide the failing one.
    """
    seen: dict[str, CheckResult] = {}
    for one in _as_group(demo):
        for check in one.checks:
            if check.name not in seen or not check.passed:
                seen[check.name] = check
    return list(seen.values())


def demo_claims(demo: DemoAttachment | Sequence[DemoAttachment]) -> list[str]:
    """The sentences a group backs, each once, in order."""
    return list(dict.fromkeys(d.claim for d in _as_group(demo)))


def demo_verdict(demo: DemoAttachment | Sequence[DemoAttachment]) -> Verdict:
    """The group's verdict: PASSED only if every claim's run passed, NOT_VERIFIED if any run was
    not, else FAILED. The browser, terminal and Discord all decide a card's colour by it."""
    group = _as_group(demo)
    if not group:
        return Verdict.FAILED
    verdict = Verdict.PASSED
    for one in group:
        verdict = verdict.worst(one.verdict)
    return verdict


def not_verified_reason(demo: DemoAttachment | Sequence[DemoAttachment]) -> str:
    """Why the group's first not-verified run could not be trusted ("" if every run was verified)."""
    return next((d.reason for d in _as_group(demo) if d.verdict is Verdict.NOT_VERIFIED), "")


def demo_badge(demo: DemoAttachment | Sequence[DemoAttachment]) -> str:
    """One line for a demo (or a group of one demo's claims): ✅ verified / ❌ failed / ⚠️ not verified."""
    group = _as_group(demo)
    checks = demo_checks(group)
    total, ok = len(checks), sum(c.passed for c in checks)
    verdict = demo_verdict(group)
    if verdict is Verdict.PASSED:
        return f"✅ verified — {ok}/{total} checks passed" if total else "✅ verified"
    if verdict is Verdict.NOT_VERIFIED:
        return f"⚠️ {Verdict.NOT_VERIFIED}: {not_verified_reason(group)}"
    return f"❌ failed — {ok}/{total} checks passed" if total else "❌ failed"


def key_numbers(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(metric name, formatted value) for a card, leaving out long arrays; at most MAX_TABLE_ROWS."""
    rows = [(name, format_value(value)) for name, value in metrics.items()
            if not (isinstance(value, list | tuple) and len(value) > MAX_LISTED_ITEMS)]
    return rows[:MAX_TABLE_ROWS]
