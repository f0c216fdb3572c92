"""Student feedback (👍/👎 and an optional comment) in one SQLite table, exportable for staff.

Each call opens its own short-lived connection: sqlite3 connections must not be shared
between threads, Gradio runs handlers in a thread pool, and the Discord bot may write to the
same file from another process. WAL mode plus a busy timeout lets those writers take turns
instead of failing with "database is locked".

The store checks itself on every call, not once per process: a data folder deleted under a
running chat is recreated with the table at the next click, and a damaged file (not a database,
malformed) is moved aside as `feedback.sqlite3.corrupt-<time>`, with a logged warning, and a new
one started, so one bad file never stops every later vote. Reading (export) never moves anything:
a damaged file is a one-line `FeedbackStoreError` saying what happened and what to do.

One vote per person per answer: a rating that names its `answer_id` and `user` replaces that
person's earlier rating of that answer (a unique key on channel, user and answer id, and an upsert),
so clicking 👍👎👍 a hundred times leaves one row holding the last click.

`user` is stored as its pseudonym (`bot.pseudonyms`, the question log's salt), never as the raw
Discord id or session id: one vote per person still holds (the pseudonym is the same every time),
and the same student's question-log rows carry the same value. A file written before that held raw
ids; the first connection replaces them (schema version 1, `PRAGMA user_version`).
"""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import FeedbackStoreError, TabotError
from bot.pseudonyms import load_salt, pseudonym
from bot.schema import Answer

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNELS = ("web", "discord")
FORMATS = ("csv", "jsonl")
# Bounds on what one click can store, so a 100 kB question cannot bloat the database.
# A storage bound, not the search bound (TABOT_MAX_QUESTION_CHARS cuts what is searched, and a
# stored question is the cleaned one): it only keeps one row from bloating the database.
MAX_STORED_QUESTION_CHARS = 20_000
MAX_COMMENT_CHARS = 2_000

COLUMNS = ("id", "created_at", "channel", "user", "rating", "comment", "question", "abstained",
           "sources", "answer_markdown", "answer_json", "answer_id")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,            -- ISO 8601, UTC
    channel TEXT NOT NULL CHECK (channel IN ('web', 'discord')),
    user TEXT,                           -- the voter's pseudonym (bot.pseudonyms), never the raw id
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    sources TEXT NOT NULL,               -- JSON list of entry ids, best first
    answer_markdown TEXT NOT NULL,
    answer_json TEXT NOT NULL,           -- Answer.to_json(), the fixed contract
    answer_id TEXT                       -- the conversation's name for the answer rated (NULL: unnamed)
)
"""
# NULLs are distinct in a UNIQUE index, so unnamed answers or anonymous raters never collide.
_ONE_VOTE = "CREATE UNIQUE INDEX IF NOT EXISTS feedback_one_vote ON feedback (channel, user, answer_id)"
_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
# `PRAGMA user_version` of a feedback file whose `user` column holds pseudonyms.
_PSEUDONYMS_VERSION = 1

# Spreadsheet apps run a cell that starts with one of these as a formula; student text is
# untrusted, so the CSV export defuses it with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SQLiteStore(ABC):
    """A small SQLite file that repairs itself on every write (shared by feedback and the question log).

    Subclasses give `label` (how errors name the file), `error_type` (their one-line TabotError) and
    `_prepare(conn)` (their CREATE TABLE IF NOT EXISTS and migrations), run on every connection.
    """

    label = "database"
    error_type: type[TabotError] = TabotError

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @abstractmethod
    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the store's tables if missing (run on every connection, so a dropped table heals)."""

    @staticmethod
    def _add_column(conn: sqlite3.Connection, table: str, column: str, kind: str) -> None:
        """Add `column` to a file written before it existed (NULL for its rows). The chat and the Discord
        bot may open one file at the same moment: the one that finds it already added lets it be."""
        def present() -> bool:
            return column in {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}

        if present():
            return
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError:
            if not present():
                raise

    def _open(self) -> sqlite3.Connection:
        # Every time: the data folder may have been deleted since the last call.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            conn.row_factory = sqlite3.Row
            _use_wal(conn)
            self._prepare(conn)
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = self._open()
        try:
            with conn:  # commits on success, rolls back on error
                yield conn
        finally:
            conn.close()

    def _run(self, work: Callable[[sqlite3.Connection], T], *, repair: bool) -> T:
        """`work` in a transaction; a damaged file is moved aside and `work` retried once (if `repair`)."""
        for attempt in (1, 2):
            try:
                with self._connect() as conn:
                    return work(conn)
            except sqlite3.DatabaseError as error:
                if repair and attempt == 1 and getattr(error, "sqlite_errorname", "") in _CORRUPT:
                    self._move_aside(error)
                    continue
                raise self._error(error) from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _move_aside(self, error: sqlite3.DatabaseError) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        kept = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        self.path.replace(kept)
        for suffix in ("-wal", "-shm"):  # the journal of the damaged file belongs to it, not to the new one
            companion = self.path.with_name(self.path.name + suffix)
            if companion.exists():
                companion.replace(kept.with_name(kept.name + suffix))
        log.warning("%s %s was damaged (%s); moved it to %s and started a new one", self.label, self.path, error, kept)

    def _error(self, error: sqlite3.DatabaseError) -> TabotError:
        name = getattr(error, "sqlite_errorname", "")
        if name in _CORRUPT:
            why = ("is damaged ({error}) - the next write moves it aside and starts a new one; "
                   "`sqlite3 FILE .recover` may rescue its rows")
        elif name == "SQLITE_FULL" or "disk is full" in str(error):
            why = "cannot be written: the disk is full - free some space"
        else:
            why = "cannot be used ({error}) - check the data folder and its permissions (TABOT_DATA_DIR)"
        return self.error_type(f"{self.label} {self.path} " + why.format(error=error))


