"""The question log with a real SQLite file and the real engine (MiniLM, Chroma) on all three faces."""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.conversation import Conversation
from bot.faces.cli import main
from bot.faces.web import WebChat
from bot.feedback import FeedbackStore
from bot.pseudonyms import load_salt
from bot.question_log import QuestionLog, QuestionLogError
from tests.fake_tabot import FakeTabot, abstain_answer, kl_answer
from tests.test_discord import User, harness

DISCORD_ID = 712_345_678_901_234_567


def log_in(tmp_path: Path, **kwargs) -> QuestionLog:
    settings = Settings(data_dir=tmp_path, **kwargs)
    found = QuestionLog.from_settings(settings)
    assert found is not None
    return found


def test_web_discord_and_cli_are_logged_with_nothing_raw_that_names_a_student(
        tmp_path: Path, tabot, session_settings, monkeypatch, capsys) -> None:
    questions = log_in(tmp_path)
    store = FeedbackStore(tmp_path / "feedback.sqlite3")

    # The browser: a declined question, then a 👎 on an answered one (linked to its feedback row).
    chat = WebChat(tabot, store, None, questions)
    _, state, _, _ = chat.respond("how do transformers use positional encodings?", [], None)
    history, state, _, _ = chat.respond("why is KL divergence not symmetric", [], state)
    assert state.rate(len(history) - 1, -1, "too short") == "Thanks - your rating and comment were saved."

    # Discord: /ask by a user whose snowflake must never reach the file.
    async def discord_ask() -> None:
        h = harness(tmp_path, service=tabot)
        h.bot.questions = questions
        await h.bot.setup_hook()
        try:
            await h.ask("which log base should we use for cross entropy?", user=User(DISCORD_ID))
        finally:
            await h.bot.close()
    asyncio.run(discord_ask())

    rows = questions.rows()
    assert [(r["surface"], r["answered"]) for r in rows] == [("web", False), ("web", True), ("discord", True)]
    declined, rated, discord_row = rows
    assert declined["question"] == "how do transformers use positional encodings?"
    assert declined["entries"] == [] and 0 <= declined["confidence"] < tabot.threshold
    assert rated["entries"][0] == "kl-asymmetry" and rated["confidence"] >= tabot.threshold
    assert rated["rating"] == -1 and rated["feedback_id"] == store.rows()[0]["id"]
    assert discord_row["entries"] == ["log-base"] and discord_row["latency_ms"] > 0
    assert declined["user_hash"] == rated["user_hash"] != discord_row["user_hash"]  # one session, one student
    assert discord_row["user_hash"] == questions.pseudonym(str(DISCORD_ID))
    # The raw id, the browser's session token, appear nowhere in the file's bytes.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("questions.sqlite3*"))
    assert str(DISCORD_ID).encode() not in raw and state.session_user.encode() not in raw
    assert state.id.encode() not in raw

    # The CLI: `tabot ask` in the session data folder, surface "cli", the login name hashed.
    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    cli_log = log_in(session_settings.data_dir)
    before = len(cli_log.rows())
    assert main(["ask", "--json", "what does dropout do at test time? (cli log test)"]) == 0
    assert json.loads(capsys.readouterr().out)["abstained"] is True
    new = cli_log.rows()[before:]
    assert [(r["surface"], r["question"], r["answered"]) for r in new] == [
        ("cli", "what does dropout do at test time? (cli log test)", False)]
    assert new[0]["user_hash"] == cli_log.pseudonym("cli:" + getpass.getuser())
    cli_raw = b"".join(p.read_bytes() for p in session_settings.data_dir.glob("questions.sqlite3*"))
    assert f"cli:{getpass.getuser()}".encode() not in cli_raw


def test_logging_off_stores_nothing(tmp_path: Path, tabot, session_settings, monkeypatch, capsys) -> None:
    off = Settings(data_dir=tmp_path, log_questions=False)
    assert QuestionLog.from_settings(off) is None
    assert Settings.from_env({"TABOT_LOG_QUESTIONS": "false"}).log_questions is False
    chat = WebChat(tabot, FeedbackStore(off.feedback_db), None, QuestionLog.from_settings(off))
    _, state, _, _ = chat.respond("how do transformers use positional encodings?", [], None)
    assert state.rate(1, 1).startswith("Thanks")  # key 1: the reply after the first message
    # No question is kept (the salt may exist: the vote's user is stored as its pseudonym).
    assert not list(tmp_path.glob("questions.sqlite3*"))

    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    monkeypatch.setenv("TABOT_LOG_QUESTIONS", "false")
    reader = QuestionLog.reader(session_settings)
    before = len(reader.rows())
    assert main(["ask", "what does dropout do at test time? (logging off)"]) == 0
    capsys.readouterr()
    assert len(reader.rows()) == before


def test_retention_prunes_old_rows_on_the_next_write(tmp_path: Path) -> None:
    questions = log_in(tmp_path, log_retention_days=30)
    old = datetime.now(UTC) - timedelta(days=31)
    questions.record("web", abstain_answer("an old question"), user="a", when=old)
    questions.record("web", abstain_answer("a recent question"), user="a", when=old + timedelta(days=2))
    questions.record("cli", kl_answer("today"), user="b")
    assert [r["question"] for r in questions.rows()] == ["a recent question", "today"]
    assert [r["question"] for r in questions.rows(gaps_only=True)] == ["a recent question"]
    # "today" was answered at 0.91: under a higher bar it is an answer that said it was unsure.
    gaps = questions.rows(gaps_only=True, unsure_below=0.95)
    assert [(r["question"], r["unsure"]) for r in gaps] == [("a recent question", False), ("today", True)]
    assert [r["question"] for r in questions.rows(gaps_only=True, unsure_below=0.9)] == ["a recent question"]


def test_the_question_found_in_a_long_post_is_kept_and_an_older_log_gains_its_column(tmp_path: Path) -> None:
    import sqlite3
    from dataclasses import replace

    # A log as written before the question found in a long post was kept.
    with sqlite3.connect(Settings(data_dir=tmp_path).question_log_db) as conn:
        conn.execute("CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, "
                     "surface TEXT NOT NULL, user_hash TEXT, question TEXT NOT NULL, answered INTEGER NOT NULL, "
                     "confidence REAL, entries TEXT NOT NULL, latency_ms REAL, feedback_id INTEGER, rating INTEGER)")
        conn.execute("INSERT INTO questions (created_at, surface, question, answered, entries) "
                     "VALUES (?, 'web', 'an old question', 0, '[]')", (datetime.now(UTC).isoformat(),))
    conn.close()
    questions = log_in(tmp_path)
    long_post = abstain_answer("Some context about my project first. Then: is dropout on at test time?")
    questions.record("web", replace(long_post, asked="is dropout on at test time?"), user="a")
    questions.record("web", abstain_answer("is dropout on at test time?"), user="b")
    assert [(r["question"][:14], r["asked"]) for r in questions.rows()] == [
        ("an old questio", None), ("Some context a", "is dropout on at test time?"),
        ("is dropout on ", None)]


def test_salt_is_made_once_and_kept(tmp_path: Path) -> None:
    first = load_salt(tmp_path)
    assert load_salt(tmp_path) == first and len(first) == 32
    assert (tmp_path / "question_log.salt").stat().st_mode & 0o077 == 0  # the owner's only
    other = QuestionLog(tmp_path / "q.sqlite3", b"another salt, another course....")
    assert log_in(tmp_path).pseudonym("123") != other.pseudonym("123")


def test_a_damaged_log_is_moved_aside_on_write_and_one_line_on_read(tmp_path: Path) -> None:
    questions = log_in(tmp_path)
    questions.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(QuestionLogError) as error:
        questions.rows()
    assert "question log" in str(error.value) and "damaged" in str(error.value) and "\n" not in str(error.value)
    questions.record("web", abstain_answer("after the damage"))
    assert [r["question"] for r in questions.rows()] == ["after the damage"]
    assert list(tmp_path.glob("questions.sqlite3.corrupt-*"))


def test_a_log_that_fails_never_costs_the_answer(tmp_path: Path) -> None:
    class Broken:
        def record(self, *args, **kwargs) -> int:
            raise QuestionLogError("question log is on fire")

        def link_feedback(self, *args) -> None:
            raise AssertionError("never called: nothing was logged")

    talk = Conversation(FakeTabot(), FeedbackStore(tmp_path / "f.sqlite3"), "web", questions=Broken())
    turn = talk.ask("why is KL divergence not symmetric")
    assert turn.answer is not None and talk.rate(turn.key, 1).startswith("Thanks")


def test_students_are_told_their_questions_are_kept(tmp_path: Path) -> None:
    from bot.faces.discord.app import TabotCommands
    from bot.faces.web import LOG_NOTICE, build_app

    def texts(app) -> list[str]:
        return [str(getattr(block, "value", "")) for block in app.blocks.values()]

    store = FeedbackStore(tmp_path / "f.sqlite3")
    assert LOG_NOTICE in texts(build_app(FakeTabot(), store, None, log_in(tmp_path)))
    assert LOG_NOTICE not in texts(build_app(FakeTabot(), store, None, None))  # logging off: no such claim
    assert "kept for the course staff" in LOG_NOTICE
    description = TabotCommands.ask.description
    assert "questions are kept for course staff" in description and len(description) <= 100
