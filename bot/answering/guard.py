"""Clean a question before it reaches retrieval: strip what is not text, bound its size.

Hostile or broken input (NUL bytes, control characters, 100 kB pastes, binary junk) must give
a normal answer or a polite abstention, never a crash. The question is only ever *searched*
with, never executed or rendered as HTML, so cleaning is about robustness, not sanitising.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from bot.errors import InputError

EMPTY_MESSAGE = "Please type a question - for example: why is KL divergence not symmetric?"
# Control characters except tab, newline and carriage return; also lone surrogates that cannot be encoded.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
# The TA answers and MiniLM are English: a question written in another script cannot be matched, and
# the student should hear that, not only "no TA answer covers this". Counted in words, so a thread's
# Latin header or an English term does not hide a Chinese post and a Chinese name does not flag an
# English one: a run of Latin (or Cyrillic, Arabic, ...) letters is a word, a Chinese, Japanese or
# Korean character half of one (their words run one to three characters, unspaced). Greek and
# mathematical letters are formula symbols (σ, θ, 𝑥), not another language. A language in the Latin
# alphabet is told by its words, once the post is read (`bot.search.spelling.Speller.reads_as_other_language`).
OTHER_SCRIPT_SHARE = 0.3
OTHER_LANGUAGE_NOTICE = ("Your question seems to be written mostly in a language other than English. The TA "
                         "answers and the search model are English only, so I may miss what you ask: if you "
                         "can, please ask again in English.")


def _indented(line: str) -> bool:
    """A line indented by four spaces or by any run holding a tab: code pasted without a fence
    (bot/search/prose.py reads it so). String methods, not a regex: a 100 kB line of blanks must
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
    # Line breaks and indentation are kept (code, quotes and the question's own line are told apart
    # by them, see bot/search/prose.py); runs of spaces and of blank lines are not.
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
    if _mostly_other_script(cleaned):
        notices.append(OTHER_LANGUAGE_NOTICE)
    return cleaned, notices


def _script(ch: str) -> str:
    """"latin" (with formula letters), "cjk" or "other" for a letter; "" for anything else."""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    if name.startswith(("LATIN", "GREEK", "MATHEMATICAL")):
        return "latin"
    return "cjk" if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")) else "other"


def _mostly_other_script(text: str) -> bool:
    """Whether at least OTHER_SCRIPT_SHARE of the text's words are in a script other than Latin."""
    if text.isascii():  # every ASCII letter is Latin; the per-letter scan below cost ~0.4 ms a question
        return False
    latin = other = 0.0
    for script, run in itertools.groupby(text, key=_script):
        if script == "latin":
            latin += 1
        elif script == "cjk":
            other += len(list(run)) / 2
        elif script == "other":
            other += 1
    return latin + other >= 1.5 and other >= OTHER_SCRIPT_SHARE * (latin + other)


def _cut(text: str, keep: str) -> str:
    """`text` trimmed to whole words at the cut side (the other side is the message's own edge)."""
    if keep == "start":
        return text.rsplit(" ", 1)[0] if " " in text else text
    return text.split(" ", 1)[1] if " " in text else text
