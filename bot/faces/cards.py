"""The card model: the parts of a reply every face draws the same way.

A reply reads answer -> sources -> demos. `answer_body` is the answer's text (its `[n]` markers only
when more than one TA answer is cited); each demo is one `DemoSummary` (`demo_summaries`): a demo
backing three sentences of one answer is one card (`group_demos`), its verdict is the `Verdict` of its
runs, never a string to parse, its one line is icon, name, "9/9 checks" and its most telling number
(`headline`); numbers are formatted by `format_value`. The browser (`faces.render.answer_markdown`),
the terminal (`faces.render.answer_text`) and Discord (`faces.discord.render`) only choose how to lay
these out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.schema import Answer, CheckResult, DemoAttachment, Verdict

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


# --- the reply as every face lays it out: answer text, sources, one summary per demo ----------------

# The composer ends each cited sentence with " [n]" (bot/answering/compose.py).
_CITATION = re.compile(r" \[(\d+)\](?=[\s.,;:!?)]|$)")
VERDICT_ICONS = {Verdict.PASSED: "✅", Verdict.FAILED: "❌", Verdict.NOT_VERIFIED: "⚠️"}


def cites_several(answer: Answer) -> bool:
    """Whether the `[n]` markers tell the reader anything: only when more than one TA answer is cited."""
    return len(answer.sources) > 1


def answer_body(answer: Answer) -> str:
    """The reply's text; the `[1]` markers are dropped when a single TA answer is cited (they would all
    point at the one source line right below)."""
    text = answer.answer.strip()
    return text if cites_several(answer) else _CITATION.sub("", text)


@dataclass(frozen=True)
class DemoSummary:
    """One demo card, decided once for every face: its verdict, its counts and its most telling number.

    Built by `summarise_demo` from a `group_demos` group (one demo backing several sentences)."""

    name: str
    verdict: Verdict
    passed: int  # checks that passed, of
    total: int  # the checks the card shows (each once)
    headline: str  # the single most telling number, or why the run is not verified
    reason: str  # why NOT_VERIFIED ("" otherwise)
    claims: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    metrics: Mapping[str, Any]
    plot_path: str | None

    @property
    def icon(self) -> str:
        return VERDICT_ICONS[self.verdict]

    @property
    def count(self) -> str:
        """"9/9 checks" (a not-verified run has no trustworthy count)."""
        if self.verdict is Verdict.NOT_VERIFIED:
            return str(Verdict.NOT_VERIFIED)
        return f"{self.passed}/{self.total} checks" if self.total else "no checks"

    @property
    def line(self) -> str:
        """The one line a card folds into: "✅ kl_asymmetry · 9/9 checks · kl_asymmetric 1.101 vs 0.1"."""
        return " · ".join(p for p in (f"{self.icon} {self.name}", self.count, self.headline) if p)


def headline(checks: Sequence[CheckResult]) -> str:
    """The check a reader should see first, as "name value vs reference".

    A failure is the news, so the first failed check; otherwise the first check, which is the first
    check the first backed sentence names (staff list the decisive one first). The reference is left
    out when it adds nothing (absent, zero for an error that should vanish, or equal to the value)."""
    if not checks:
        return ""
    check = next((c for c in checks if not c.passed), checks[0])
    if check.value is None:
        return check.name
    value, reference = format_value(check.value), format_value(check.reference)
    text = f"{check.name} {value}"
    if check.reference is not None and reference not in (value, "0") and not isinstance(check.reference, bool):
        text += f" vs {reference}"
    return text


def summarise_demo(demo: DemoAttachment | Sequence[DemoAttachment]) -> DemoSummary:
    group = _as_group(demo)
    first = group[0]
    checks = demo_checks(group)
    verdict = demo_verdict(group)
    reason = not_verified_reason(group)
    plot = next((d.plot_path for d in group if d.plot_path), None)
    return DemoSummary(
        name=first.name, verdict=verdict, passed=sum(c.passed for c in checks), total=len(checks),
        headline=reason if verdict is Verdict.NOT_VERIFIED else headline(checks), reason=reason,
        claims=tuple(demo_claims(group)), checks=tuple(checks), metrics=first.metrics, plot_path=plot)


def demo_summaries(demos: Iterable[DemoAttachment]) -> list[DemoSummary]:
    """One summary per demo (in first-seen order): what every face draws, one card each."""
    return [summarise_demo(group) for group in group_demos(demos)]
