"""Clean a question before it reaches retrieval: strip what is not text, bound its size.

Hostile or broken input (NUL bytes, control characters, 100 kB pastes, binary junk) must give
a normal answer or a polite abstention, never a crash. The question is only ever *searched*
with, never executed or rendered as HTML, so cleaning is about robustness, not sanitising.
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InputError

EMPTY_MESSAGE = "Please type a question - for example: why is KL divergence not symmetric?"
# Control characters except tab and newline; also lone surrogates that cannot be encoded.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


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
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InputError(EMPTY_MESSAGE)
    if not any(ch.isalnum() for ch in cleaned):
        raise InputError("I could not find any words in your message. " + EMPTY_MESSAGE)
    if len(cleaned) > max_chars:
        cleaned = cleaned[:max_chars].rsplit(" ", 1)[0] or cleaned[:max_chars]
        notices.append(f"Your message was long, so I searched with its first {len(cleaned):,} characters.")
    return cleaned, notices
