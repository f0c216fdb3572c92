"""A pattern tried only where it could match (`bot.search.reading.held_words`) finds what the pattern finds."""

from __future__ import annotations

import json
import re

import pytest

import bot.search.reading.page_furniture as page_furniture
import bot.search.reading.prose as prose
from bot.search.reading.held_words import HeldWords, held_strings
from eval.datasets import DATASETS_DIR


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"sign up", {"sign up"}),
    # the longest run of literals in a sequence; an optional part is no literal
    (r"\bclosed this as (?:completed|not planned)s?\b", {"closed this as "}),
    (r"\d+ answers?\)", {" answer"}),
    # every way of a branch holds one of its strings ...
    (r"bounty expires|(?:new|old) replies", {"bounty expires", " replies"}),
    (r"^\W*(?:closed|duplicate)\.\s", {"closed", "duplicate"}),
    (r"[:=]\s*\d", {":", "="}),
    (r"(?=.*epoch)\w+", {"epoch"}),
    (r"(?:ab)+c", {"ab"}),
    # ... or the pattern has a way to match that spells nothing: it is always tried
    (r"sign up|\d+", None),
    (r"(?:xy)?\d+", None),
    # a letter outside ASCII matches ASCII letters case-blind (the Kelvin sign a "k"): never held
    (r"\u212a", None),
])
def test_the_strings_every_match_holds_are_read_off_the_pattern(pattern: str, expected: set[str] | None) -> None:
    found = held_strings(re.compile(pattern, re.IGNORECASE))
    assert (set(found) if found is not None else None) == expected


def _lines() -> list[str]:
    """Every line of every dataset row: the posts and pages the readers meet."""
    lines = []
    for path in sorted(DATASETS_DIR.glob("*.jsonl")):
        for row in map(json.loads, path.read_text().splitlines()):
            if isinstance(row.get("question"), str):
                lines += row["question"].splitlines()
    return lines


# Lines that hold what the patterns look for, in other cases and beside letters outside ASCII.
CRAFTED = ["This question already has answers here:", "THE BOUNTY EXPIRES IN 3 DAYS", "Closed. This question",
           "Validation accuracy: 0.338244", "loss = 1.09, acc = 0.71", "_No response_", "naïve loss: 0.3",
           "Steps to reproduce the behavior", "sign up to join this community", "Sign up to join this \u212aommunity",
           "it only ta\u212aes a minute to sign up", "\u212aL: 0.1", "archived post. new comments cannot be posted"]


@pytest.mark.parametrize("name", ["_BOILERPLATE", "_FORM_BOILERPLATE", "_METRIC_FIELD"])
def test_a_held_words_pattern_finds_what_its_pattern_finds(name: str) -> None:
    wrapped = getattr(page_furniture, name, None) or getattr(prose, name)
    assert isinstance(wrapped, HeldWords) and wrapped.held is not None
    pattern = wrapped.pattern
    lines = _lines() + CRAFTED
    found = 0
    for line in lines:
        expected = pattern.search(line)
        got = wrapped.search(line)
        assert (got and got.span()) == (expected and expected.span()), line
        assert wrapped.subn(" ", line) == pattern.subn(" ", line), line
        found += expected is not None
    # The lines above do hold matches, and most lines are ruled out without the pattern.
    assert found >= 3
    assert sum(not wrapped.could_match(line) for line in lines) > len(lines) / 2
