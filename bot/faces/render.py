"""Render an `Answer` for people: the browser's answer card, and plain text for a terminal.

Pure functions, no I/O, so every front end shows the same thing and tests need no server. Both lay
out the card model of `bot.faces.cards`: answer, then sources, then one line per demo.

The browser card (`answer_markdown`) is Markdown with HTML blocks, shaped for a 360 px phone: the
answer's own sentences first; each source one footnote line that folds out to the full TA answer;
each demo one line (✅/❌/⚠️, name, "9/9 checks", its most telling number) that folds out to its
checks table, plot, key numbers and the "Run it yourself" download. Numbers sit in `<span class="n">`,
which the chat's CSS never breaks, so `1.333e-15` cannot wrap digit by digit; long vectors show their
first items and fold out to the rest. The HTML blocks contain no blank line, so Markdown never runs
inside them; the TA's LaTeX in claims and answers is still typeset by the chat (it runs on the text).

Trust boundary: text a user typed (the question, a comment, a student's question quoted as a
source) is escaped before it reaches any renderer: `escape_user_text` inside Markdown,
`html.escape` inside HTML, and the chat's echo of a question is `echo_html`, a `<pre>` block that
neither Markdown nor the LaTeX typesetter touches, so it shows exactly what was typed. TA text and
demo results come from course staff and this repo; front ends still sanitise HTML as a second line
of defence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.faces.cards import (
    DemoSummary,
    answer_body,
    cites_several,
    demo_checks,
    demo_claims,
    demo_summaries,
    demo_verdict,
    format_value,
    group_demos,
    not_verified_reason,
)
from bot.schema import Answer, CheckResult, Source, Verdict

# Backslash first, so the escapes added below are not themselves doubled.
_MD_ESCAPES = [("\\", "\\\\"), ("[", "\\["), ("]", "\\]"), ("`", "\\`")]
# `!` only matters right before `[` (image syntax), and `[` is escaped already; the entity
# escapes stop raw HTML, autolinks (`<http://…>`) and entity tricks (`&lt;` typed by the user).
_HTML_ESCAPES = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")]

SOURCE_LINE_CHARS = 110  # a footnote line, not a paragraph: the full question is in the fold-out
MAX_KEY_NUMBERS = 16  # a demo's metrics, folded away; the JSON output has them all
VECTOR_ITEMS = 3  # items of a list shown before "…" (the rest fold out)
MAX_VECTOR_ITEMS = 200  # more than this is for the JSON output, not a chat bubble
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|(?<![A-Za-z_])[-+]?(?:inf|nan)\b", re.IGNORECASE)


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


def echo_html(text: str) -> str:
    """A user's message as the chat shows it back: exactly the characters typed.

    A `<pre>` block is raw HTML to Markdown (CommonMark HTML block type 1: it ends only at `</pre>`,
    which escaped text cannot contain, so even blank lines stay inside), and `pre` is a tag the LaTeX
    typesetter skips, so headings, tables, links and `$$` maths typed by the user stay plain text.
    """
    return f'<pre class="tabot-echo">{html.escape(text, quote=False)}</pre>'


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def clip(text: str, limit: int) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _e(text: Any) -> str:
    """Escaped for HTML, on one line (a blank line would end the HTML block and start Markdown)."""
    return html.escape(_one_line(text))


def nowrap_numbers(escaped: str) -> str:
    """Wrap each number of already-escaped text in `<span class="n">` (CSS: never broken inside)."""
    return _NUMBER.sub(lambda m: f'<span class="n">{m.group(0)}</span>', escaped)


# --- values in a table cell -------------------------------------------------------------------------

def value_html(value: Any) -> str:
    """A demo value for a table cell: numbers to about four significant digits, none broken inside;
    a long vector shows its first items and folds out to the rest (up to MAX_VECTOR_ITEMS)."""
    if isinstance(value, Mapping):
        items = [f"{k}={format_value(v)}" for k, v in value.items()]
        opening, closing = "", ""
    elif isinstance(value, list | tuple):
        items = [format_value(v) for v in value]
        opening, closing = "[", "]"
    else:
        return nowrap_numbers(_e(format_value(value)))
    cells = [f'<span class="n">{_e(item)}</span>' for item in items]
    if len(cells) <= VECTOR_ITEMS + 1:
        return opening + ", ".join(cells) + closing
    shown = opening + ", ".join(cells[:VECTOR_ITEMS]) + ", …" + closing
    rest = ", ".join(cells[:MAX_VECTOR_ITEMS]) + (", …" if len(cells) > MAX_VECTOR_ITEMS else "")
    return (f'<details class="tabot-vec"><summary title="all {len(cells)} values">{shown} '
            f'<span class="tabot-muted">({len(cells)})</span></summary>{opening}{rest}{closing}</details>')


def _table(kind: str, header: Iterable[str], rows: list[list[str]]) -> str:
    """An HTML table whose first column is a name and the others values. The labels in each value
    cell are hidden on wide screens; on a phone the CSS stacks each row, name above its values."""
    header = list(header)
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = [f'<td class="tabot-name">{row[0]}</td>']
        cells += [f'<td class="tabot-val"><span class="tabot-lbl">{_e(label)} </span>{cell}</td>'
                  for label, cell in zip(header[1:], row[1:], strict=True)]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="tabot-table tabot-{kind}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


# --- sources ----------------------------------------------------------------------------------------

def _source_html(number: int, source: Source, numbered: bool) -> str:
    question = _one_line(source.question) or source.entry_id
    marker = f'<span class="tabot-fn">[{number}]</span> ' if numbered else ""
    summary = f"{marker}{html.escape(clip(question, SOURCE_LINE_CHARS))}"
    full = (f'<p class="tabot-muted">Student question: <i>{html.escape(question)}</i> · '
            f"TA answer <code>{_e(source.entry_id)}</code></p>")
    ta = source.ta_answer.strip() or "(the TA answer's text is not available)"
    # Blank lines around the TA's Markdown let it (and its LaTeX) render inside the fold-out.
    return f'<details class="tabot-source"><summary>{summary}</summary>\n{full}\n\n{ta}\n\n</details>'


def sources_markdown(answer: Answer) -> str:
    numbered = cites_several(answer)
    label = "Sources" if len(answer.sources) > 1 else "Source"
    lines = [_source_html(n, s, numbered) for n, s in enumerate(answer.sources, start=1)]
    return f'<p class="tabot-label">{label} · open for the TA\'s full answer</p>\n\n' + "\n\n".join(lines)


# --- demos ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoLinks:
    """Where a demo's files are served (URLs the face published), or why there is no script."""

    plot: str | None = None
    script: str | None = None
    notebook: str | None = None
    no_script: str = ""  # why there is no standalone script, if there is none


