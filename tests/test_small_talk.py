from pathlib import Path

import pytest

from bot.answering.small_talk import Kind, small_talk, small_talk_reply
from bot.conversation import NOT_RATABLE, Conversation
from bot.faces.discord.render import render_answer
from bot.feedback import FeedbackStore
from bot.question_log import QuestionLog
from bot.schema import SMALL_TALK


@pytest.mark.parametrize(("message", "kind"), [
    ("hi", Kind.GREETING),
    ("Hello there!", Kind.GREETING),
    ("hey, can you help me?", Kind.GREETING),
    ("I have a question", Kind.GREETING),
    ("help", Kind.GREETING),
    ("thanks!", Kind.THANKS),
    ("Thank you so much, that really helped", Kind.THANKS),
    ("Thanks TA!", Kind.THANKS),
    ("hi TAs, can someone help me?", Kind.GREETING),
    ("ok got it, makes sense now", Kind.THANKS),
    ("hi, thanks!", Kind.THANKS),
    ("bye!", Kind.GOODBYE),
    ("see you later", Kind.GOODBYE),
])
def test_messages_with_nothing_to_look_up_are_small_talk(message: str, kind: Kind) -> None:
    assert small_talk(message) is kind


@pytest.mark.parametrize("message", [
    "hi, why is KL divergence not symmetric?",
    "thanks, and the reverse one?",
    "can you help me with backprop",
    "what is a good learning rate",
    "ok so what is batch norm",
    "",
    "Hello! " + "thanks " * 20,  # past MAX_WORDS: a long message is read as a question
])
def test_anything_that_could_name_a_topic_is_searched(message: str) -> None:
    assert small_talk(message) is None


def test_the_reply_never_repeats_the_student() -> None:
    assert small_talk("hi @everyone") is Kind.GREETING
    for kind in Kind:
        reply = small_talk_reply(kind, ["which log base to use"])
        assert "@" not in reply and "everyone" not in reply
    assert "- which log base to use" in small_talk_reply(Kind.GREETING, ["which log base to use"])


def test_thanks_after_an_answer_neither_repeats_it_nor_breaks_the_follow_up(tabot, tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / "q.sqlite3", b"a salt for this test only........")
    talk = Conversation(tabot, FeedbackStore(tmp_path / "f.sqlite3"), surface="web", questions=log)
    first = talk.ask("why is kl divergence not symmetric")
    assert first.answer is not None and not first.answer.abstained
    thanks = talk.ask("thanks!")
    assert thanks.answer is not None and thanks.answer.abstained and thanks.answer.is_small_talk
    assert thanks.answer.to_json()["backend"] == SMALL_TALK == "small-talk"
    assert thanks.answer.sources == [] and thanks.answer.nearest == []
    assert "KL" not in thanks.answer.answer  # before: read as a follow-up, the whole answer again
    assert talk.rate(thanks.key, 1) == NOT_RATABLE and talk.rate(first.key, 1) != NOT_RATABLE
    assert not render_answer(thanks.answer)[0].feedback and render_answer(first.answer)[0].feedback
    why = talk.ask("why?")  # still about the answer before the thanks
    assert why.answer is not None and why.answer.entry_ids == ["kl-asymmetry"]
    assert [row["question"] for row in log.rows()] == ["why is kl divergence not symmetric", "why?"]


def test_a_greeting_is_greeted_not_declined(tabot) -> None:
    answer = tabot.ask("hi!")
    assert answer.abstained and answer.is_small_talk
    assert "I couldn't find a TA answer" not in answer.answer
    assert all(entry.title in answer.answer for entry in tabot.entries.values())
