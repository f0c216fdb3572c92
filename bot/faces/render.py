"""Render an `Answer` for people: Markdown for the browser (and Discord), plain text for a terminal.

Pure functions, no I/O, so every front end shows the same thing and tests need no server.

Trust boundary: text a user typed (the question, a comment) goes through `escape_user_text`
before it reaches any Markdown renderer, so it is shown as text and never interpreted as HTML,
script, a link or an image. TA text and demo results come from course staff and this repo and
are rendered as Markdown (front ends still sanitise HTML as a second line of defence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.faces.cards import (
    MAX_TABLE_ROWS,
    demo_badge,
    demo_checks,
    demo_claims,
    demo_verdict,
    format_value,
    group_demos,
    key_numbers,
    not_verified_reason,
)
from bot.schema import Answer, DemoAttachment, Source, Verdict

# Backslash first, so the escapes added below are not themselves doubled.
_MD_ESCAPES = [("\\", "\\\\"), ("[", "\\["), ("]", "\\]"), ("`", "\\`")]
# `!` only matters right before `[` (image syntax), and `[` is escaped already; the entity
# escapes stop raw HTML, autolinks (`<http://…>`) and entity tricks (`&lt;` typed by the user).
_HTML_ESCAPES = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")]



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


def _cell(text: str) -> str:
    # A `|` or a newline would break the table row.
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: list[list[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def demo_card(demo: DemoAttachment | Sequence[DemoAttachment], *, expandable: bool = False) -> str:
    """A Markdown card: badge, the sentences it backs, a check table, key numbers, how to run it.

    What each check compares (its `detail`) goes under the table, in a `<details>` panel when
    `expandable` (it is long, and would squeeze the numbers in a table column).
    """
    group = (demo,) if isinstance(demo, DemoAttachment) else tuple(demo)
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
    if key := key_numbers(first.metrics):
        parts.append("Key numbers:\n\n" + _table(["Metric", "Value"], [[f"`{n}`", v] for n, v in key]))
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
        verdict = demo_verdict(group)
        word = {Verdict.PASSED: "PASS", Verdict.NOT_VERIFIED: "NOT VERIFIED"}.get(verdict, "FAIL")
        lines += ["", f"Demo {first.name}: {word}"]
        lines += [f"  backs: {claim}" for claim in demo_claims(group)]
        if verdict is Verdict.NOT_VERIFIED:
            lines.append(f"  status: {Verdict.NOT_VERIFIED}: {not_verified_reason(group)}")
        for c in demo_checks(group):
            ref = f" (reference {format_value(c.reference)})" if c.reference is not None else ""
            lines.append(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: {format_value(c.value)}{ref}")
        lines.append(f"  run: {first.run_command}")
    return "\n".join(lines)
