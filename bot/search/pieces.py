"""Each entry's content word pieces in context, kept on disk beside the index.

Semantic coverage (`bot.search.token_match`) compares a question's word pieces with an entry's.
Encoding an entry's question, aliases and sentences costs the encoder ~25-40 ms, so doing it when an
entry is first a candidate made every cold answer pay it: measured at 2,009 entries, 85 % of
answers paid ~2.3 such encodings and the median answer went from 8 to 72 ms. The index build
already runs the encoder over exactly these texts, so it keeps their pieces (the same encoder
pass) and writes one file per entry; an answer only reads them (~0.2 ms).

One file per entry, `<entry id>-<entry version>.npy`, float16 (cosines to 1e-3; 0.2-0.4 MB a
short entry): a changed entry gets a new file, its old one is removed, and a file of any other
version is never read.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from bot.knowledge import Entry

DIMENSION = 384


def piece_texts(entry: Entry) -> list[str]:
    """The texts whose pieces stand for an entry: what a student may ask and what the TA says."""
    return [entry.question, *entry.aliases, *entry.sentences]


class PiecesStore:
    """`<directory>/<entry id>-<version>.npy` for every indexed entry."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, entry_id: str, version: str) -> Path:
        return self.directory / f"{entry_id}-{version}.npy"

    def load(self, entry_id: str, version: str) -> np.ndarray | None:
        """The entry's pieces as float32 rows, or None when this version was never written (or is unreadable)."""
        try:
            return _for_matching(np.load(self.path(entry_id, version), allow_pickle=False))
        except (OSError, ValueError):
            return None

    def save(self, entry_id: str, version: str, pieces: list[np.ndarray]) -> np.ndarray:
        """Write the entry's pieces (one array per text, stacked); `remove` drops its other versions."""
        rows = (np.vstack(pieces) if pieces else np.empty((0, DIMENSION))).astype(np.float16)
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(entry_id, version)
        # Named per writer: two answers may rewrite a lost file at once, and neither must move the other's.
        partial = target.with_name(f"{target.stem}.{os.getpid()}.{threading.get_ident()}.partial.npy")
        np.save(partial, rows)
        partial.replace(target)  # whole or absent: a crash mid-write never leaves a short file to read
        # What a later `load` gives, so an answer right after the build scores as every later one.
        return _for_matching(rows)

    def remove(self, entry_id: str, keep: str | None = None) -> None:
        """Delete the entry's files but the `keep` version's (a listing of the folder: for edited and
        removed entries only, never once per entry of a build)."""
        for path in self.directory.glob(f"{entry_id}-*.npy"):
            # "a-b-<version>" also matches the entry "a"; the version is what follows the last dash.
            stem = path.name.removesuffix(".npy")
            entry, _, version = stem.rpartition("-")
            if entry == entry_id and version != keep:
                path.unlink(missing_ok=True)

    def has(self, entry_id: str, version: str) -> bool:
        return self.path(entry_id, version).is_file()


def _for_matching(rows: np.ndarray) -> np.ndarray:
    """float32 rows stored column by column: every answer multiplies its pieces by their transpose
    (`bot.search.token_match.best_matches`), which is then contiguous, 25-40 % faster a product."""
    return rows.astype(np.float32, order="F")
