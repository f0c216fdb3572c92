"""Hybrid retrieval: dense (MiniLM via Chroma) + lexical (BM25), fused per entry.

Ranking uses reciprocal rank fusion of the two entry rankings — robust to their different score
scales. Whether to answer at all needs an absolute number instead, so each entry also gets a
calibrated confidence: a logistic model over (best dense cosine, share of the question's
content words the entry contains), fitted on `eval/datasets/calibration.jsonl` by
`python -m eval.calibrate` and stored in `bot/search/calibration.json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from bot.knowledge import Entry
from bot.search.index import KnowledgeIndex
from bot.search.lexical import tokenize

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
RRF_K = 60  # the usual constant from Cormack et al.; damps the influence of any single rank


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(w_dense * dense + w_coverage * coverage + bias); answer if >= threshold."""

    w_dense: float = 12.0
    w_coverage: float = 4.0
    bias: float = -8.0
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        return cls(**{k: float(data[k]) for k in ("w_dense", "w_coverage", "bias", "threshold")})

    def confidence(self, dense: float, coverage: float) -> float:
        return sigmoid(self.w_dense * dense + self.w_coverage * coverage + self.bias)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def rrf(ranks: list[int], k: int = RRF_K) -> float:
    """Reciprocal rank fusion of 1-based ranks (one per ranking the item appears in)."""
    return sum(1.0 / (k + r) for r in ranks)


def coverage(question_terms: set[str], entry_terms: set[str]) -> float:
    """Share of the question's content terms (stemmed, stop words dropped) found in the entry."""
    if not question_terms:
        return 0.0
    return len(question_terms & entry_terms) / len(question_terms)


@dataclass(frozen=True)
class EntryHit:
    entry_id: str
    confidence: float  # calibrated, in [0, 1]
    dense: float  # best cosine similarity of any of the entry's chunks
    lexical: float  # best BM25 score of any of the entry's chunks
    coverage: float  # share of the question's content terms in the entry
    fused: float  # reciprocal-rank-fusion score used for ordering
    best_chunk: str  # id of the entry's best dense chunk


class HybridRetriever(BaseRetriever):
    """A LangChain retriever returning one Document per TA answer, best first."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: KnowledgeIndex
    entries: dict[str, Entry]
    calibration: Calibration = Calibration()
    k_chunks: int = 40
    k_entries: int = 3
    _terms: dict[str, set[str]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute per-entry term sets after the entries change (e.g. a re-index)."""
        self._terms = {}
        for entry in self.entries.values():
            text = " ".join([entry.question, entry.answer, *entry.aliases, *entry.tags])
            self._terms[entry.id] = set(tokenize([text])[0])

    def terms(self, entry_id: str) -> set[str]:
        """The entry's stemmed content terms (question, answer, aliases, tags)."""
        return self._terms.get(entry_id, set())

    def search(self, question: str, k: int | None = None, vector: list[float] | None = None) -> list[EntryHit]:
        """Entries best first (at most k), each with its calibrated confidence."""
        k = k or self.k_entries
        if vector is None:
            vector = self.index.embeddings.embed_query(question)
        dense: dict[str, tuple[float, str]] = {}
        for chunk, similarity in self.index.dense_search(vector, self.k_chunks):
            if chunk.entry_id not in dense or similarity > dense[chunk.entry_id][0]:
                dense[chunk.entry_id] = (similarity, chunk.id)
        lexical: dict[str, float] = {}
        for chunk, score in self.index.lexical_search(question, self.k_chunks):
            lexical[chunk.entry_id] = max(score, lexical.get(chunk.entry_id, 0.0))
        dense_rank = {e: r for r, e in enumerate(sorted(dense, key=lambda e: -dense[e][0]), start=1)}
        lexical_rank = {e: r for r, e in enumerate(sorted(lexical, key=lambda e: -lexical[e]), start=1)}
        question_terms = set(tokenize([question])[0])
        hits = []
        for entry_id in set(dense) | set(lexical):
            if entry_id not in self.entries:
                continue
            ranks = [r for r in (dense_rank.get(entry_id), lexical_rank.get(entry_id)) if r is not None]
            similarity, best_chunk = dense.get(entry_id, (0.0, ""))
            share = coverage(question_terms, self._terms.get(entry_id, set()))
            hits.append(EntryHit(entry_id=entry_id, confidence=self.calibration.confidence(similarity, share),
                                 dense=similarity, lexical=lexical.get(entry_id, 0.0), coverage=share,
                                 fused=rrf(ranks), best_chunk=best_chunk))
        hits.sort(key=lambda h: (-h.fused, -h.dense, h.entry_id))
        return hits[:k]

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        documents = []
        for hit in self.search(query):
            entry = self.entries[hit.entry_id]
            documents.append(Document(
                page_content=entry.answer, id=entry.id,
                metadata={"entry_id": entry.id, "question": entry.question, "confidence": hit.confidence,
                          "dense": hit.dense, "lexical": hit.lexical, "fused": hit.fused},
            ))
        return documents
