"""Load and validate the eval datasets (JSONL), failing with `file:line: what is wrong`.

Question sets: one `{"id", "question", "expected": [entry ids]}` per line; `expected: []`
means the bot must decline. Support sets (for the faithfulness scorer's meta-evaluation):
`{"id", "entry_id", "sentence", "label": "supported"|"unsupported", "kind"}`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import InputError

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
# The committed test sets the report (and the CI gate) runs on. calibration.jsonl and dev.jsonl
# are deliberately absent: thresholds and aliases were tuned on them.
TEST_SETS = ("in_scope", "out_of_scope", "off_topic", "injection", "real_posts:test", "real_posts_noisy",
             "real_posts_fresh", "real_posts_typed", "real_posts_math")
# The blind development sets: questions in shapes students write (short, abbreviated, said as statements,
# in formulas, copied with a page's noise, naming two of the course's topics at once, no tidier than real
# posts, quoting as they do, in Chinese), each written by a helper who saw neither the bot nor any eval
# row and judged again blind (eval/datasets/README.md). They measure a change to the reader before the
# test sets are run as a veto; nothing is fitted on them.
# `python -m eval --development` runs them.
DEVELOPMENT_SETS = ("short_dev", "abbreviated_dev", "abbreviated_dev_2", "statements_dev", "math_dev", "noisy_dev",
                    "two_topic_dev", "unpolished_dev", "unpolished_dev_2", "chinese_dev", "quoting_dev")
# The abstention rule is fitted on both: the short synthetic set and the real-phrasing rows whose
# thread fell on the calibration side (eval/datasets/README.md).
CALIBRATION_SETS = ("calibration", "real_posts:calibration")
CALIBRATION_SET = "calibration"
REAL_POSTS = "real_posts"
REAL_SPLITS = ("calibration", "test")
SUPPORT_DEV = "support_dev"
SUPPORT_META = "support_meta"
LABELS = ("supported", "unsupported")


class DatasetError(InputError):
    """A dataset file is missing or malformed; the message names the file and line.

    An InputError, so `tabot eval` exits 2 (bad input), like the CLI does for a bad batch file."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected: tuple[str, ...]  # entry ids; empty = the bot must decline
    split: str = ""  # the file it came from, e.g. "in_scope"
    source: str = ""  # the real post a real-phrasing row follows (its thread), else ""

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)


@dataclass(frozen=True)
class SupportRow:
    id: str
    entry_id: str
    sentence: str
    label: str  # "supported" | "unsupported"
    kind: str  # verbatim, paraphrase, swap, negation, number, other_entry, invented, ...

    @property
    def supported(self) -> bool:
        return self.label == "supported"


def real_split(source: str) -> str:
    """The side of the split a real-phrasing row falls on: a function of its thread's address only,
    so rows following one thread never straddle calibration and test."""
    return "calibration" if hashlib.sha256(source.encode("utf-8")).digest()[0] < 128 else "test"


def _split_name(name_or_path: str | Path) -> tuple[str | Path, str | None]:
    """("real_posts", "test") for "real_posts:test"; (name, None) for anything else."""
    if isinstance(name_or_path, str) and ":" in name_or_path and not Path(name_or_path).exists():
        name, _, split = name_or_path.rpartition(":")
        if split in REAL_SPLITS:
            return name, split
    return name_or_path, None


