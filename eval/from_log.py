"""Real traffic as a test set: `tabot eval --from-log FILE.csv`.

First run (FILE.csv does not exist): every distinct question in the question log is written to
FILE.csv with what the bot did (answered, entries shown, confidence) and an empty `expected`
column. Staff fill `expected` with the entry ids that should answer it (several joined by ";") or
`none` when the bot must decline; rows left empty are skipped. Second run: the labelled rows become
an eval dataset (`{"id", "question", "expected"}` JSONL beside the CSV) and tabot is evaluated on it.

The bot's own behaviour is in the CSV to help labelling, not as a label: copying the `shown` column
into `expected` would make the test set agree with the bot by construction.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection
from pathlib import Path

from bot.config import Settings
from bot.feedback import csv_cell, csv_text
from bot.question_log import QuestionLog
from eval.datasets import DatasetError

COLUMNS = ("id", "first_asked", "surface", "times_asked", "answered", "shown", "confidence", "question", "expected")
DECLINE = {"none", "-", "[]", "decline"}


def export_log(settings: Settings, path: Path) -> int:
    """Write the log's distinct questions (first asking first) to `path` for labelling; returns the count."""
    rows = QuestionLog.reader(settings).rows()
    first: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for row in rows:
        first.setdefault(row["question"], row)
        counts[row["question"]] = counts.get(row["question"], 0) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for text, row in first.items():
            writer.writerow([csv_cell(v) for v in (
                f"log-{row['id']}", row["created_at"], row["surface"], counts[text], row["answered"],
                row["entries"], row["confidence"], text, "")])
    return len(first)


def labelled_questions(path: Path, known_entries: Collection[str]) -> list[dict]:
    """The rows of a labelled CSV whose `expected` is filled in, as eval question records."""
    records = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("id", "question", "expected") if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path}: no column(s) {missing}; export a file to label with "
                               "`tabot eval --from-log NEW.csv`")
        for line, row in enumerate(reader, start=2):
            label = (row["expected"] or "").strip()
            if not label:
                continue
            expected = [] if label.lower() in DECLINE else [e for e in re.split(r"[;,\s]+", label) if e]
            unknown = [e for e in expected if e not in known_entries]
            if unknown:
                raise DatasetError(f"{path}:{line}: unknown entry id(s) {unknown} in 'expected'; use ids from "
                                   f"knowledge/answers/ separated by ';', or 'none' if the bot must decline")
            records.append({"id": csv_text(row["id"]), "question": csv_text(row["question"]), "expected": expected})
    if not records:
        raise DatasetError(f"{path}: no row has 'expected' filled in; label some (entry ids, or 'none') first")
    return records


def write_dataset(records: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
