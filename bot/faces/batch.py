"""`tabot ask --batch FILE --json`: one JSON record per input line, whatever the line holds.

A batch must never die on one line or lose the lines after it. So the file is read as bytes and
split on "\\n" only (`str.splitlines` would also split inside a JSON string holding a raw U+2028),
a leading byte-order mark is dropped, and every line is decoded, parsed and answered on its own:
a line that is not UTF-8, not JSON, not an object, over MAX_LINE_BYTES, without a question, or
that the service cannot answer gets an error record `{"id", "line", "error"}` and the batch goes on.
Records are printed as JSON that any reader can decode: a lone surrogate (`"\\ud800"`, valid in
JSON text but not encodable as UTF-8) is written escaped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from bot.errors import TabotError

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
# A question is cut to TABOT_MAX_QUESTION_CHARS anyway; a line this long is not a question.
MAX_LINE_BYTES = 1_000_000
LINE_HELP = 'write one JSON object per line, e.g. {"id": 1, "question": "why is KL divergence not symmetric?"}'


class LineError(Exception):
    """One line that gets an error record instead of an answer."""

    def __init__(self, message: str, item_id: Any = None) -> None:
        super().__init__(message)
        self.item_id = item_id


@dataclass
class BatchResult:
    answered: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (line number, error)
    not_utf8: int = 0

    def summary(self, path: Path) -> str:
        """One line for stderr when some lines failed."""
        number, first = self.failed[0]
        text = (f"{len(self.failed)} of {self.answered + len(self.failed)} lines of {path} got an error record "
                f"instead of an answer (first: line {number}: {first})")
        if self.not_utf8:
            text += f"; {self.not_utf8} lines are not UTF-8 - save the file as UTF-8 (it may be Latin-1)"
        return text


def read_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the line end) for each line; None for a line over MAX_LINE_BYTES."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass  # skip to the end of the over-long line, never holding it in memory
            yield number, None
            continue
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        yield number, raw.rstrip(b"\n").rstrip(b"\r")


def _reject_constant(name: str) -> None:
    # NaN / Infinity parse in Python but are not JSON: echoed as an id they would break the output.
    raise ValueError(f"{name} is not a JSON value")


def _id_from(text: str) -> Any:
    """The id of a line that failed later on, if the line is an object with a printable id."""
    try:
        item = json.loads(text, strict=False, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return item.get("id") if isinstance(item, dict) else None


def parse_line(raw: bytes | None, number: int) -> tuple[Any, object]:
    """(id, question) of one line; LineError saying what is wrong with it otherwise."""
    if raw is None:
        raise LineError(f"line {number} is longer than {MAX_LINE_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LineError(f"line {number} is not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
                        "save the file as UTF-8", _id_from(raw.decode("utf-8", "replace"))) from None
    try:
        # strict=False: a raw tab or control character inside a string is a slip, not a reason to refuse.
        item = json.loads(text, strict=False, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise LineError(f"line {number} is not valid JSON ({str(error)[:120]}); {LINE_HELP}") from None
    if not isinstance(item, dict):
        raise LineError(f"line {number} is a JSON {type(item).__name__}, not an object; {LINE_HELP}")
    if "question" not in item:
        raise LineError(f'line {number} has no "question"; {LINE_HELP}', item.get("id"))
    return item.get("id"), item["question"]


def run_batch(path: Path, ask: Callable[[object], dict[str, Any]], emit: Callable[[dict[str, Any]], None]
              ) -> BatchResult:
    """Answer every line of `path` with `ask`, emitting one record per non-blank line, in order."""
    result = BatchResult()
    with open(path, "rb") as stream:
        for number, raw in read_lines(stream):
            if raw is not None and not raw.strip():
                continue
            item_id: Any = None
            try:
                item_id, question = parse_line(raw, number)
                record = {"id": item_id, **ask(question)}
            except LineError as error:
                record = _failed(result, number, error.item_id, str(error))
                result.not_utf8 += "is not UTF-8" in str(error)
            except TabotError as error:  # an empty question, an unreachable search service, ...
                record = _failed(result, number, item_id, str(error).splitlines()[0] if str(error) else "")
            except Exception as error:  # a bug must cost one line, not the rest of the batch
                log.debug("line %d of %s failed", number, path, exc_info=True)
                why = f"could not answer this line (internal error: {type(error).__name__}); please report it"
                record = _failed(result, number, item_id, why)
            else:
                result.answered += 1
            emit(record)
    return result


def _failed(result: BatchResult, number: int, item_id: Any, message: str) -> dict[str, Any]:
    result.failed.append((number, message))
    return {"id": item_id, "line": number, "error": message}


def json_line(record: dict[str, Any], ascii_only: bool = False) -> str:
    """`record` as one line of JSON; with `ascii_only`, or when the text holds a lone surrogate
    (which no UTF-8 writer can encode), every non-ASCII character is written as an escape."""
    text = json.dumps(record, ensure_ascii=ascii_only)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, ensure_ascii=True)
    return text

