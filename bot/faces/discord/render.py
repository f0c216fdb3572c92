"""Pure formatting of an `Answer` for Discord: the messages to send, their embeds and files.

Nothing here talks to Discord; `bot/faces/discord/app.py` sends what `render_answer` returns. The
limits below are Discord's (https://discord.com/developers/docs/resources/message): a
message's content is 2000 characters (split in `bot/faces/discord/text.py`), its embeds together
6000 characters, at most 10 of them, each with at most 25 fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import discord

from bot.faces.cards import demo_badge, format_value, group_demos, key_numbers, summarise_demo
from bot.faces.discord.text import clip, escape_user, neutralise, one_line, split_text, to_discord_markdown
from bot.schema import Answer, CheckResult, DemoAttachment, Source, Verdict

EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
FILES_PER_MESSAGE = 10
# A source embed shows the start of the TA's answer, not all of it: the cited sentences are
# already in the reply, and a 4000-character wall per source buries them.
SOURCE_EXCERPT_CHARS = 1200
QUESTION_ECHO_CHARS = 300

SOURCE_COLOUR = discord.Colour.blurple()
PASS_COLOUR = discord.Colour.green()
FAIL_COLOUR = discord.Colour.red()
UNVERIFIED_COLOUR = discord.Colour.gold()
DEMO_COLOURS = {Verdict.PASSED: PASS_COLOUR, Verdict.FAILED: FAIL_COLOUR, Verdict.NOT_VERIFIED: UNVERIFIED_COLOUR}


# --- embeds -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileRef:
    """A file to attach; `discord_app` opens it at send time (a `discord.File` is single-use)."""

    path: str
    filename: str


@dataclass
class OutgoingMessage:
    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[FileRef] = field(default_factory=list)
    # Carries the 👍/👎 buttons.
    feedback: bool = False
    # ... and, under a decline, one button per closest topic: (entry id, its question).
    topics: list[tuple[str, str]] = field(default_factory=list)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Clip every part of `embed` to Discord's per-part limits and the 6000 total, in place.
    Fields that do not fit are dropped from the end and counted in a last "… N more" field."""
    if embed.title:
        embed.title = clip(embed.title, EMBED_TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, EMBED_DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER_LIMIT))
    kept = [(clip(f.name or "…", FIELD_NAME_LIMIT) or "…", clip(f.value or "…", FIELD_VALUE_LIMIT) or "…",
             bool(f.inline)) for f in embed.fields]
    hidden = max(len(kept) - FIELD_COUNT_LIMIT + 1, 0) if len(kept) > FIELD_COUNT_LIMIT else 0
    del kept[len(kept) - hidden:]

    def set_fields() -> None:
        embed.clear_fields()
        for name, value, inline in kept:
            embed.add_field(name=name, value=value, inline=inline)
        if hidden:
            embed.add_field(name="…", value=f"{hidden} more not shown", inline=False)

    set_fields()
    # Over the total: drop fields from the end first (the description holds the verdict), then
    # shorten the description.
    while len(embed) > EMBED_TOTAL_LIMIT and kept:
        kept.pop()
        hidden += 1
        set_fields()
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(len(embed.description) - excess, 0)) or None
    return embed


def source_embed(number: int, source: Source, cited: list[str]) -> discord.Embed:
    """Cited TA answer `[number]`; the title is the student's question the TA was answering."""
    text = source.ta_answer.strip() or " ".join(cited)
    embed = discord.Embed(
        title=f"[{number}] " + (neutralise(one_line(source.question)) or source.entry_id),
        description=clip(to_discord_markdown(text), SOURCE_EXCERPT_CHARS) or None,
        colour=SOURCE_COLOUR,
    )
    embed.set_footer(text=f"TA answer · {source.entry_id} · match {source.score:.0%}")
    return fit_embed(embed)


def _check_field(check: CheckResult, verified: bool) -> tuple[str, str]:
    # A check only shows ✅ when the demo ran on this version of its code; a stale pass is ⚠️.
    icon = "❌" if not check.passed else ("✅" if verified else "⚠️")
    parts = [check.detail] if check.detail else []
    if check.value is not None:
        parts.append(f"value {format_value(check.value)}")
    if check.reference is not None:
        parts.append(f"reference {format_value(check.reference)}")
    value = " · ".join(parts) or ("passed" if check.passed else "failed")
    return f"{icon} {check.name}", neutralise(value)


def plot_filename(demo: DemoAttachment) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", demo.name) + ".png"


