"""A question added on the side is not what a post asks.

Students end a post with whatever else is on their mind: "Why is KL divergence not symmetric? Which
Python version does the autograder run?", "... Thanks in advance! Is there any chance of an extension
on the lab?", "... Colab gave me no GPU all morning. Can we get extra time?". The post reader takes the
last question as the post's (`bot.search.reading.focus.focus_of`), and reads an add-on opened with "Also,",
"btw" or "P.S." as one; but most add-ons are attached some other way or not at all. Read as the post's
question, such an add-on cost in-scope calibration posts their answer more often than not: with one of
60 side questions written blind put after them (`python -m eval.context_check`, "held out: ..."),
answered and right fell from 0.966 to 0.41-0.45 when the add-on was opened otherwise, not opened at
all, or followed thanks or a sentence of its own (docs/real-phrasing.md, twenty-sixth session).

A TA reading such a post answers the question about the course and the add-on apart. So does the
retriever: when the post's question is further from everything the course holds (every TA answer's
question, aliases and sentences, and the near misses staff listed) than any question staff listed lies
from the rest of its own answer (`KnowledgeIndex.least_near`), and as far from every sentence the post
said before it, and the post asked a question before it that is not, that earlier question is the
post's. (An out-of-scope post's own question can be far from the course too, but it is about what the
post said.) The add-on stays one of the post's questions, and the answer says it was left out. The
measure is the knowledge base's own, so nothing here names a topic, an opener or a course, and a
question about deep learning near what the course covers (batch norm, warm-up) is not passed over: it
may be what the post asks, and the model decides about it as about any question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from bot.search.reading.focus import Post, sentences_of, stands_alone

Encode = Callable[[list[str]], np.ndarray]
Nearest = Callable[[list[np.ndarray]], list[float]]
# The sentences before an add-on that are compared with it, at most (the last ones): a long post's
# opening is rarely what a question at its end follows on from, and each costs the encoder.
MAX_SENTENCES_BEFORE = 16
# The earlier questions weighed, at most (the last ones): a post asks a few (no dataset post has more
# than four before its last), and a pasted wall of questions costs no more than this.
MAX_EARLIER_QUESTIONS = 8


def on_course_question(post: Post, encode: Encode, nearest: Nearest, floor: float | None,
                       focus_alone: np.ndarray | None = None) -> Post:
    """`post` with its last on-course question as its focus when its focus is an add-on: off the course
    (its `nearest` course text below `floor`) and off the post (no sentence before it that near); the
    focus passed over in `Post.passed_over`. Else `post` as it is. `focus_alone`: the focus's vector
    encoded alone, when the caller has it (`weighs_its_focus`)."""
    earlier = _weighed_against(post, floor)
    if not earlier:
        return post
    # The focus alone first: it is nearly always on the course, and then nothing else is encoded.
    focus = focus_alone if focus_alone is not None else np.asarray(encode([post.focus]), dtype=np.float32)[0]
    if nearest([focus])[0] >= floor:
        return post
    vectors = np.asarray(encode(earlier), dtype=np.float32)
    on_course = [question for question, cosine in zip(earlier, nearest(list(vectors)), strict=True)
                 if cosine >= floor]
    if not on_course:
        return post
    # A question far from the course may still be the post's own: an out-of-scope post asks about
    # something the course does not hold, and asks it about what it said before ("Is the example's
    # sign a typo?" after a sentence about the sign). An add-on is about nothing the post said.
    said = list(dict.fromkeys(sentences_of(post.prose[:post.prose.rfind(post.focus)])[-MAX_SENTENCES_BEFORE:]))
    if not said or float((np.asarray(encode(said), dtype=np.float32) @ focus).max()) >= floor:
        return post
    return replace(post, focus=on_course[-1], passed_over=post.focus)


def weighs_its_focus(post: Post, floor: float | None) -> bool:
    """Whether `on_course_question` encodes the post's focus alone to weigh it: a knowledge base to weigh
    it against, and an earlier question the post could be asking instead."""
    return bool(_weighed_against(post, floor))


def _weighed_against(post: Post, floor: float | None) -> list[str]:
    """The earlier questions the focus is weighed against: none without a knowledge base to weigh it
    against (no `floor`) or in a copied chat, whose messages are read one by one."""
    return [] if floor is None or post.messages else _earlier_questions(post)


def _earlier_questions(post: Post) -> list[str]:
    """The post's questions before its focus that stand alone as questions (enough content words of
    their own), in order. A line of a list is not one: "- try 3: 25 epochs -> 23% (worse??)" is a note
    of what the student tried."""
    end = post.prose.rfind(post.focus)
    if end < 0:
        return []
    return [question for question in post.questions
            if question not in post.focus and post.focus not in question
            and -1 < post.prose.find(question) < end
            and stands_alone(question) and not question.lstrip().startswith(("- ", "* ", "• "))
            ][-MAX_EARLIER_QUESTIONS:]
