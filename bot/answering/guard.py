"""Clean a question before it reaches retrieval: strip what is not text, bound its size.

Hostile or broken input (NUL bytes, control characters, 100 kB pastes, binary junk) must give
a normal answer or a polite abstention, never a crash. The question is only ever *searched*
with, never executed or rendered as HTML, so cleaning is about robustness, not sanitising.
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InputError
from bot.search.reading.glossary import mostly_other_script

EMPTY_MESSAGE = "Please type a question - for example: why is KL divergence not symmetric?"
# Control characters except tab, newline and carriage return; also lone surrogates that cannot be encoded.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
# The TA answers and MiniLM are English: a question written mostly in another script cannot be matched
# as it stands, and the student should hear that, not only "no TA answer covers this"
# (`bot.search.reading.glossary.mostly_other_script` says which; a post in Chinese is then read through the
# course's glossary). A language in the Latin alphabet is told by its words, once the post is read
# (`bot.search.reading.spelling.Speller.reads_as_other_language`).
OTHER_LANGUAGE_NOTICE = ("Your question seems to be written mostly in a language other than English. The TA "
                         "answers and the search model are English only, so I may miss what you ask: if you "
                         "can, please ask again in English.")


def _as_read(ch: str) -> str:
    """A character as it is searched: a format character (soft hyphen, zero-width space or joiner,
    byte-order mark, direction mark) is nothing; a letter in a presentation form (the ligature "ﬁ" a
    PDF's copy keeps, the mathematical italic "𝑥" of a copied formula, a fullwidth "Ａ") is the letters
    it stands for. Both come with text copied from a page or a paper and are invisible or look the
    same, but they split a word for every regex of the reader ("soft\\u00admax" is two words) and the
    encoder's tokenizer reads a ligature as an unknown piece. A space of another width (a page's
    no-break space `&nbsp;`, a thin or an ideographic space) is a space: a web page's code indented with
    no-break spaces is still indented. Sub- and superscripts ("x²", "ᵢ") stay as written: they are not
    letters in another form, and the formula's reading keeps them."""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    if category == "Zs":
        return " "
    if category in ("Ll", "Lu", "Lt"):
        return unicodedata.normalize("NFKC", ch)
    return ch


class _ReadAs(dict[int, str]):
    """`str.translate`'s table for `_as_read`, filled as characters come: a character seen before costs
    a lookup in C, not a Python call (a 100 kB paste in another script holds a few thousand distinct
    ones). Bounded, as a hostile paste can hold 100,000 distinct characters."""

    def __missing__(self, code: int) -> str:
        read = _as_read(chr(code))
        if len(self) < 65_536:
            self[code] = read
        return read


_READ_AS = _ReadAs()


def as_read(text: str) -> str:
    """`text` with each character as it is searched (`_as_read`); plain ASCII is returned as it is."""
    return text if text.isascii() else text.translate(_READ_AS)


def _indented(line: str) -> bool:
    """A line indented by four spaces or by any run holding a tab: code pasted without a fence
    (bot/search/reading/prose.py reads it so). String methods, not a regex: a 100 kB line of blanks must
    cost a scan, not a backtracking search."""
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    return bool(body) and ("\t" in indent or len(indent) >= 4)


def clean_question(text: object, max_chars: int) -> tuple[str, list[str]]:
    """Return (question fit for search, notices for the reader). Raises InputError when empty."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise InputError("Please send your question as text.")
    notices: list[str] = []
    cleaned = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    if cleaned != unicodedata.normalize("NFC", text):
        notices.append("I removed control characters from your message.")
    cleaned = as_read(cleaned)  # after the notice: what it changes is invisible or looks the same
    # Line breaks and indentation are kept (code, quotes and the question's own line are told apart
    # by them, see bot/search/reading/prose.py); runs of spaces and of blank lines are not.
    lines = [("    " if _indented(line) else "") + " ".join(line.split()) for line in cleaned.splitlines()]
    cleaned = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n").rstrip()
    if not cleaned.strip():
        raise InputError(EMPTY_MESSAGE)
    if not any(ch.isalnum() for ch in cleaned):
        raise InputError("I could not find any words in your message. " + EMPTY_MESSAGE)
    if len(cleaned) > max_chars:
        # Students put the question last, after the context: keep the start *and* the end.
        head = _cut(cleaned[: max_chars // 2], keep="start")
        tail = _cut(cleaned[-(max_chars - len(head) - 3):], keep="end")
        cleaned = f"{head}\n…\n{tail}"
        notices.append(f"Your message was long, so I searched with its first {len(head):,} and last "
                       f"{len(tail):,} characters.")
    # Read after the cut: a 100 kB paste costs this scan ~25 ms, the 2,000 characters searched well under 1.
    if mostly_other_script(cleaned):
        notices.append(OTHER_LANGUAGE_NOTICE)
    return cleaned, notices


def _cut(text: str, keep: str) -> str:
    """`text` trimmed to whole words at the cut side (the other side is the message's own edge)."""
    if keep == "start":
        return text.rsplit(" ", 1)[0] if " " in text else text
    return text.split(" ", 1)[1] if " " in text else text
