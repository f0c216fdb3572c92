"""One student's conversation with tabot, the same on every face.

The browser keeps one `Conversation` per session, Discord one per thread (or DM), the CLI one per
command. It holds what a conversation needs and a face should not re-invent: the previous answer
(so "why?" is a follow-up), the answers shown so far under the key the face gave them (so a 👍 on
any earlier one is stored with the right answer, once per person), and the texts a student sees
when there is no answer (empty input, a failure). A face is then a thin handler: call `ask`, render
the `Turn`; call `rate`, show the line it returns.

It is also the one place a question is logged for staff (`bot.question_log.QuestionLog`), on every
face: the web and Discord ask through it, and `tabot ask` logs through `log_question`.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

from bot.answering.guard import EMPTY_MESSAGE
from bot.errors import TabotError
from bot.schema import Answer

log = logging.getLogger(__name__)

FAILURE_TEXT = ("Sorry - something went wrong while answering. It has been logged; please try again in a "
                "moment, or ask on the course forum.")
NOT_RATABLE = "Only answers can be rated."
# Per conversation; a long-running Discord thread must not grow memory without bound.
MAX_REMEMBERED = 500


class AnswerService(Protocol):
    """What a conversation needs of `bot.service.Tabot` (tests pass a hand-written fake)."""

    def ask(self, question: object, previous: Answer | None = None) -> Answer: ...


class FeedbackRecorder(Protocol):
    """What a conversation needs of `bot.feedback.FeedbackStore`."""

    def record(self, channel: str, question: str, answer: Answer, rating: int,
               comment: str | None = None, user: str | None = None, answer_id: str | None = None) -> int: ...


class QuestionRecorder(Protocol):
    """What a conversation needs of `bot.question_log.QuestionLog`."""

    def record(self, surface: str, answer: Answer, user: str | None = None) -> int: ...
    def link_feedback(self, row_id: int, feedback_id: int, rating: int) -> None: ...


def log_question(questions: QuestionRecorder | None, surface: str, answer: Answer, user: str | None) -> int | None:
    """Log one answer; a log that cannot be written costs a log line, never the student's answer.
    Small talk ("thanks!") is not logged: it is nothing staff could write an answer for."""
    if questions is None or answer.is_small_talk:
        return None
    try:
        return questions.record(surface, answer, user=user)
    except Exception:
        log.exception("logging the question failed")
        return None


@dataclass(frozen=True)
class Turn:
    """One reply: an `Answer` to render, or (when there is none) a one-line `text` for the student."""

    key: Hashable | None  # what `rate` takes for this answer; None when there is nothing to rate
    answer: Answer | None = None
    text: str = ""


def error_line(error: BaseException) -> str:
    """What a student is told about an error: a TabotError's own first line, else FAILURE_TEXT."""
    if isinstance(error, TabotError):
        return (str(error).strip().splitlines() or [FAILURE_TEXT])[0][:300]
    return FAILURE_TEXT


class Conversation:
    def __init__(self, service: AnswerService, feedback: FeedbackRecorder | None = None,
                 surface: str = "web", questions: QuestionRecorder | None = None) -> None:
        self.service = service
        self.feedback = feedback
        self.questions = questions  # the question log; None when TABOT_LOG_QUESTIONS is off
        self.surface = surface  # the feedback store's channel: "web" or "discord"
        self.previous: Answer | None = None
        self._shown: OrderedDict[Hashable, Answer] = OrderedDict()
        self._votes: OrderedDict[tuple[Hashable, str | None], int] = OrderedDict()
        self._logged: OrderedDict[Hashable, int] = OrderedDict()  # answer key -> its question-log row
        self.id = secrets.token_hex(8)  # with a face's key, names an answer in the feedback store
        # The rater on a face without accounts (the browser): one key per session, so the store's
        # one-vote-per-person-per-answer holds there too (a new click replaces the old one).
        self.session_user = f"{surface}-session-{self.id}"

    def ask(self, message: object, key: Hashable | None = None, user: str | None = None) -> Turn:
        """Answer `message` as the next turn; `key` names the answer for `rate` (default: a new token);
        `user` is who asked (a Discord id; the session when None), logged only as a salted hash."""
        if message is None or (isinstance(message, str) and not message.strip()):
            return Turn(None, text=EMPTY_MESSAGE)
        try:
            answer = self.service.ask(message, previous=self.previous)
        except TabotError as error:
            log.info("could not answer %r: %s", str(message)[:200], error)
            return Turn(None, text=error_line(error))
        except Exception:
            # The traceback goes to the server log; the student gets one short line.
            log.exception("answering failed for %r", str(message)[:200])
            return Turn(None, text=FAILURE_TEXT)
        if not answer.is_small_talk:
            self.previous = answer  # a "why?" after "thanks!" still asks about the last answer
        key = secrets.token_hex(8) if key is None else key
        remember(self._shown, key, answer, MAX_REMEMBERED)
        row = log_question(self.questions, self.surface, answer, self.session_user if user is None else user)
        if row is not None:
            remember(self._logged, key, row, MAX_REMEMBERED)
        return Turn(key, answer=answer)

    def answer_for(self, key: Hashable) -> Answer | None:
        return self._shown.get(key)

    def demo_names(self) -> list[str]:
        """Every demo attached to an answer in this conversation, first seen first."""
        return list(dict.fromkeys(d.name for answer in self._shown.values() for d in answer.demos))

    def rate(self, key: Hashable, rating: int, comment: str | None = None, user: str | None = None) -> str:
        """Store a 👍 (+1) or 👎 (-1) for the answer shown under `key`; returns the line to show."""
        answer = self._shown.get(key)
        if answer is None or answer.is_small_talk:  # "Glad to help!" is not a TA answer to rate
            return NOT_RATABLE
        if self.feedback is None:
            return "Feedback is not being collected here."
        user = self.session_user if user is None else user
        if self._votes.get((key, user)) == rating and not (comment or "").strip():
            return "You already rated this answer - thanks!"
        try:
            feedback_id = self.feedback.record(self.surface, answer.question, answer, rating, comment=comment,
                                               user=user, answer_id=f"{self.id}:{key}")
        except Exception:
            log.exception("storing feedback failed")
            return "Sorry - your feedback could not be saved just now."
        if self.questions is not None and key in self._logged:
            try:
                self.questions.link_feedback(self._logged[key], feedback_id, rating)
            except Exception:  # the rating itself is saved; only the log's cross-reference is missing
                log.exception("linking feedback to the question log failed")
        remember(self._votes, (key, user), rating, MAX_REMEMBERED)
        if (comment or "").strip():
            return "Thanks - your rating and comment were saved."
        return "Thanks for the feedback " + ("👍" if rating > 0 else "👎 - the TAs will see this one.")


def remember(store: OrderedDict, key: Hashable, value: object, limit: int) -> None:
    """Put `key` in `store` as its newest item, dropping the oldest beyond `limit` (bounded memory)."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)
