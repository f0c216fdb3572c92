"""The two baselines the report puts beside tabot, run on the same questions in the same process.

1. **BM25 alone**: tabot's own lexical half (`bot.search.lexical.LexicalIndex`, same tokeniser, same
   chunks: questions, aliases, sentences, question+answer), each entry scored by its best chunk;
   answers with the top entry.
2. **Plain LangChain + Chroma dense top-1**: `HuggingFaceEmbeddings` on the same MiniLM files,
   `Chroma.from_documents` into an in-memory collection of one document per entry (question +
   answer), answers with the top-1 document.

Both answer with the whole TA answer of their top entry (no sentence selection, no demos), and
both decline when their top score is below a threshold set by `eval.metrics.abstention.best_threshold`
on the calibration splits (`calibration.jsonl` and `real_posts.jsonl`'s calibration side): the same
function, on the same questions, that sets tabot's own threshold (eval/calibrate/), so every system
is calibrated by one rule and none on the test sets.
"""

from __future__ import annotations

import os
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.knowledge import Entry
from bot.search.lexical import LexicalIndex
from eval.metrics.abstention import best_threshold


@dataclass
class Reply:
    """What the eval needs from any system's answer to one question."""

    ranking: list[str]  # entry ids, best first, as answered (empty when declined)
    candidates: list[str]  # entry ids, best first, whatever the decision (retrieval alone)
    answered: list[str]  # entry ids the reply actually answers from (its sources)
    abstained: bool
    confidence: float  # the system's top score (its own scale), for the histogram and threshold
    response: str = ""  # the text a student sees
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (sentence, cited entry id)
    # The system's own support verdict per sentence (tabot's CitedSentence.supported), or None when
    # the system judges none (the baselines): then the eval scores them with bot.answering.support itself.
    verdicts: list[bool] | None = None
    demos: list[bool] = field(default_factory=list)  # passed flag per attached claim
    unsure: bool = False  # the answer tells the student it may not cover the question (tabot's UNSURE_NOTICE)
    timings_ms: dict[str, float] = field(default_factory=dict)


def _decide(ranking: list[str], top: float, threshold: float, entries: dict[str, Entry],
            started: float) -> Reply:
    elapsed = (time.perf_counter() - started) * 1000
    if not ranking or top < threshold:
        return Reply(ranking=[], candidates=ranking, answered=[], abstained=True, confidence=top,
                     response="No TA answer covers this question.", timings_ms={"total": elapsed})
    best = entries[ranking[0]]
    return Reply(ranking=ranking, candidates=ranking, answered=[best.id], abstained=False, confidence=top,
                 response=best.answer, sentences=[(s, best.id) for s in best.sentences], timings_ms={"total": elapsed})


class ScoredBaseline(ABC):
    """A baseline is a `scores(question)` ranking plus one decline threshold on its top score,
    calibrated by the same rule as tabot's (`best_threshold` on the calibration splits)."""

    entries: dict[str, Entry]
    threshold: float = 0.0

    @abstractmethod
    def scores(self, question: str) -> list[tuple[str, float]]:
        """(entry id, score) best first."""

    def calibrate(self, questions: Sequence[str], in_scope: Sequence[bool]) -> float:
        tops = [(self.scores(q) or [("", 0.0)])[0][1] for q in questions]
        self.threshold = best_threshold(tops, in_scope)
        return self.threshold

    def ask(self, question: str) -> Reply:
        """Answers with the top entry (its ranking still counts for hit@3 and MRR)."""
        started = time.perf_counter()
        ranked = self.scores(question)
        top = ranked[0][1] if ranked else 0.0
        return _decide([e for e, _ in ranked], top, self.threshold, self.entries, started)


class BM25Baseline(ScoredBaseline):
    """BM25 over tabot's chunks, aggregated per entry by the best chunk score."""

    name = "bm25"
    label = "BM25 alone"

    def __init__(self, chunks: Sequence[tuple[str, str]], entries: dict[str, Entry]) -> None:
        """`chunks`: (entry id, text) for every chunk of the index (`tabot.index.chunks`), in order."""
        self.entries = entries
        self.chunk_entries = [entry_id for entry_id, _ in chunks]
        self.lexical = LexicalIndex.build([text for _, text in chunks])

    def scores(self, question: str) -> list[tuple[str, float]]:
        """(entry id, best chunk BM25 score) best first; only entries with a score > 0."""
        best: dict[str, float] = {}
        for position, score in self.lexical.search(question, k=len(self.chunk_entries)):
            entry_id = self.chunk_entries[position]
            best[entry_id] = max(score, best.get(entry_id, 0.0))
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))


class DenseBaseline(ScoredBaseline):
    """Plain LangChain + Chroma: one document per entry, MiniLM embeddings, top-1 by cosine."""

    name = "dense"
    label = "LangChain + Chroma dense top-1"

    def __init__(self, entries: dict[str, Entry], model_dir: str) -> None:
        # The model is local; these stop transformers from asking the hub about it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings

        self.entries = entries
        self.embeddings = HuggingFaceEmbeddings(model_name=model_dir, model_kwargs={"device": "cpu"},
                                                encode_kwargs={"normalize_embeddings": True})
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        documents = [Document(page_content=f"{e.question}\n\n{e.answer}", metadata={"entry_id": e.id}, id=e.id)
                     for e in entries.values()]
        # A fresh name per instance: ephemeral clients in one process share their storage.
        self.store = Chroma.from_documents(documents, self.embeddings, ids=[e.id for e in entries.values()],
                                           client=client, collection_name=f"baseline-{uuid.uuid4().hex[:12]}",
                                           collection_metadata={"hnsw:space": "cosine"})

    def scores(self, question: str, k: int = 3) -> list[tuple[str, float]]:
        """(entry id, cosine similarity) best first; Chroma returns cosine distance = 1 - similarity."""
        hits = self.store.similarity_search_with_score(question, k=min(k, len(self.entries)))
        return [(str(doc.metadata["entry_id"]), 1.0 - float(distance)) for doc, distance in hits]