# Switching a file to WAL answers "database is locked" at once, without the busy timeout, when another
# connection opens the same new file at that moment (1 run in ~40 of tests/test_feedback.py's
# eight-thread test failed so). The mode is stored in the file, so it is switched once and only
# checked after that; the switch itself is retried for up to a second.
_WAL_TRIES = 50
_WAL_PAUSE_S = 0.02


def _use_wal(conn: sqlite3.Connection) -> None:
    for attempt in range(_WAL_TRIES):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorname", "") != "SQLITE_BUSY" or attempt == _WAL_TRIES - 1:
                raise
            time.sleep(_WAL_PAUSE_S)


class FeedbackStore(SQLiteStore):
    label = "feedback database"
    error_type = FeedbackStoreError

    def __init__(self, path: Path, salt: bytes | None = None) -> None:
        super().__init__(path)
        self._salt = salt  # None: the salt of the folder the file is in, read when first needed

    @property
    def salt(self) -> bytes:
        if self._salt is None:
            self._salt = load_salt(self.path.parent)
        return self._salt

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute(_SCHEMA)
        self._add_column(conn, "feedback", "answer_id", "TEXT")  # a file from before one-vote
        conn.execute(_ONE_VOTE)
        if conn.execute("PRAGMA user_version").fetchone()[0] < _PSEUDONYMS_VERSION:
            # A file from before pseudonyms holds raw ids: replace them, once. Under the write lock,
            # and the version read again there: the chat and the Discord bot may open the file at
            # the same moment, and hashing a pseudonym a second time would split a voter in two.
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
            if conn.execute("PRAGMA user_version").fetchone()[0] < _PSEUDONYMS_VERSION:
                salt = self.salt
                conn.create_function("pseudonym", 1, lambda user: pseudonym(salt, user), deterministic=True)
                conn.execute("UPDATE feedback SET user = pseudonym(user) WHERE user IS NOT NULL")
                conn.execute(f"PRAGMA user_version = {_PSEUDONYMS_VERSION}")

    def record(self, channel: str, question: str, answer: Answer, rating: int,
               comment: str | None = None, user: str | None = None, answer_id: str | None = None) -> int:
        """Store one rating; returns its row id. With `user` and `answer_id`, it replaces that
        person's earlier rating of that answer (a comment left before is kept if none is given)."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, not {channel!r}")
        if rating not in (1, -1):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        comment = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            channel,
            pseudonym(self.salt, user),
            rating,
            comment,
            question[:MAX_STORED_QUESTION_CHARS],
            int(answer.abstained),
            json.dumps(answer.entry_ids),
            answer.answer,
            json.dumps(answer.to_json(), ensure_ascii=False),
            answer_id,
        )

        def upsert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, channel, user, rating, comment, question, abstained,"
                " sources, answer_markdown, answer_json, answer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel, user, answer_id) DO UPDATE SET created_at = excluded.created_at,"
                " rating = excluded.rating, comment = COALESCE(excluded.comment, feedback.comment)"
                " RETURNING id", row)
            return int(cur.fetchone()[0])

        return self._run(upsert, repair=True)

    def rows(self) -> list[dict[str, Any]]:
        """All feedback, oldest first; `sources` as a list, `answer_json` as a dict."""
        raw = self._run(lambda conn: conn.execute("SELECT * FROM feedback ORDER BY id").fetchall(), repair=False)
        out = []
        for r in raw:
            row = {c: r[c] for c in COLUMNS}  # a fixed column order for the exports
            row["abstained"] = bool(row["abstained"])
            row["sources"] = json.loads(row["sources"])
            row["answer_json"] = json.loads(row["answer_json"])
            out.append(row)
        return out

    def export(self, path: Path, fmt: str = "csv") -> int:
        """Write all feedback to `path` as CSV or JSONL; returns the number of rows written."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
        rows = self.rows()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as f:
            if fmt == "jsonl":
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                writer = csv.writer(f)
                writer.writerow(COLUMNS)
                for row in rows:
                    writer.writerow([csv_cell(row[c]) for c in COLUMNS])
        return len(rows)


def csv_cell(value: Any) -> Any:
    """A value as a spreadsheet-safe CSV cell (lists joined by ";"; formulas defused; `csv_text` undoes it)."""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(cell: str) -> str:
    """The text `csv_cell` wrote: the apostrophe put before a would-be formula is taken off again."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell
