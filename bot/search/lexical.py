"""BM25 over the same chunks the dense index holds (bm25s: sparse matrices, not a Python scan).

Stemming (Snowball) lets "minimising" match "minimise"; English stop words are dropped so a
question's filler words do not dominate the score.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

_STEMMER = Stemmer.Stemmer("english")


_WORDS = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) default token pattern
STOPWORDS = frozenset(STOPWORDS_EN)
# NLTK's English list (179 words, shipped with bm25s): the short list above plus pronouns, auxiliaries
# and question words ("my", "does", "why", "just"). BM25 keeps those (they are cheap and IDF weighs
# them down); what counts a text's content words drops them.
FUNCTION_WORDS = frozenset(STOPWORDS_EN_PLUS) | STOPWORDS


def tokenize(texts: list[str], stopwords: frozenset[str] = STOPWORDS) -> list[list[str]]:
    """Lower-cased words of two or more characters, English stop words dropped, then stemmed.

    The same tokens as `bm25s.tokenize(texts, stopwords="en", stemmer=..., return_ids=False)`
    (a test holds them equal), without its cost per call: it builds two progress bars and a
    vocabulary for every question, a fifth of a millisecond on the answer path."""
    return [_STEMMER.stemWords([w for w in _WORDS.findall(text.lower()) if w not in stopwords]) for text in texts]


class LexicalIndex:
    """BM25 scores for chunk positions 0..n-1."""

    def __init__(self, retriever: bm25s.BM25 | None, size: int) -> None:
        self._retriever = retriever
        self.size = size
        self._vocab = set(retriever.vocab_dict) if retriever is not None else set()

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        if not texts:  # bm25s cannot index an empty corpus
            return cls(None, 0)
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, len(texts))

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-k (chunk position, BM25 score) with score > 0, best first."""
        tokens = [t for t in tokenize([query])[0] if t in self._vocab]
        if not tokens or self._retriever is None:
            return []
        # Scores of every chunk, then the top k: bm25s's `retrieve` starts a thread pool on each call,
        # which cost more than the scoring itself (about 1.5 ms a question on this corpus).
        scores = self._retriever.get_scores(tokens)
        top = np.argsort(-scores, kind="stable")[: min(k, self.size)]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._retriever is None:
            raise ValueError("an empty lexical index has nothing to save")
        self._retriever.save(str(directory), show_progress=False)
        (directory / "size.json").write_text(json.dumps({"size": self.size}))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory), show_progress=False)
        size = int(json.loads((directory / "size.json").read_text())["size"])
        if int(retriever.scores["num_docs"]) != size:
            raise ValueError(f"lexical index holds {retriever.scores['num_docs']} chunks, expected {size}")
        return cls(retriever, size)
