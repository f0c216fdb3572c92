"""Render an `Answer` for people: Markdown for the browser (and Discord), plain text for a terminal.

Pure functions, no I/O, so every front end shows the same thing and tests need no server.

Trust boundary: text a user typed (the question, a comment) goes through `escape_user_text`
before it reaches any Markdown renderer, so it is shown as text and never interpreted as HTML,
script, a link or an image. TA text and demo results come from course staff and this repo and
are rendered as Markdown (front ends still sanitise HTML as a second line of defence).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.schema import Answer, CheckResult, DemoAttachment, Source

# Backslash first, so the escapes added below are not themselves doubled.
_MD_ESCAPES = [("\\", "\\\\"), ("[", "\\["), ("]", "\\]"), ("`", "\\`")]
# `!` only matters right before `[` (image syntax), and `[` is escaped already; the entity
# escapes stop raw HTML, autolinks (`<http://…>`) and entity tricks (`&lt;` typed by the user).
_HTML_ESCAPES = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")]

MAX_TABLE_ROWS = 8


def escape_user_text(text: str) -> str:
    """Make untrusted text display literally inside Markdown that may be rendered as HTML.

    Escapes `&`, `<`, `>` as HTML entities (no tags, no autolinks) and `\\`, `[`, `]`, backticks
    with backslashes (no links, images or code spans). Newlines are kept.
    """
    for old, new in _MD_ESCAPES:
        text = text.replace(old, new)
    for old, new in _HTML_ESCAPES:
        text = text.replace(old, new)
    return text


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


def _cell(text: str) -> str:
    # A `|` or a newline would break the table row.
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: list[list[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


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


def demo_verdict(demo: DemoAttachment | Sequence[DemoAttachment]) -> str:
    """The group's verdict: "passed" only if every claim's run passed, "not verified" if any run
    was not, else "failed". The browser, terminal and Discord all decide a card's colour by it."""
    group = _as_group(demo)
    if group and all(d.passed for d in group):
        return "passed"
    if any(d.status.startswith("not verified") for d in group):
        return "not verified"
    return "failed"


def demo_badge(demo: DemoAttachment | Sequence[DemoAttachment]) -> str:
    """One line for a demo (or a group of one demo's claims): ✅ verified / ❌ failed / ⚠️ not verified."""
    group = _as_group(demo)
    checks = demo_checks(group)
    total, ok = len(checks), sum(c.passed for c in checks)
    verdict = demo_verdict(group)
    if verdict == "passed":
        return f"✅ verified — {ok}/{total} checks passed" if total else "✅ verified"
    if verdict == "not verified":
        return "⚠️ " + next(d.status for d in group if d.status.startswith("not verified"))
    failed = next((d.status for d in group if not d.passed), "failed")
    return f"❌ failed — {ok}/{total} checks passed" if total else f"❌ {failed or 'failed'}"


def _key_numbers(demo: DemoAttachment) -> list[list[str]]:
    rows = []
    for name, value in demo.metrics.items():
        # Long arrays are for the JSON output, not for a reader skimming a card.
        if isinstance(value, list | tuple) and len(value) > 6:
            continue
        rows.append([f"`{name}`", format_value(value)])
    return rows[:MAX_TABLE_ROWS]


def demo_card(demo: DemoAttachment | Sequence[DemoAttachment], *, expandable: bool = False) -> str:
    """A Markdown card: badge, the sentences it backs, a check table, key numbers, how to run it.

    What each check compares (its `detail`) goes under the table, in a `<details>` panel when
    `expandable` (it is long, and would squeeze the numbers in a table column).
    """
    group = _as_group(demo)
    first = group[0]
    claims = demo_claims(group)
    parts = [f"#### Demo `{first.name}` — {demo_badge(group)}"]
    if len(claims) == 1:
        parts.append(f"> {claims[0]}")
    else:
        parts.append("Backs these sentences:\n\n" + "\n".join(f"- {c}" for c in claims))
    if checks := demo_checks(group):
        checks = checks[:MAX_TABLE_ROWS]
        rows = [[f"{'✅' if c.passed else '❌'} `{c.name}`", format_value(c.value), format_value(c.reference)]
                for c in checks]
        parts.append(_table(["Check", "Value", "Reference"], rows))
        if details := "\n".join(f"- `{c.name}`: {c.detail}" for c in checks if c.detail):
            parts.append(_details("What each check compares", details) if expandable else details)
    if key := _key_numbers(first):
        parts.append("Key numbers:\n\n" + _table(["Metric", "Value"], key))
    parts.append(f"Run it yourself: `{first.run_command}`")
    return "\n\n".join(parts)


