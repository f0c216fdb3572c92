"""How an entry is cut into the texts that are indexed: its question, each alias, each answer sentence,
and the question with the whole answer, each chunk pointing back to its entry.

`entry_chunks` is the one place that says so: the index builds from it, an entry's version hashes it,
and `python -m eval.variants chunks` swaps it (`bot.search.chunks.entry_chunks`) for other cuts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from bot.knowledge import Entry


@dataclass(frozen=True)
class Chunk:
    id: str
    entry_id: str
    kind: str  # "question" | "alias" | "sentence" | "qa"
    text: str


def entry_chunks(entry: Entry) -> list[Chunk]:
    chunks = [Chunk(f"{entry.id}::question", entry.id, "question", entry.question)]
    chunks += [Chunk(f"{entry.id}::alias::{i}", entry.id, "alias", a) for i, a in enumerate(entry.aliases)]
    chunks += [Chunk(f"{entry.id}::sentence::{i}", entry.id, "sentence", s) for i, s in enumerate(entry.sentences)]
    chunks.append(Chunk(f"{entry.id}::qa", entry.id, "qa", f"{entry.question}\n\n{entry.answer}"))
    return chunks


def build_chunks(entries: list[Entry]) -> list[Chunk]:
    return [chunk for entry in entries for chunk in entry_chunks(entry)]


def entry_version(entry: Entry) -> str:
    """Hash of exactly what gets embedded, so any change to the entry *or* to how it is chunked
    (e.g. a better sentence splitter) re-embeds it, and nothing else does."""
    payload = json.dumps([[c.id, c.text] for c in entry_chunks(entry)])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
