"""Near misses: questions next to a TA answer's topic that no answer here covers.

Staff list them per entry (`near_misses:` in its front matter, each following a real post:
`knowledge/near_miss_sources.tsv`): "why does Adam need bias correction?" next to the answer on
adaptive learning rates. They are never searched as an entry's text. The retriever takes a post's
best cosine to any of them, and the abstention model reads how much it exceeds the post's question's
cosine to the entry (`bot.search.retrieve.near_miss_margin`): sentence cosines say what topic a post
is on, and a post nearer a known uncovered question than to the answer is less likely to be one the
answer covers.

Their vectors are kept in one small file per collection beside the word pieces, keyed by text:
a restart reads them (no encoding at start-up), an edit encodes only the new ones.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.knowledge import Entry
from bot.search.pieces import DIMENSION


@dataclass(frozen=True)
class NearMisses:
    """Every entry's near misses (distinct texts) and their unit vectors, a row each."""

    texts: tuple[str, ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, DIMENSION), dtype=np.float32))

    def closest(self, vector: np.ndarray) -> float | None:
        """The best cosine of a unit `vector` to any near miss; None when the knowledge base lists none."""
        return float((self.vectors @ vector).max()) if self.texts else None


class NearMissStore:
    """`<file>.npz`: the near misses' texts and vectors, rewritten whenever the set of texts changes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                return dict(zip(stored["texts"].tolist(), stored["vectors"].astype(np.float32), strict=True))
        except (OSError, ValueError, KeyError):  # never written, or unreadable: encode again
            return {}

    def sync(self, entries: list[Entry], encode: Callable[[list[str]], np.ndarray]) -> NearMisses:
        """The entries' near misses with their vectors, encoding only texts the file does not hold."""
        wanted = sorted({text for entry in entries for text in entry.near_misses})
        known = self._load()
        stale = set(known) != set(wanted)  # new texts, or some removed: rewrite so the file holds exactly these
        missing = [text for text in wanted if text not in known]
        if missing:
            known.update(zip(missing, np.asarray(encode(missing), dtype=np.float32), strict=True))
        vectors = (np.stack([known[text] for text in wanted]) if wanted
                   else np.empty((0, DIMENSION), dtype=np.float32))
        if stale:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Per writer, then moved into place: a crash mid-write never leaves a short file to read.
            partial = self.path.with_name(f"{self.path.stem}.{os.getpid()}.{threading.get_ident()}.partial.npz")
            np.savez(partial, texts=np.array(wanted, dtype=str), vectors=vectors)
            partial.replace(self.path)
        return NearMisses(tuple(wanted), vectors)
