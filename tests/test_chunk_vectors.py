"""Each entry's chunks' stored vectors, and an entry's exact best cosine to a query (bot/search/chunk_vectors.py)."""

import numpy as np
import pytest

from bot.search.chunk_vectors import ChunkVectors
from bot.search.chunks import Chunk


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_every_entry_answers_with_its_best_chunk_whatever_order_its_chunks_come_in() -> None:
    stored = {"a1": _unit(1, 0, 0), "a2": _unit(0, 1, 0), "b1": _unit(0, 0, 1), "b2": _unit(1, 1, 0)}
    chunks = [Chunk("a#1", "a", "question", "a1"), Chunk("b#1", "b", "question", "b1"),
              Chunk("a#2", "a", "alias", "a2"), Chunk("b#2", "b", "alias", "b2"),
              Chunk("c#1", "c", "question", "never stored")]  # a chunk Chroma has no vector of is left out
    vectors = ChunkVectors.of(chunks, stored)
    assert set(vectors.spans) == {"a", "b"} and len(vectors.ids) == 4
    query = _unit(0.2, 1, 0.1)
    best = vectors.best_of(query, ["a", "b", "c", "unknown"])
    reference = {entry: max((float(stored[c.text] @ query), c.id) for c in chunks if c.entry_id == entry)
                 for entry in ("a", "b")}
    assert best.keys() == reference.keys()
    for entry, (cosine, chunk_id) in reference.items():
        assert best[entry][0] == pytest.approx(cosine, abs=1e-6) and best[entry][1] == chunk_id
    assert best["a"][1] == "a#2" and best["b"][1] == "b#2"
    assert vectors.nearest(query) == pytest.approx(max(c for c, _ in reference.values()), abs=1e-6)


def test_an_index_with_no_stored_vector_finds_nothing_near() -> None:
    empty = ChunkVectors.of([Chunk("a#1", "a", "question", "a1")], {})
    assert empty.best_of(_unit(1, 0), ["a"]) == {} and empty.nearest(_unit(1, 0)) == -1.0