def _alt_text(summary: DemoSummary) -> str:
    claim = re.sub(r"\\[()\[\]]|\\(?=[|a-zA-Z])", "", summary.claims[0]) if summary.claims else ""
    return _one_line(f"Plot drawn by demo {summary.name}" + (f", which checks that {claim}" if claim else ""))


def _checks_html(checks: Iterable[CheckResult], verified: bool) -> str:
    rows = []
    for check in checks:
        # ✅ only for a check of a run made on this version of the code; a stale pass is ⚠️.
        icon = "❌" if not check.passed else ("✅" if verified else "⚠️")
        rows.append([f"{icon} <code>{_e(check.name)}</code>", value_html(check.value), value_html(check.reference)])
    return _table("checks", ["Check", "Value", "Reference"], rows)


def _run_html(summary: DemoSummary, links: DemoLinks) -> str:
    if links.script is None:
        why = f" ({_e(links.no_script)})" if links.no_script else ""
        return (f'<p class="tabot-run">Run it yourself: <code>python -m demos.{_e(summary.name)}</code> '
                f"in the course repository{why}</p>")
    name = f"{summary.name}.py"
    parts = [f'<a class="tabot-download" href="{_e(links.script)}" download="{_e(name)}">⬇ {_e(name)}</a>']
    if links.notebook:
        parts.append(f'<a href="{_e(links.notebook)}" download="{_e(summary.name)}.ipynb">notebook</a>')
    return (f'<p class="tabot-run">Run it yourself: {" · ".join(parts)}<br>'
            f'<span class="tabot-muted">needs Python 3.11+ and numpy: <code>python {_e(name)}</code></span></p>')


