"""The indexed chunks' stored vectors, held in memory by entry: exact cosines where Chroma's are approximate.

Chroma finds a post's nearest chunks with an HNSW graph, an approximate search: now and then its top k
leaves out a chunk that belongs there. Which one depends on how the graph was built, and Chroma builds
it on several threads, so two builds of the same knowledge base differ. Measured on fresh builds of
today's (234 chunks): the top 40 of the 473 calibration posts left out 0 to 3 such chunks per build
(7 builds, 5 of them beside two busy processes); and in one of 9 builds (3 of them busy) a chunk left
out was a candidate entry's best, which moved that entry's cosine features (the focus's, the prose's,
the near-miss margin) by 0.002.

The entries Chroma finds stay the candidates (`HybridRetriever.search_many`). How near each one is,
which the abstention model reads, is computed here exactly: its best cosine over all of its chunks,
from the vectors read back from Chroma at sync. A post's features then depend on which entries Chroma
finds, not on which of their chunks; and the course's nearness (`KnowledgeIndex.nearest_course_text`)
reads the same matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bot.search.chunks import Chunk


@dataclass(frozen=True)
class ChunkVectors:
    """Every chunk with a stored vector, its entry's chunks in one contiguous block of `matrix` rows."""

    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    ids: tuple[str, ...] = ()  # the chunk id of each row
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # entry id -> its rows [start, stop)

    @classmethod
    def of(cls, chunks: Iterable[Chunk], stored: dict[str, np.ndarray]) -> ChunkVectors:
        """From the index's chunks and their stored vectors by text (a chunk with none is left out)."""
        by_entry: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            if chunk.text in stored:
                by_entry.setdefault(chunk.entry_id, []).append(chunk)
        rows: list[np.ndarray] = []
        ids: list[str] = []
        spans: dict[str, tuple[int, int]] = {}
        for entry_id, own in by_entry.items():
            spans[entry_id] = (len(ids), len(ids) + len(own))
            ids.extend(chunk.id for chunk in own)
            rows.extend(stored[chunk.text] for chunk in own)
        if not rows:
            return cls()
        return cls(np.stack(rows).astype(np.float32), tuple(ids), spans)

    def nearest(self, vector: np.ndarray) -> float:
        """The best cosine of any chunk to a unit vector (-1 when there is no chunk)."""
        return float((self.matrix @ vector).max()) if self.matrix.size else -1.0

    def best_of(self, vector: np.ndarray, entry_ids: Iterable[str]) -> dict[str, tuple[float, str]]:
        """Per entry of `entry_ids` that has chunks here: its best chunk's cosine to `vector`, and that
        chunk's id."""
        wanted = [entry_id for entry_id in entry_ids if entry_id in self.spans]
        if not wanted:
            return {}
        cosines = self.matrix @ vector
        best: dict[str, tuple[float, str]] = {}
        for entry_id in wanted:
            start, stop = self.spans[entry_id]
            row = start + int(cosines[start:stop].argmax())
            best[entry_id] = (float(cosines[row]), self.ids[row])
        return best
