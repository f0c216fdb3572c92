"""Each entry's content word pieces in context, kept on disk beside the index.

Semantic coverage (`bot.search.token_match`) compares a question's word pieces with an entry's.
Encoding an entry's question, aliases and sentences costs the encoder ~25-40 ms, so doing it when an
entry is first a candidate made every cold answer pay it: measured at 2,009 entries, 85 % of
answers paid ~2.3 such encodings and the median answer went from 8 to 72 ms. The index build
already runs the encoder over exactly these texts, so it keeps their pieces (the same encoder
pass) and writes one file per entry; an answer only reads them (~0.2 ms).

One file per entry, `<entry id>-<entry version>.npz`: the pieces in float16 (cosines to 1e-3;
0.2-0.4 MB a short entry) and how many each text has, so that the entry's own questions can also be
read text by text (`EntryPieces.asked`). A changed entry gets a new file, its old one is removed,
and a file of any other version is never read (nor one of the `.npy` files that held the pieces
alone before).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge import Entry
from bot.search.token_match import Texts

DIMENSION = 384


def piece_texts(entry: Entry) -> list[str]:
    """The texts whose pieces stand for an entry: what a student may ask (its question and aliases,
    first) and what the TA says."""
    return [entry.question, *entry.aliases, *entry.sentences]


def asked_texts(entry: Entry) -> int:
    """How many of `piece_texts(entry)` are questions the entry answers: its question and aliases."""
    return 1 + len(entry.aliases)


@dataclass(frozen=True)
class EntryPieces:
    """An entry's content pieces: all of them in one matrix (semantic coverage), and its own
    questions text by text (`bot.search.token_match.best_agreement`)."""

    rows: np.ndarray
    asked: Texts


class PiecesStore:
    """`<directory>/<entry id>-<version>.npz` for every indexed entry."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, entry_id: str, version: str) -> Path:
        return self.directory / f"{entry_id}-{version}.npz"

    def load(self, entry_id: str, version: str) -> EntryPieces | None:
        """The entry's pieces, or None when this version was never written (or is unreadable)."""
        try:
            with np.load(self.path(entry_id, version), allow_pickle=False) as stored:
                return _entry_pieces(stored["rows"], stored["counts"], int(stored["asked"]))
        except (OSError, ValueError, KeyError):
            return None

    def save(self, entry_id: str, version: str, pieces: list[np.ndarray], asked: int) -> EntryPieces:
        """Write the entry's pieces (one array per text, in `piece_texts` order, the first `asked` of
        them its questions); `remove` drops its other versions."""
        rows, counts = _stored(pieces)
        save_npz(self.path(entry_id, version), rows=rows, counts=counts, asked=np.int64(asked))
        # What a later `load` gives, so an answer right after the build scores as every later one.
        return _entry_pieces(rows, counts, asked)

    def remove(self, entry_id: str, keep: str | None = None) -> None:
        """Delete the entry's files but the `keep` version's (a listing of the folder: for edited and
        removed entries only, never once per entry of a build)."""
        for path in self.directory.glob(f"{entry_id}-*.np[yz]"):  # .npy: the pieces-only files of before
            # "a-b-<version>" also matches the entry "a"; the version is what follows the last dash.
            entry, _, version = path.stem.rpartition("-")
            if entry == entry_id and (version != keep or path.suffix == ".npy"):
                path.unlink(missing_ok=True)

    def has(self, entry_id: str, version: str) -> bool:
        return self.path(entry_id, version).is_file()


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write `arrays` to `path` whole or not at all: to a file named per writer (two answers may
    rewrite a lost file at once, and neither must move the other's), then moved into place, so a
    crash mid-write never leaves a short file to read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)


def as_stored(pieces: list[np.ndarray], asked: int) -> EntryPieces:
    """An entry's pieces (one array per text, as `PiecesStore.save` takes them) as the store gives
    them back: rounded to float16. Whoever scores pieces read elsewhere (`eval.second_opinion`)
    rounds them the same way, or a cosine lying within the rounding of a coverage threshold
    counts a word differently from the bot."""
    return _entry_pieces(*_stored(pieces), asked)


def rounded_as_stored(pieces: np.ndarray) -> np.ndarray:
    """Word pieces as a float16 file gives them back (float32 again): the near misses' pieces."""
    return pieces.astype(np.float16).astype(np.float32)


def _stored(pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All of an entry's pieces in one float16 matrix, and how many each text has."""
    rows = (np.vstack(pieces) if pieces else np.empty((0, DIMENSION))).astype(np.float16)
    return rows, np.array([len(p) for p in pieces], dtype=np.int64)


def _entry_pieces(rows: np.ndarray, counts: np.ndarray, asked: int) -> EntryPieces:
    """float32, the matrix of all pieces stored column by column: every answer multiplies it by
    its transpose (`bot.search.token_match.best_matches`), which is then contiguous, 25-40 % faster
    a product."""
    ends = np.cumsum(counts)
    questions = [rows[end - count:end] for end, count in zip(ends[:asked], counts[:asked], strict=True)]
    return EntryPieces(rows.astype(np.float32, order="F"), Texts.of(questions))