def _source_line(n: int, source: Source) -> str:
    return f"**[{n}]** *{escape_user_text(source.question.strip())}* — TA answer `{source.entry_id}`"


def _details(summary: str, body: str) -> str:
    # Blank lines around the body let the Markdown inside the HTML block render.
    return f"<details><summary>{summary}</summary>\n\n{body.strip()}\n\n</details>"


def _notices(answer: Answer) -> list[str]:
    return [f"> ℹ️ {escape_user_text(n)}" for n in answer.notices]


def abstention_markdown(answer: Answer) -> str:
    parts = [answer.answer.strip()]
    if answer.nearest:
        lines = [f"- *{escape_user_text(s.question.strip())}* (`{s.entry_id}`)" for s in answer.nearest]
        parts.append("**Closest topics I can answer:**\n\n" + "\n".join(lines))
    return "\n\n".join(parts + _notices(answer))


def answer_markdown(answer: Answer, *, expandable: bool = False) -> str:
    """The whole reply as Markdown: answer, notices, sources, demo cards.

    `expandable=True` adds the full TA answer under each source in a `<details>` panel (for
    the browser; Discord and terminals do not render HTML).
    """
    if answer.abstained:
        return abstention_markdown(answer)
    parts = [answer.answer.strip(), *_notices(answer)]
    if answer.sources:
        lines = []
        for n, source in enumerate(answer.sources, start=1):
            line = _source_line(n, source)
            if expandable and source.ta_answer.strip():
                line += "\n\n" + _details("Full TA answer", source.ta_answer)
            lines.append(line)
        parts.append("### Sources\n\n" + "\n\n".join(lines))
    if answer.demos:
        cards = [demo_card(group, expandable=expandable) for group in group_demos(answer.demos)]
        parts.append("### Demos\n\n" + "\n\n".join(cards))
    return "\n\n".join(p for p in parts if p)


_MD_MARK = re.compile(r"\*\*|__")


def answer_text(answer: Answer) -> str:
    """The reply for a terminal: no Markdown tables or HTML, PASS/FAIL words instead of icons."""
    lines = [_MD_MARK.sub("", answer.answer.strip())]
    lines += [f"note: {n}" for n in answer.notices]
    if answer.abstained:
        if answer.nearest:
            lines += ["", "Closest topics I can answer:"]
            lines += [f"  - {s.question.strip()} ({s.entry_id})" for s in answer.nearest]
        return "\n".join(lines)
    if answer.sources:
        lines += ["", "Sources:"]
        lines += [f"  [{n}] {s.question.strip()} ({s.entry_id}, score {s.score:.2f})"
                  for n, s in enumerate(answer.sources, start=1)]
    for group in group_demos(answer.demos):
        first = group[0]
        word = {"passed": "PASS", "not verified": "NOT VERIFIED"}.get(demo_verdict(group), "FAIL")
        lines += ["", f"Demo {first.name}: {word}"]
        lines += [f"  backs: {claim}" for claim in demo_claims(group)]
        lines += [f"  status: {d.status}" for d in group if d.status.startswith("not verified")][:1]
        for c in demo_checks(group):
            ref = f" (reference {format_value(c.reference)})" if c.reference is not None else ""
            lines.append(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: {format_value(c.value)}{ref}")
        lines.append(f"  run: {first.run_command}")
    return "\n".join(lines)
