"""Hybrid retrieval: dense (MiniLM via Chroma) + lexical (BM25), scored per entry, read like a TA.

A student's post is read first (`bot.search.focus.read_post`): its `focus` is the question it
asks, its `prose` what it is about (without code, traces, quotes, links, greetings). Each entry is
scored by both: its best chunk's cosine to the focus, its best chunk's cosine to the prose, and a
lexical nudge (BM25 of the prose, scaled to the best entry's) that breaks near-ties on rare words.
For a one-line question focus and prose are the same text, so nothing changes for it.

Whether to answer at all needs an absolute number, so each entry also gets a calibrated
confidence: a logistic model over (focus cosine, prose cosine, share of the focus's content words
the entry contains). Every feature means the same for a 10-word question and a 300-word post:
the focus is short whatever the post's length, and the prose cosine sits beside it so context
that names the topic still counts. Fitted on the calibration splits (synthetic and real
phrasing) by `python -m eval.calibrate`, stored in `bot/search/calibration.json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge import Entry
from bot.search.focus import Post, read_post
from bot.search.index import Chunk, KnowledgeIndex
from bot.search.lexical import tokenize

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# How much the lexical score can move an entry, against cosines that add up to at most 2. Small:
# on real posts dense ranking alone was as good; BM25 only settles near-ties on rare exact words.
LEXICAL_WEIGHT = 0.1


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(w_focus * focus + w_post * post + w_coverage * coverage + bias)."""

    w_focus: float = 6.0
    w_post: float = 6.0
    w_coverage: float = 2.0
    bias: float = -8.0
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        return cls(**{k: float(data[k]) for k in ("w_focus", "w_post", "w_coverage", "bias", "threshold")})

    def confidence(self, focus: float, post: float, coverage: float) -> float:
        return sigmoid(self.w_focus * focus + self.w_post * post + self.w_coverage * coverage + self.bias)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# Coverage counts this many unseen pseudo-terms: evidence that an entry covers a question grows with
# the number of the question's words it contains, so a two-word question cannot be "fully covered".
COVERAGE_PSEUDO_TERMS = 2


def coverage(question_terms: set[str], entry_terms: set[str]) -> float:
    """Share of the question's content terms (stemmed, stop words dropped) found in the entry, out
    of their number plus COVERAGE_PSEUDO_TERMS: "and the reverse one?" names two words an entry
    happens to contain, which is weak evidence that the entry covers it (2/4, not 2/2)."""
    return len(question_terms & entry_terms) / (len(question_terms) + COVERAGE_PSEUDO_TERMS)


def rank_score(focus: float, post: float, lexical_share: float) -> float:
    """The ordering score of an entry: both cosines, plus the lexical nudge (share of the best BM25)."""
    return focus + post + LEXICAL_WEIGHT * lexical_share


@dataclass(frozen=True)
class EntryHit:
    entry_id: str
    confidence: float  # calibrated, in [0, 1]
    dense: float  # best cosine of any of the entry's chunks to the post's focus (its question)
    dense_post: float  # ... to the whole post's prose (equal to `dense` for a one-line question)
    lexical: float  # best BM25 score of any of the entry's chunks for the prose
    coverage: float  # share of the focus's content terms in the entry
    score: float  # the ordering score (`rank_score`)
    best_chunk: str  # id of the entry's best chunk for the focus


class HybridRetriever:
    """Scores every entry for a post, best first, each with its calibrated confidence.

    A plain class: LangChain's `BaseRetriever` view of it (one Document per TA answer) is
    `bot.search.langchain_views.EntryRetriever`, kept off the answer path (importing LangChain's
    retriever machinery costs a CLI call a quarter of a second)."""

    def __init__(self, index: KnowledgeIndex, entries: dict[str, Entry], calibration: Calibration | None = None,
                 k_chunks: int = 40, k_entries: int = 3) -> None:
        self.index = index
        self.entries = entries
        self.calibration = calibration if calibration is not None else Calibration()
        self.k_chunks = k_chunks
        self.k_entries = k_entries
        self._terms: dict[str, set[str]] = {}
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

    def search(self, question: str | Post, k: int | None = None,
               vectors: tuple[list[float], list[float]] | None = None) -> list[EntryHit]:
        """Entries best first (at most k), each with its calibrated confidence.

        `vectors` are the embeddings of the post's (focus, prose) when the caller already has them."""
        post = question if isinstance(question, Post) else read_post(question)
        return self.search_many([post], [vectors or self.embed(post)], k)[0]

    def search_many(self, posts: list[Post], vectors: list[tuple[list[float], list[float]]],
                    k: int | None = None) -> list[list[EntryHit]]:
        """`search` for several posts (a post and its parts) with one dense query for all their vectors."""
        queries: list[list[float]] = []
        position: dict[int, int] = {}  # id(vector) -> its row in `queries`; a shared vector is asked once
        for pair in vectors:
            for vector in pair:
                if id(vector) not in position:
                    position[id(vector)] = len(queries)
                    queries.append(vector)
        best = [self._best_chunks(found) for found in self.index.dense_search_many(queries, self.k_chunks)]
        return [self._hits(post, best[position[id(focus)]], best[position[id(prose)]], k or self.k_entries)
                for post, (focus, prose) in zip(posts, vectors, strict=True)]

    def _hits(self, post: Post, focus_dense: dict[str, tuple[float, str]],
              post_dense: dict[str, tuple[float, str]], k: int) -> list[EntryHit]:
        lexical: dict[str, float] = {}
        for chunk, score in self.index.lexical_search(post.prose, self.k_chunks):
            lexical[chunk.entry_id] = max(score, lexical.get(chunk.entry_id, 0.0))
        top_lexical = max(lexical.values(), default=0.0)
        focus_terms = set(tokenize([post.focus])[0])
        hits = []
        for entry_id in set(focus_dense) | set(post_dense) | set(lexical):
            if entry_id not in self.entries:
                continue
            focus, best_chunk = focus_dense.get(entry_id, (0.0, ""))
            whole = post_dense.get(entry_id, (0.0, ""))[0]
            share = coverage(focus_terms, self._terms.get(entry_id, set()))
            lex = lexical.get(entry_id, 0.0)
            hits.append(EntryHit(entry_id=entry_id, confidence=self.calibration.confidence(focus, whole, share),
                                 dense=focus, dense_post=whole, lexical=lex, coverage=share,
                                 score=rank_score(focus, whole, lex / top_lexical if top_lexical else 0.0),
                                 best_chunk=best_chunk))
        hits.sort(key=lambda h: (-h.score, -h.dense, h.entry_id))
        return hits[:k]

    def embed(self, post: Post) -> tuple[list[float], list[float]]:
        """(focus vector, prose vector), in one encoder call; the same vector when they are one text."""
        if not post.is_long:
            vector = self.index.embeddings.embed_query(post.focus)
            return vector, vector
        focus, prose = self.index.embeddings.embed_documents([post.focus, post.prose])
        return focus, prose

    @staticmethod
    def _best_chunks(found: list[tuple[Chunk, float]]) -> dict[str, tuple[float, str]]:
        """Per entry, the best cosine of any of its chunks among those found, with that chunk's id."""
        best: dict[str, tuple[float, str]] = {}
        for chunk, similarity in found:
            if chunk.entry_id not in best or similarity > best[chunk.entry_id][0]:
                best[chunk.entry_id] = (similarity, chunk.id)
        return best
