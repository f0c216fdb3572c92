"""The two baselines the report puts beside tabot, run on the same questions in the same process.

1. **BM25 alone** (`bm25s`) over exactly the chunks tabot's index holds (questions, aliases,
   sentences, question+answer), each entry scored by its best chunk; answers with the top entry.
2. **Plain LangChain + Chroma dense top-1**: `HuggingFaceEmbeddings` on the same MiniLM files,
   `Chroma.from_documents` into an in-memory collection of one document per entry (question +
   answer), answers with the top-1 document.

Both answer with the whole TA answer of their top entry (no sentence selection, no demos), and
both decline when their top score is below a threshold calibrated with `calibrate_threshold`:
the same rule tabot's own threshold was set by (eval/calibrate.py) - the threshold that
maximises abstention F1 on `calibration.jsonl` - so no system is tuned on the test sets.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import bm25s
import Stemmer

from bot.knowledge import Entry
from eval.metrics.abstention import abstention_counts, f1

_STEMMER = Stemmer.Stemmer("english")


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
    demos: list[bool] = field(default_factory=list)  # passed flag per attached claim
    timings_ms: dict[str, float] = field(default_factory=dict)


def calibrate_threshold(scores: Sequence[float], in_scope: Sequence[bool]) -> float:
    """The decline threshold (decline when score < threshold) maximising abstention F1.

    Candidates are the midpoints between consecutive distinct scores, plus one below the
    lowest and one above the highest. Ties go to the middle candidate of the tied ones, so
    the threshold sits away from either edge of the best range.
    """
    distinct = sorted(set(scores))
    if not distinct:
        raise ValueError("no calibration scores")
    candidates = [distinct[0] - 1e-6]
    candidates += [(a + b) / 2 for a, b in itertools.pairwise(distinct)]
    candidates.append(distinct[-1] + 1e-6)
    rated = [(f1(abstention_counts([s < t for s in scores], in_scope)) or 0.0, t) for t in candidates]
    best = max(score for score, _ in rated)
    tied = [t for score, t in rated if score == best]
    return tied[len(tied) // 2]


def _decide(ranking: list[str], top: float, threshold: float, entries: dict[str, Entry],
            started: float) -> Reply:
    elapsed = (time.perf_counter() - started) * 1000
    if not ranking or top < threshold:
        return Reply(ranking=[], candidates=ranking, answered=[], abstained=True, confidence=top,
                     response="No TA answer covers this question.", timings_ms={"total": elapsed})
    best = entries[ranking[0]]
    return Reply(ranking=ranking, candidates=ranking, answered=[best.id], abstained=False, confidence=top,
                 response=best.answer, sentences=[(s, best.id) for s in best.sentences], timings_ms={"total": elapsed})


class BM25Baseline:
    """BM25 over tabot's chunks, aggregated per entry by the best chunk score."""

    name = "bm25"
    label = "BM25 alone"

    def __init__(self, chunks: Sequence[tuple[str, str]], entries: dict[str, Entry]) -> None:
        """`chunks`: (entry id, text) for every chunk of the index."""
        self.entries = entries
        self.chunk_entries = [entry_id for entry_id, _ in chunks]
        self.retriever = bm25s.BM25()
        self.retriever.index(self._tokens([text for _, text in chunks]), show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)
        self.threshold = 0.0

    @staticmethod
    def _tokens(texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER.stemWords, return_ids=False,
                              show_progress=False)

    def scores(self, question: str) -> list[tuple[str, float]]:
        """(entry id, best chunk BM25 score) best first; only entries with a score > 0."""
        tokens = [t for t in self._tokens([question])[0] if t in self.vocab]
        if not tokens:
            return []
        docs, scores = self.retriever.retrieve([tokens], k=len(self.chunk_entries), show_progress=False,
                                               n_threads=1)
        best: dict[str, float] = {}
        for doc, score in zip(docs[0], scores[0], strict=True):
            entry_id = self.chunk_entries[int(doc)]
            if score > 0 and score > best.get(entry_id, 0.0):
                best[entry_id] = float(score)
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))

    def calibrate(self, questions: Sequence[str], in_scope: Sequence[bool]) -> float:
        tops = [(self.scores(q) or [("", 0.0)])[0][1] for q in questions]
        self.threshold = calibrate_threshold(tops, in_scope)
        return self.threshold

    def ask(self, question: str) -> Reply:
        started = time.perf_counter()
        ranked = self.scores(question)
        top = ranked[0][1] if ranked else 0.0
        return _decide([e for e, _ in ranked], top, self.threshold, self.entries, started)


class DenseBaseline:
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
        self.threshold = 0.0

    def scores(self, question: str, k: int = 3) -> list[tuple[str, float]]:
        """(entry id, cosine similarity) best first; Chroma returns cosine distance = 1 - similarity."""
        hits = self.store.similarity_search_with_score(question, k=min(k, len(self.entries)))
        return [(str(doc.metadata["entry_id"]), 1.0 - float(distance)) for doc, distance in hits]

    def calibrate(self, questions: Sequence[str], in_scope: Sequence[bool]) -> float:
        tops = [self.scores(q, k=1)[0][1] for q in questions]
        self.threshold = calibrate_threshold(tops, in_scope)
        return self.threshold

    def ask(self, question: str) -> Reply:
        started = time.perf_counter()
        ranked = self.scores(question)
        top = ranked[0][1] if ranked else 0.0
        # Top-1: it answers with one entry, but its ranking still counts for hit@3 and MRR.
        return _decide([e for e, _ in ranked], top, self.threshold, self.entries, started)
