"""Pure text handling for Discord: mentions made inert, LaTeX as code, and long text split
under the 2000-character message limit at the most natural boundary available.

Nothing here talks to Discord; `bot/faces/discord/render.py` builds whole replies from these pieces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import discord

MESSAGE_LIMIT = 2000
THREAD_NAME_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
ZWSP = "\u200b"

# `@everyone`, `@here`, and `<@id>` / `<@!id>` / `<@&id>`: a zero-width space after the `@` keeps
# the text readable but stops Discord from parsing a mention. `allowed_mentions=none()` on every
# send is the real guard; this makes the text inert even if it is ever quoted or re-sent. No word
# boundary after everyone/here: Discord's own parser has none, so `@everyone_x` and `@here123` ping.
_MENTION_RE = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
_FENCE = "```"


def neutralise(text: str) -> str:
    """Make every user, role, `@everyone` and `@here` mention in `text` inert."""
    return _MENTION_RE.sub("@" + ZWSP, text)


def _outside_code(text: str, transform: Callable[[str], str]) -> str:
    """Apply `transform` to the parts of `text` that are not code spans or fenced blocks."""
    parts = re.split(r"(```.*?```|`[^`\n]*`)", text, flags=re.DOTALL)
    return "".join(part if i % 2 else transform(part) for i, part in enumerate(parts))


# What a message's raw content writes for what Discord's client shows as a picture, a name or a date:
# custom emoji (`<:thonk:123...>`, animated `<a:...>`), mentions of users, roles and channels
# (`<@123...>`, `<@!...>`, `<@&...>`, `<#...>`) and timestamps (`<t:1764950400:R>`); and for a link to a
# slash command, its name (`</ask:123...>`). Discord's ids are snowflakes, 17 to 20 digits today.
_SHOWN_AS_PICTURE_NAME_OR_DATE = re.compile(r"<a?:\w{2,32}:\d{15,21}>|<(?:@[!&]?|#)\d{15,21}>"
                                            r"|<t:-?\d{1,16}(?::[tTdDfFsSR])?>")
_COMMAND_LINK = re.compile(r"</([\w-]{1,32}(?: [\w-]{1,32}){0,2}):\d{15,21}>")
# A spoiler's bars stand at the edges of the words they hide (`||is adam second order?||`); bars inside
# a formula or an expression are not a spoiler's (`KL(p||q) vs KL(q||p)`, `a || b`). The words between
# are a line's worth at most, so an unclosed bar costs a short look, not the rest of the message.
_SPOILER = re.compile(r"(?<!\S)\|\|(?=\S)([^|\n]{1,500}?)(?<=\S)\|\|(?!\S)")


def as_read(content: str) -> str:
    """A message's raw content as the question a student asked in it: what the client shows as a
    picture, a name or a date left out (a TA reading the channel sees a face or a name there, no words
    of the question), a link to a command as the command's name, and a spoiler's words without its
    bars. Code is read as written."""
    def read(text: str) -> str:
        text = _SHOWN_AS_PICTURE_NAME_OR_DATE.sub(" ", text)
        return _SPOILER.sub(r"\1", _COMMAND_LINK.sub(r"/\1", text))

    return _outside_code(content, read)


# The LaTeX commands common in TA answers, as the Unicode a reader would write by hand.
_LATEX_SYMBOLS = {
    r"\|": "‖", r"\in": "∈", r"\times": "×", r"\mathbb{R}": "ℝ", r"\cdot": "·", r"\sum": "∑",
    r"\partial": "∂", r"\nabla": "∇", r"\approx": "≈", r"\neq": "≠", r"\leq": "≤", r"\geq": "≥",
    r"\infty": "∞", r"\to": "→", r"\rightarrow": "→", r"\sigma": "σ", r"\mu": "μ", r"\theta": "θ",
    r"\log": "log", r"\exp": "exp",
}
_LATEX_FONT_RE = re.compile(r"\\math(?:cal|bf|rm|it|sf)\{([^{}]*)\}")  # \mathcal{L} -> L
_LATEX_RE = re.compile("|".join(re.escape(k) + (r"(?![A-Za-z])" if k[-1].isalpha() else "")
                                for k in sorted(_LATEX_SYMBOLS, key=len, reverse=True)))


def _math_to_code(text: str) -> str:
    # Discord renders no LaTeX, and its markdown would eat `\(` and turn `x_i ... y_j` into
    # italics; a code span shows the TA's notation, with common symbols as Unicode (KL(p‖q)).
    def code(match: re.Match[str]) -> str:
        math = _LATEX_RE.sub(lambda m: _LATEX_SYMBOLS[m.group(0)], " ".join(match.group(1).split()))
        math = _LATEX_FONT_RE.sub(r"\1", math)
        return "`" + math.replace("`", "'") + "`"

    text = re.sub(r"\$\$(.+?)\$\$", code, text, flags=re.DOTALL)
    text = re.sub(r"\\\[(.+?)\\\]", code, text, flags=re.DOTALL)
    return re.sub(r"\\\((.+?)\\\)", code, text, flags=re.DOTALL)


def to_discord_markdown(text: str) -> str:
    """Answer markdown as Discord shows it: LaTeX in code spans, mentions inert."""
    return neutralise(_outside_code(text, _math_to_code))


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a sentence or word end where one is near."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit < 8:
        return text[:limit]
    for budget in (limit - 1, limit - 1 - len("\n```")):
        cut = _cut_at_boundary(text, budget)
        if cut.count(_FENCE) % 2 == 0:
            return cut + "…"
    # The cut still lands inside a code block: close it so the rest of the message renders.
    return cut + "\n```…"


def _cut_at_boundary(text: str, budget: int) -> str:
    head = text[:budget]
    if len(text) > budget and not text[budget].isspace():
        sentence = max(head.rfind(". "), head.rfind("? "), head.rfind("! "), head.rfind("\n"))
        if sentence >= budget // 2:
            return head[: sentence + 1].rstrip()
        space = max(head.rfind(" "), head.rfind("\n"))
        if space >= budget // 2:
            return head[:space].rstrip()
    return head.rstrip()


# --- splitting long text ------------------------------------------------------------------------

def _blocks(text: str) -> list[str]:
    """Paragraphs (split at blank lines), with each fenced code block kept whole as one block."""
    blocks: list[str] = []
    current: list[str] = []
    in_code = False

    def flush() -> None:
        if current and "\n".join(current).strip():
            blocks.append("\n".join(current).strip("\n"))
        current.clear()

    for line in text.split("\n"):
        fences = line.count(_FENCE)
        if not in_code and fences % 2 == 1:
            flush()  # a code block always starts its own block
            current.append(line)
            in_code = True
        elif in_code:
            current.append(line)
            if fences % 2 == 1:
                flush()
                in_code = False
        elif not line.strip():
            flush()
        else:
            current.append(line)
    if in_code and current:
        current.append(_FENCE)  # close a block the text left open
    flush()
    return blocks


def _pack(pieces: Iterable[str], joiner: str, limit: int) -> list[str]:
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + len(joiner) + len(piece) <= limit:
            chunks[-1] += joiner + piece
        else:
            chunks.append(piece)
    return chunks


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _sentences(text: str) -> list[str]:
    # Cut after . ! ? followed by whitespace, but never inside an inline code span.
    out, start = [], 0
    for match in re.finditer(r"(?<=[.!?])\s+", text):
        if text[:match.start()].count("`") % 2 == 0:
            out.append(text[start:match.start()])
            start = match.end()
    out.append(text[start:])
    return [s for s in out if s]


def _words(text: str) -> list[str]:
    return [w for w in text.split(" ") if w]


# Coarse to fine: a paragraph is split into lines, a line into sentences, a sentence into words;
# only a single word longer than the limit is ever cut in the middle.
_LEVELS: list[tuple[str, Callable[[str], list[str]]]] = [("\n", _lines), (" ", _sentences), (" ", _words)]


def _split_prose(text: str, limit: int, level: int = 0) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level == len(_LEVELS):
        return [text[i:i + limit] for i in range(0, len(text), limit)]
    joiner, splitter = _LEVELS[level]
    parts = splitter(text)
    if len(parts) <= 1:
        return _split_prose(text, limit, level + 1)
    pieces: list[str] = []
    for part in parts:
        pieces.extend(_split_prose(part, limit, level + 1))
    # Greedy packing never re-joins two pieces of one over-long part: each piece is as large as fits.
    return _pack(pieces, joiner, limit)


def _split_code(block: str, limit: int) -> list[str]:
    """A fenced block too long for one message, as several fenced blocks with the same language."""
    lines = block.split("\n")
    opening = lines[0].strip()
    if not opening.startswith(_FENCE) or opening.count(_FENCE) > 1:
        opening = _FENCE
    body = lines[1:-1] if lines[-1].strip().endswith(_FENCE) else lines[1:]
    budget = limit - len(opening) - len("\n\n" + _FENCE)
    pieces: list[str] = []
    for line in body:
        pieces.extend(line[i:i + budget] for i in range(0, max(len(line), 1), budget))
    return [f"{opening}\n{chunk}\n{_FENCE}" for chunk in _pack(pieces, "\n", budget)]


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` as chunks of at most `limit` characters, split at paragraph, line, sentence or word
    boundaries, and never inside a code block unless the block alone is longer than `limit`
    (then each piece is re-fenced)."""
    pieces: list[str] = []
    for block in _blocks(text):
        if len(block) <= limit:
            pieces.append(block)
        elif block.startswith(_FENCE):
            pieces.extend(_split_code(block, limit))
        else:
            pieces.extend(_split_prose(block, limit))
    return [chunk for chunk in _pack(pieces, "\n\n", limit) if chunk.strip()]


def escape_user(text: str) -> str:
    """Text someone typed, shown literally: no markdown (links, headings, code), no mentions."""
    return neutralise(discord.utils.escape_markdown(text))


def thread_name(question: str) -> str:
    """A thread title from the question: one line without quote marks, at most 100 characters, no pings."""
    return clip(neutralise(one_line(_QUOTE_MARKS.sub("", question))), THREAD_NAME_LIMIT) or "Question"


_QUOTE_MARKS = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)


def with_the_message_replied_to(replied: str, question: str) -> str:
    """A reply read as a TA reads one: the message it replies to quoted above the student's words, so that
    "can you answer this?" asks what it quotes and a question of their own is read with the quote as
    context, not as their words (`bot.search.reading.focus.read_post`). With no words of their own (a reply that
    only mentions the bot), the message replied to is the question."""
    if not question.strip():
        return replied
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in replied.splitlines())
    return f"{quoted}\n\n{question}"
