"""A pattern tried only on text that holds one of the strings every match of it holds.

Python's regular expressions try a long alternation ("is a question and answer site for|it only
takes a minute to sign up|...") at every position of a text, so a big list of a site's sentences
costs tens of microseconds per line, on every line of every post, though nearly no line holds any of
them. Each of its branches spells out a word ("sign up", "bounty", "answers"); a line that holds none
of those words cannot match, and a substring test says so in a fraction of the time.

The strings are read off the pattern itself (`held_strings`), so a branch added to a pattern brings
its own; a pattern with a branch that spells nothing is always tried. Only for ASCII text: there a
case-blind match of an ASCII letter is a match of its lower case, while in other text it also takes
the Kelvin sign for a "k" and the long s for an "s".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as sre  # the parser's op codes; stable across the 3.11+ versions this runs on
from re import _parser as sre_parse
from typing import Any


def held_strings(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Lower-case strings one of which every match of `pattern` holds, or None when the pattern has
    a way to match that spells no such string (then it must always be tried)."""
    return _of_sequence(sre_parse.parse(pattern.pattern, pattern.flags))


def _of_sequence(items: Any) -> frozenset[str] | None:
    """For a sequence of parsed items, the best set its items give: each consecutive run of literal
    characters is one (a set of one string), a group, a branch whose every way holds a set, a repeat
    of at least once, a lookahead; best is the set whose shortest string is longest."""
    best: frozenset[str] | None = None

    def consider(found: frozenset[str] | None) -> None:
        nonlocal best
        if found and (best is None or min(map(len, found)) > min(map(len, best))):
            best = found

    run: list[str] = []
    for op, value in [*items, (None, None)]:
        if op is sre.LITERAL and value < 128:
            run.append(chr(value).lower())
            continue
        if run:
            consider(frozenset(["".join(run)]))
            run = []
        if op is sre.SUBPATTERN:
            consider(_of_sequence(value[3]))
        elif op is sre.BRANCH:
            ways = [_of_sequence(way) for way in value[1]]
            consider(frozenset().union(*ways) if all(ways) else None)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and value[0] >= 1:
            consider(_of_sequence(value[2]))
        elif op is sre.ASSERT and value[0] == 1:  # a lookahead: the text holds what it looks for
            consider(_of_sequence(value[1]))
        elif op is sre.IN and all(kind is sre.LITERAL and char < 128 for kind, char in value):
            consider(frozenset(chr(char).lower() for _, char in value))
    return best


class HeldWords:
    """`pattern`, tried only on text that holds one of its `held_strings` (or is not ASCII): the same
    results as the pattern's own `search` and `subn`, without trying it where it cannot match."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        held = held_strings(pattern)
        # In a fixed order (a set's would change with the hash seed), the longer, rarer strings first.
        self.held = tuple(sorted(held, key=lambda string: (-len(string), string))) if held else None

    def could_match(self, text: str) -> bool:
        """False only where the pattern cannot match `text`."""
        return not text.isascii() or self.holds(text.lower())

    def holds(self, lowered: str) -> bool:
        """Whether an ASCII text, in lower case, holds one of the strings (or the pattern has none)."""
        if self.held is None:
            return True
        for string in self.held:  # a loop, not any(): for one string, a generator costs more than the test
            if string in lowered:
                return True
        return False

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.could_match(text) else None

    def subn(self, repl: str | Callable[[re.Match[str]], str], text: str) -> tuple[str, int]:
        return self.pattern.subn(repl, text) if self.could_match(text) else (text, 0)
