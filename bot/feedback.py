"""Student feedback (👍/👎 and an optional comment) in one SQLite table, exportable for staff.

Each call opens its own short-lived connection: sqlite3 connections must not be shared
between threads, Gradio runs handlers in a thread pool, and the Discord bot may write to the
same file from another process. WAL mode plus a busy timeout lets those writers take turns
instead of failing with "database is locked".
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.schema import Answer

CHANNELS = ("web", "discord")
FORMATS = ("csv", "jsonl")
# Bounds on what one click can store, so a 100 kB question cannot bloat the database.
MAX_QUESTION_CHARS = 20_000
MAX_COMMENT_CHARS = 2_000

COLUMNS = ("id", "created_at", "channel", "user", "rating", "comment", "question", "abstained",
           "sources", "answer_markdown", "answer_json")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,            -- ISO 8601, UTC
    channel TEXT NOT NULL CHECK (channel IN ('web', 'discord')),
    user TEXT,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    sources TEXT NOT NULL,               -- JSON list of entry ids, best first
    answer_markdown TEXT NOT NULL,
    answer_json TEXT NOT NULL            -- Answer.to_json(), the fixed contract
)
"""

# Spreadsheet apps run a cell that starts with one of these as a formula; student text is
# untrusted, so the CSV export defuses it with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            conn.row_factory = sqlite3.Row
            if not self._ready:
                # WAL is a property of the file, so setting it once per process is enough.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
                conn.commit()
                self._ready = True
            with conn:  # commits on success, rolls back on error
                yield conn
        finally:
            conn.close()

    def record(self, channel: str, question: str, answer: Answer, rating: int,
               comment: str | None = None, user: str | None = None) -> int:
        """Store one rating; returns the new row id."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, not {channel!r}")
        if rating not in (1, -1):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        comment = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            channel,
            user,
            rating,
            comment,
            question[:MAX_QUESTION_CHARS],
            int(answer.abstained),
            json.dumps(answer.entry_ids),
            answer.answer,
            json.dumps(answer.to_json(), ensure_ascii=False),
        )
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, channel, user, rating, comment, question, abstained,"
                " sources, answer_markdown, answer_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid)

    def rows(self) -> list[dict[str, Any]]:
        """All feedback, oldest first; `sources` as a list, `answer_json` as a dict."""
        with self._connect() as conn:
            raw = conn.execute("SELECT * FROM feedback ORDER BY id").fetchall()
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
                    writer.writerow([_csv_cell(row[c]) for c in COLUMNS])
        return len(rows)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
