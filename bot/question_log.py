"""The question log: what students asked on every face, kept for course staff (`tabot gaps`).

One row per answered or declined question: the text as the input guard left it (`Answer.question`),
the surface (web, discord, cli), a salted hash of the asker, the time, whether it was answered, the
calibrated confidence, the entries shown, the latency, and later the 👍/👎 it got (the feedback row's
id and the rating). Nothing raw that identifies a student is stored: a Discord user id or a browser
session becomes its pseudonym (`bot.pseudonyms`: HMAC-SHA256 under a salt made once per data
folder), so two questions by one student share a hash (staff can count distinct students) but a
hash cannot be turned back into an id by trying every Discord id without the salt.

The store is the feedback database's kind of file (`bot.feedback.SQLiteStore`): it repairs itself
on every write and its errors are one line. Logging must never cost a student an answer, so the
`Conversation` calls it inside a guard that only logs a failure. A second table caches each
distinct question's MiniLM vector, so `tabot gaps` embeds a question once, not on every run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.errors import TabotError
from bot.feedback import MAX_STORED_QUESTION_CHARS, SQLiteStore
from bot.pseudonyms import load_salt, pseudonym
from bot.schema import Answer

SURFACES = ("web", "discord", "cli")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,            -- ISO 8601, UTC
    surface TEXT NOT NULL CHECK (surface IN ('web', 'discord', 'cli')),
    user_hash TEXT,                      -- HMAC-SHA256(salt, user or session), never the raw id
    question TEXT NOT NULL,              -- as asked, after the input guard
    answered INTEGER NOT NULL,
    confidence REAL,                     -- calibrated confidence of the best entry (shown or nearest)
    entries TEXT NOT NULL,               -- JSON list of the entry ids shown, best first
    latency_ms REAL,
    feedback_id INTEGER,                 -- the row in feedback.sqlite3 this answer's rating went to
    rating INTEGER,                      -- that rating (+1 / -1), copied so gaps need not open two files
    asked TEXT                           -- the question found in a long post (`Answer.asked`), else NULL
)
"""
_INDEXES = ("CREATE INDEX IF NOT EXISTS questions_time ON questions (created_at)",)
_VECTORS = """
CREATE TABLE IF NOT EXISTS vectors (
    text_hash TEXT PRIMARY KEY,          -- sha256 of the question text
    vector BLOB NOT NULL                 -- float32 MiniLM embedding
)
"""


class QuestionLogError(TabotError):
    """The question log cannot be read or written (damaged, or a full disk)."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class QuestionLog(SQLiteStore):
    label = "question log"
    error_type = QuestionLogError

    def __init__(self, path: Path, salt: bytes, retention_days: float | None = None) -> None:
        super().__init__(path)
        self._salt = salt
        self.retention_days = retention_days

    @classmethod
    def from_settings(cls, settings: Settings) -> QuestionLog | None:
        """The log `settings` ask for; None when TABOT_LOG_QUESTIONS is off (nothing is stored)."""
        if not settings.log_questions:
            return None
        return cls(settings.question_log_db, load_salt(settings.data_dir), settings.log_retention_days)

    @classmethod
    def reader(cls, settings: Settings) -> QuestionLog:
        """The log for staff commands, which read it whether or not new questions are being logged."""
        return cls(settings.question_log_db, load_salt(settings.data_dir), settings.log_retention_days)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute(_SCHEMA)
        self._add_column(conn, "questions", "asked", "TEXT")  # a log from before the found question was kept
        for statement in _INDEXES:
            conn.execute(statement)
        conn.execute(_VECTORS)

    def pseudonym(self, user: str | None) -> str | None:
        return pseudonym(self._salt, user)

    # ----------------------------------------------------------------------------- writing

    def record(self, surface: str, answer: Answer, user: str | None = None,
               when: datetime | None = None) -> int:
        """Log one answered or declined question; returns its row id (for `link_feedback`)."""
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {SURFACES}, not {surface!r}")
        best = answer.sources[:1] or answer.nearest[:1]
        row = ((when or datetime.now(UTC)).isoformat(timespec="seconds"), surface, self.pseudonym(user),
               answer.question[:MAX_STORED_QUESTION_CHARS], int(not answer.abstained),
               round(best[0].score, 4) if best else None, json.dumps(answer.entry_ids),
               answer.timings_ms.get("total"), answer.asked[:MAX_STORED_QUESTION_CHARS] or None)

        def insert(conn: sqlite3.Connection) -> int:
            if self.retention_days is not None:
                cutoff = datetime.now(UTC) - timedelta(days=self.retention_days)
                conn.execute("DELETE FROM questions WHERE created_at < ?", (cutoff.isoformat(timespec="seconds"),))
            cur = conn.execute("INSERT INTO questions (created_at, surface, user_hash, question, answered,"
                               " confidence, entries, latency_ms, asked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                               " RETURNING id", row)
            return int(cur.fetchone()[0])

        return self._run(insert, repair=True)

    def link_feedback(self, row_id: int, feedback_id: int, rating: int) -> None:
        """Note the feedback row (and its rating) the answer logged as `row_id` got."""
        self._run(lambda conn: conn.execute("UPDATE questions SET feedback_id = ?, rating = ? WHERE id = ?",
                                            (feedback_id, rating, row_id)), repair=True)

    # ----------------------------------------------------------------------------- reading

    def rows(self, gaps_only: bool = False, unsure_below: float | None = None) -> list[dict[str, Any]]:
        """Logged questions oldest first; with `gaps_only`, what staff should look at: the declined
        questions, the answers rated 👎 and, with `unsure_below`, the answers given at a confidence
        under it (the bar under which an answer tells the student it may not cover the question; a
        follow-up keeps the confidence of the answer it follows). Each row's `unsure` says whether it
        is such an answer."""
        bar = -1.0 if unsure_below is None else unsure_below  # a confidence is never below -1: none unsure
        sql, params = (("SELECT * FROM questions WHERE answered = 0 OR rating = -1 OR confidence < ? ORDER BY id",
                        (bar,)) if gaps_only else ("SELECT * FROM questions ORDER BY id", ()))
        raw = self._run(lambda conn: conn.execute(sql, params).fetchall(), repair=False)
        return [{**dict(r), "answered": bool(r["answered"]), "entries": json.loads(r["entries"]),
                 "unsure": bool(r["answered"]) and r["confidence"] is not None and r["confidence"] < bar}
                for r in raw]

    def cached_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """{text: vector} for the texts whose vector was stored before."""
        hashes = {text_hash(t): t for t in texts}
        found: dict[str, np.ndarray] = {}

        def read(conn: sqlite3.Connection) -> None:
            # One scan of the table (50,000 vectors read in well under a second) instead of IN lists.
            for key, blob in conn.execute("SELECT text_hash, vector FROM vectors"):
                if key in hashes:
                    found[hashes[key]] = np.frombuffer(blob, dtype=np.float32)

        self._run(read, repair=False)
        return found

    def store_vectors(self, vectors: dict[str, np.ndarray], keep: list[str] | None = None) -> None:
        """Cache `vectors`; with `keep`, drop every cached vector of a text not in it (a pruned or
        no longer relevant question leaves nothing behind)."""
        rows = [(text_hash(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            if keep is not None:
                kept = {text_hash(t) for t in keep}
                stale = [(k,) for (k,) in conn.execute("SELECT text_hash FROM vectors") if k not in kept]
                conn.executemany("DELETE FROM vectors WHERE text_hash = ?", stale)

        self._run(write, repair=True)
