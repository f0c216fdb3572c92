"""Greetings, thanks and goodbyes: a message with nothing to look up gets a short human reply.

"hi", "thanks!" and "ok, that helped" are not questions. Searched like one, a greeting was
declined as a question no TA answer covers, with three unrelated topics, and a "thanks!" after an
answer read as a follow-up and repeated the whole answer.
A message is small talk only when every word of it is a greeting, thanks, an acknowledgement, a
goodbye or a filler word, so anything that names a topic ("hi, why is KL not symmetric?",
"thanks, and the reverse one?") is searched as before.

The reply names no TA answer, so it counts as declined (`Answer.abstained`) wherever answers are
counted, and says which backend wrote it (`bot.schema.SMALL_TALK`, `Answer.is_small_talk`) so a
conversation keeps its last real answer for follow-ups and the staff's question log skips it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum

# Longer messages are questions with manners, not small talk.
MAX_WORDS = 12
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


class Kind(Enum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"


# Words that make a message small talk of a kind; the first kind found in THANKS, GOODBYE, GREETING
# order wins ("hi, thanks!" is thanks).
_SIGNALS: dict[Kind, frozenset[str]] = {
    Kind.THANKS: frozenset(
        "thanks thank thx ty tysm tyvm cheers appreciate appreciated helped helpful understood got sense ok "
        "okay kk alright gotcha".split()),
    Kind.GOODBYE: frozenset("bye goodbye byebye cya later goodnight night".split()),
    Kind.GREETING: frozenset(
        "hi hii hello hey heya hiya howdy yo greetings morning afternoon evening help question".split()),
}
# Words that may stand beside those without making the message a question.
_FILLER = frozenset(
    "a an the and so very much lot lots really again all everyone there team bot tabot ta tas prof professor "
    "sir friend good great nice "
    "cool awesome perfect wonderful brilliant amazing super fine it that that's this makes make clear now "
    "i i'm im we you your me my for with was is it's its answer answers reply see soon have day guys "
    "folks please can could would someone anyone quick ask something need oh ah haha lol yes yeah yep".split())


def small_talk(message: str) -> Kind | None:
    """The kind of small talk `message` is, or None when it has a word that could name a topic."""
    words = _WORD.findall(message.lower().replace("\u2019", "'"))
    if not words or len(words) > MAX_WORDS:
        return None
    if any(w not in _FILLER and not any(w in signals for signals in _SIGNALS.values()) for w in words):
        return None
    for kind, signals in _SIGNALS.items():
        if any(w in signals for w in words):
            return kind
    return None


# The thanks a message may open with before a question of its own ("thanks! and the reverse one?").
_OPENING_THANKS = re.compile(r"^\W*(?:thanks|thank you|thx|ok(?:ay)?|got it|i see|great|cool|nice)\b\W*",
                             re.IGNORECASE)


def without_opening_thanks(message: str) -> str:
    """`message` without the thanks it opens with (itself when that is all there is)."""
    return _OPENING_THANKS.sub("", message) or message


def small_talk_reply(kind: Kind, topics: Sequence[str]) -> str:
    """What the bot says back: never the student's own words, so nothing in it can ping or render."""
    if kind is Kind.THANKS:
        return "Glad to help! Ask another question whenever you like."
    if kind is Kind.GOODBYE:
        return "Bye, and good luck with the course!"
    listed = "\n".join(f"- {topic}" for topic in topics)
    return ("Hi! Ask me a question about the course: I answer from the TAs' own answers, cite them, and "
            "back their claims with demos that were run and checked."
            + (f"\n\nTopics I can answer:\n\n{listed}" if listed else ""))