def demo_embed(demo: DemoAttachment | Sequence[DemoAttachment]) -> tuple[discord.Embed, list[FileRef]]:
    """A demo's card: its verdict, the claims it backs, its checks (✅/❌ each), key numbers, how to
    run it, and its plot. Takes one attachment or a `cards.group_demos` group (one demo backing
    several sentences); what it says is the browser's card model (`cards.summarise_demo`), laid out
    as Discord's compact embed, so both faces agree on verdict, counts and the telling number."""
    group = (demo,) if isinstance(demo, DemoAttachment) else tuple(demo)
    summary = summarise_demo(group)
    badge = demo_badge(group)  # the browser's wording: "✅ verified — 2/2 checks passed", ...
    if summary.verdict is not Verdict.NOT_VERIFIED and summary.headline:
        badge += f" · {summary.headline}"
    claims = [to_discord_markdown(one_line(c)) for c in summary.claims]
    claim_text = f"**Claim:** {claims[0]}" if len(claims) == 1 else "**Claims:**\n" + "\n".join(
        f"• {c}" for c in claims)
    embed = discord.Embed(
        title=f"{summary.icon} Demo: {summary.name}",
        description=f"{claim_text}\n{badge}\nRun it yourself: `{group[0].run_command}`",
        colour=DEMO_COLOURS[summary.verdict],
    )
    for check in summary.checks:
        name, value = _check_field(check, verified=summary.verdict is not Verdict.NOT_VERIFIED)
        embed.add_field(name=name, value=value, inline=False)
    if numbers := "\n".join(f"`{name}` = {value}" for name, value in key_numbers(summary.metrics)):
        embed.add_field(name="Key numbers", value=neutralise(clip(numbers, FIELD_VALUE_LIMIT)), inline=False)
    files: list[FileRef] = []
    # One plot per card, from the run behind the first claim that has one.
    if plot := next((d.plot_path for d in group if d.plot_path and Path(d.plot_path).is_file()), None):
        files.append(FileRef(plot, plot_filename(group[0])))
        embed.set_image(url=f"attachment://{plot_filename(group[0])}")
    return fit_embed(embed), files


def pack_embeds(items: list[tuple[discord.Embed, list[FileRef]]]) -> list[tuple[list[discord.Embed], list[FileRef]]]:
    """Group embeds (each with its files) into messages: ≤10 embeds, ≤6000 characters, ≤10 files."""
    groups: list[tuple[list[discord.Embed], list[FileRef]]] = []
    size = 0
    for embed, files in items:
        if (not groups or len(groups[-1][0]) >= EMBEDS_PER_MESSAGE or size + len(embed) > EMBED_TOTAL_LIMIT
                or len(groups[-1][1]) + len(files) > FILES_PER_MESSAGE):
            groups.append(([], []))
            size = 0
        groups[-1][0].append(embed)
        groups[-1][1].extend(files)
        size += len(embed)
    return groups


# --- the whole reply ----------------------------------------------------------------------------

def quote_question(question: str) -> str:
    text = escape_user(clip(question.strip(), QUESTION_ECHO_CHARS))
    return "\n".join("> " + line for line in text.splitlines() if line.strip())


def _abstention(answer: Answer) -> list[str]:
    # The same parts as the browser's `render.abstention_markdown`, in Discord's markdown.
    parts = [to_discord_markdown(answer.answer.strip())]
    if answer.nearest:
        lines = [f"- *{escape_user(one_line(s.topic))}* (`{s.entry_id}`)" for s in answer.nearest]
        parts.append("**Closest topics I can answer:**\n" + "\n".join(lines))
    return parts


def answer_text(answer: Answer, *, echo_question: bool = False) -> str:
    """The reply's text: the question (for slash commands, where Discord does not show it), the
    notices as small print (each says how to read what follows: `bot.faces.render._notices`), and
    the answer or the abstention (nearest topics, forum hint)."""
    parts = [quote_question(answer.question)] if echo_question and answer.question.strip() else []
    parts.extend(f"-# ℹ️ {neutralise(one_line(notice))}" for notice in answer.notices)
    if answer.abstained:
        parts += _abstention(answer)
    else:
        parts.append(to_discord_markdown(answer.answer.strip()))
    return "\n\n".join(p for p in parts if p)


def render_answer(answer: Answer, *, echo_question: bool = False) -> list[OutgoingMessage]:
    """Everything to send for `answer`, in order. The first message carries the feedback buttons;
    the embeds (cited TA answers numbered as the `[n]` markers in the text, then demos) ride on the
    last text message and overflow into further messages."""
    text = answer_text(answer, echo_question=echo_question)
    messages = [OutgoingMessage(content=chunk) for chunk in split_text(text)]
    items: list[tuple[discord.Embed, list[FileRef]]] = []
    if not answer.abstained:
        for number, source in enumerate(answer.sources, start=1):
            cited = [s.text for s in answer.sentences if s.entry_id == source.entry_id]
            items.append((source_embed(number, source, cited), []))
    items.extend(demo_embed(group) for group in group_demos(answer.demos))
    groups = pack_embeds(items)
    if groups and messages:
        messages[-1].embeds, messages[-1].files = groups.pop(0)
    messages.extend(OutgoingMessage(embeds=embeds, files=files) for embeds, files in groups)
    if not messages:
        messages.append(OutgoingMessage(content="(The answer came back empty.)"))
    messages[0].feedback = not answer.is_small_talk  # a reply to "thanks!" has nothing to rate
    if answer.abstained:
        messages[0].topics = [(s.entry_id, s.topic) for s in answer.nearest]
    return messages