def dataset_path(name_or_path: str | Path) -> Path:
    """A committed set by name ("in_scope", "real_posts:test") or any file path."""
    name_or_path, _ = _split_name(name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".jsonl" or path.exists():
        return path
    return DATASETS_DIR / f"{name_or_path}.jsonl"


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DatasetError(f"{path}: dataset file not found")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{path}:{number}: each line must be a JSON object")
        out.append((number, record))
    if not out:
        raise DatasetError(f"{path}: no rows")
    return out


def _text(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{where}: '{key}' must be a non-empty string")
    return value


def _check_ids(seen: dict[str, int], row_id: str, where: str, number: int) -> None:
    if row_id in seen:
        raise DatasetError(f"{where}: duplicate id {row_id!r} (first on line {seen[row_id]})")
    seen[row_id] = number


def load_questions(name_or_path: str | Path, known_entries: Collection[str] | None = None) -> list[Question]:
    """Questions of one file; with `known_entries`, every expected id must be one of them.

    "real_posts:test" / "real_posts:calibration" load one side of a file whose rows carry a `source`
    and a `split`; the split must be the one `real_split` gives that source. A test-only file's rows
    (real_posts_noisy) carry a `source` and no `split`."""
    _, wanted = _split_name(name_or_path)
    path = dataset_path(name_or_path)
    split = path.stem if wanted is None else f"{path.stem}:{wanted}"
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, record in _records(path):
        where = f"{path}:{number}"
        missing = [k for k in ("id", "question", "expected") if k not in record]
        if missing:
            raise DatasetError(f"{where}: missing field(s) {missing}; each line needs id, question, expected")
        row_id = _text(record, "id", where)
        expected = record["expected"]
        if not isinstance(expected, list) or not all(isinstance(e, str) and e for e in expected):
            raise DatasetError(f"{where}: 'expected' must be a list of entry ids ([] = must decline)")
        if known_entries is not None:
            unknown = [e for e in expected if e not in known_entries]
            if unknown:
                raise DatasetError(f"{where}: unknown entry id(s) {unknown}; known: {sorted(known_entries)}")
        _check_ids(seen, row_id, where, number)
        source = ""
        if "source" in record:
            source = _text(record, "source", where)
            # real_posts' rows carry the split of their thread; a test-only file's rows (real_posts_noisy)
            # carry none, and no side of it can be asked for.
            if "split" in record or wanted is not None:
                if record.get("split") != real_split(source):
                    raise DatasetError(f"{where}: split must be {real_split(source)!r} for source {source[:80]!r} "
                                       "(eval.datasets.real_split: the split follows the thread)")
                if wanted is not None and record["split"] != wanted:
                    continue
        elif wanted is not None:
            raise DatasetError(f"{where}: a split was asked for ({wanted}) but the row has no 'source'")
        questions.append(Question(row_id, _text(record, "question", where), tuple(expected), split, source))
    return questions


def load_question_sets(names: list[str | Path], known_entries: Collection[str] | None = None) -> list[Question]:
    """Several files in order; ids must be unique across them too."""
    questions: list[Question] = []
    seen: dict[str, str] = {}
    for name in names:
        for question in load_questions(name, known_entries):
            if question.id in seen:
                raise DatasetError(f"{dataset_path(name)}: id {question.id!r} also in {seen[question.id]}")
            seen[question.id] = str(dataset_path(name))
            questions.append(question)
    return questions


def load_support_rows(name_or_path: str | Path, known_entries: Collection[str] | None = None) -> list[SupportRow]:
    """Labelled sentences for the support scorer's meta-evaluation."""
    path = dataset_path(name_or_path)
    rows: list[SupportRow] = []
    seen: dict[str, int] = {}
    for number, record in _records(path):
        where = f"{path}:{number}"
        row_id = _text(record, "id", where)
        entry_id = _text(record, "entry_id", where)
        if known_entries is not None and entry_id not in known_entries:
            raise DatasetError(f"{where}: unknown entry id {entry_id!r}")
        label = _text(record, "label", where)
        if label not in LABELS:
            raise DatasetError(f"{where}: label must be one of {list(LABELS)}, not {label!r}")
        _check_ids(seen, row_id, where, number)
        rows.append(SupportRow(row_id, entry_id, _text(record, "sentence", where), label,
                               _text(record, "kind", where)))
    return rows


def shape_tags(name_or_path: str | Path = REAL_POSTS) -> dict[str, tuple[str, ...]]:
    """Per row id, the `shape` tags a real-phrasing file gives its rows (what each post does: `long`,
    `formula`, `title-line`, ...; eval/datasets/README.md)."""
    path = dataset_path(name_or_path)
    tags: dict[str, tuple[str, ...]] = {}
    for number, record in _records(path):
        shape = record.get("shape", [])
        if not isinstance(shape, list) or not all(isinstance(tag, str) for tag in shape):
            raise DatasetError(f"{path}:{number}: 'shape' must be a list of strings")
        tags[_text(record, "id", f"{path}:{number}")] = tuple(shape)
    return tags


LABEL_AUDIT = "label_audit"


def label_certainty(name_or_path: str | Path = LABEL_AUDIT) -> dict[str, bool]:
    """Per row id the label audit judged again, whether its blind judge was sure of the decision
    (eval/datasets/README.md, "Label audit"); empty when the file is absent."""
    path = dataset_path(name_or_path)
    if not path.is_file():
        return {}
    certainty: dict[str, bool] = {}
    for number, record in _records(path):
        where = f"{path}:{number}"
        if not isinstance(record.get("sure"), bool):
            raise DatasetError(f"{where}: 'sure' must be true or false")
        certainty[_text(record, "id", where)] = record["sure"]
    return certainty