def demo_html(summary: DemoSummary, links: DemoLinks | None = None) -> str:
    """One demo: a one-line summary that folds out to what backs it. One HTML block, no blank line."""
    links = links or DemoLinks()
    verified = summary.verdict is not Verdict.NOT_VERIFIED
    line = (f'<span class="tabot-icon">{summary.icon}</span> <b>{_e(summary.name)}</b> · {_e(summary.count)}'
            + (f' · <span class="tabot-headline">{nowrap_numbers(_e(summary.headline))}</span>'
               if summary.headline else ""))
    body = []
    if len(summary.claims) == 1:
        body.append(f'<p class="tabot-claims">Backs: “{_e(summary.claims[0])}”</p>')
    elif summary.claims:
        body.append('<p class="tabot-claims">Backs these sentences:</p><ul class="tabot-claims">'
                    + "".join(f"<li>{_e(c)}</li>" for c in summary.claims) + "</ul>")
    if not verified:
        body.append(f"<p>⚠️ {_e(Verdict.NOT_VERIFIED)}: {_e(summary.reason)}</p>")
    if summary.checks:
        body.append(_checks_html(summary.checks, verified))
        if details := "".join(f"<li><code>{_e(c.name)}</code>: {_e(c.detail)}</li>"
                              for c in summary.checks if c.detail):
            body.append(f'<details class="tabot-what"><summary>What each check compares</summary><ul>{details}</ul>'
                        "</details>")
    if links.plot:
        body.append(f'<img class="tabot-plot" src="{_e(links.plot)}" alt="{_e(_alt_text(summary))}" loading="lazy">')
    if numbers := list(summary.metrics.items())[:MAX_KEY_NUMBERS]:
        rows = [[f"<code>{_e(name)}</code>", value_html(value)] for name, value in numbers]
        body.append('<p class="tabot-label">Key numbers</p>' + _table("numbers", ["Metric", "Value"], rows))
    body.append(_run_html(summary, links))
    verdict = str(summary.verdict).replace(" ", "-")
    return (f'<details class="tabot-demo tabot-{verdict}"><summary>{line}</summary>'
            f'<div class="tabot-demo-body">' + "\n".join(body) + "</div></details>")


def demos_markdown(answer: Answer, links: Mapping[str, DemoLinks] | None = None) -> str:
    cards = [demo_html(s, (links or {}).get(s.name)) for s in demo_summaries(answer.demos)]
    return '<p class="tabot-label">Checked by running code · open a demo for its numbers</p>\n\n' + "\n\n".join(cards)


# --- the whole reply --------------------------------------------------------------------------------

def _notices(answer: Answer) -> list[str]:
    """The notices, shown before the answer in every face: each says how to read what follows (a
    match the bot is unsure of, a question cut short, a follow-up, a script the model cannot read),
    and a student reads the top of a reply first."""
    return [f"> ℹ️ {escape_user_text(n)}" for n in answer.notices]


def abstention_markdown(answer: Answer) -> str:
    parts = [*_notices(answer), answer.answer.strip()]
    if answer.nearest:
        lines = [f"- *{escape_user_text(clip(s.topic, SOURCE_LINE_CHARS))}*" for s in answer.nearest]
        parts.append("**Closest topics I can answer:**\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def answer_markdown(answer: Answer, links: Mapping[str, DemoLinks] | None = None) -> str:
    """The browser's answer card: notices, answer, sources, demos - in that order.

    `links` maps a demo name to the URLs of its published plot and standalone script (the face
    publishes them; without links a demo card says how to run it from the course repository)."""
    if answer.abstained:
        return abstention_markdown(answer)
    parts = [*_notices(answer), answer_body(answer)]
    if answer.sources:
        parts.append(sources_markdown(answer))
    if answer.demos:
        parts.append(demos_markdown(answer, links))
    return "\n\n".join(p for p in parts if p)


_MD_MARK = re.compile(r"\*\*|__")


def answer_text(answer: Answer) -> str:
    """The reply for a terminal: no Markdown tables or HTML, PASS/FAIL words instead of icons."""
    lines = [f"note: {n}" for n in answer.notices]  # before the answer, as every face shows them
    lines.append(_MD_MARK.sub("", answer.answer.strip()))
    if answer.abstained:
        if answer.nearest:
            lines += ["", "Closest topics I can answer:"]
            lines += [f"  - {s.topic.strip()} ({s.entry_id})" for s in answer.nearest]
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
