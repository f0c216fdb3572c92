"""Near misses: questions next to a TA answer's topic that no answer here covers.

Staff list them per entry (`near_misses:` in its front matter, each following a real post:
`knowledge/near_miss_sources.tsv`): "why does Adam need bias correction?" next to the answer on
adaptive learning rates. They are never searched as an entry's text. The abstention model reads
them two ways:
- the post's best cosine to any of them, by how much it exceeds the post's question's cosine to the
  entry (`bot.search.retrieve.near_miss_margin`): sentence cosines say what topic a post is on, and
  a post nearer a known uncovered question than to the answer is less likely to be one the answer
  covers;
- word by word: how much better the post's question agrees with the closest near misses than with
  the entry's own questions (`bot.search.token_match.best_agreement` over their content pieces,
  the mean of the few texts that agree best on each side, against the near misses nearest the
  question by sentence cosine, `NearMisses.agreement`).
  Two questions on one topic get close sentence vectors however they differ in what they ask;
  their words, matched both ways, keep more of that difference.

Their vectors and word pieces are kept in one small file per collection beside the entries' pieces,
keyed by text: a restart reads them (no encoding at start-up), an edit encodes only the new ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.knowledge import Entry
from bot.search.pieces import DIMENSION, rounded_as_stored, save_npz
from bot.search.token_match import AGREEING_TEXTS, Texts, agreements, best_agreement

# Word by word, a post is matched with the near misses nearest its question by sentence cosine only
# (and its agreement is the mean of the best few of those, `token_match.AGREEING_TEXTS`):
# on the calibration rows the best-agreeing of the 204 near misses is among the 16 nearest for 96.6 %
# of posts (98.5 % among 32, and cross-validation scores 16 and 32 alike), and matching 16 instead of
# all of them costs a thirteenth of the product.
NEAREST_NEAR_MISSES = 16


@dataclass(frozen=True)
class NearMisses:
    """Every entry's near misses (distinct texts), their unit vectors (a row each) and their content
    word pieces (an array each)."""

    texts: tuple[str, ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, DIMENSION), dtype=np.float32))
    pieces: tuple[np.ndarray, ...] = ()

    def closest(self, vector: np.ndarray) -> float | None:
        """The best cosine of a unit `vector` to any near miss; None when the knowledge base lists none."""
        return float((self.vectors @ vector).max()) if self.texts else None

    def nearest(self, vector: np.ndarray) -> list[int]:
        """Indices of the NEAREST_NEAR_MISSES near misses nearest a unit `vector` by cosine, in list order."""
        cosines = self.vectors @ vector
        if len(cosines) <= NEAREST_NEAR_MISSES:
            return list(range(len(cosines)))
        return sorted(np.argpartition(-cosines, NEAREST_NEAR_MISSES)[:NEAREST_NEAR_MISSES].tolist())

    def agreement(self, vector: np.ndarray, pieces: np.ndarray) -> float:
        """`best_agreement` of a question's content `pieces` with the near misses, among the
        NEAREST_NEAR_MISSES nearest its unit `vector`; 0 when the knowledge base lists none."""
        if not self.texts:
            return 0.0
        return best_agreement(pieces, self.nearest_texts(vector))

    def nearest_texts(self, vector: np.ndarray) -> Texts:
        """The pieces of the NEAREST_NEAR_MISSES near misses nearest a unit `vector`, as `Texts`."""
        return self._texts(self.nearest(vector))

    def agreeing(self, vector: np.ndarray, pieces: np.ndarray, count: int = AGREEING_TEXTS) -> list[tuple[str, float]]:
        """The near misses `agreement` averages over, best first, each with its own agreement: what
        staff read to see which listed question a post was taken for (`bot.answering.explain`)."""
        nearest = self.nearest(vector) if self.texts else []
        texts = self._texts(nearest)
        scores = agreements(pieces, texts)
        return [(self.texts[nearest[texts.kept[j]]], float(scores[j]))
                for j in np.argsort(-scores, kind="stable")[:count]]

    def _texts(self, which: list[int]) -> Texts:
        """`Texts.of` the pieces of the near misses `which`, gathered from all of them stacked once
        (`_stacked`). Stacking the nearest few anew for every post, in the column-major order
        `Texts.of` copies into, cost more than matching them: a post's agreement took 0.30 ms that way
        and takes 0.21 ms now (the 988 test questions, median of 5 passes), with the same values: to the
        bit on every calibration and development post (a product in another memory order may round
        its last bit otherwise)."""
        kept = tuple(j for j, i in enumerate(which) if len(self.pieces[i]))
        if not kept:
            return Texts.of([])
        rows, positions = self._stacked
        picked = [positions[which[j]] for j in kept]
        return Texts(rows[np.concatenate(picked)], np.cumsum([0] + [len(p) for p in picked[:-1]]), kept)

    @cached_property
    def _stacked(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Every near miss's pieces in one row-major matrix, and which of its rows each one's are."""
        ends = np.cumsum([len(p) for p in self.pieces], dtype=np.int64)
        rows = (np.vstack(self.pieces).astype(np.float32) if self.pieces
                else np.empty((0, DIMENSION), dtype=np.float32))
        return rows, [np.arange(end - len(p), end) for end, p in zip(ends, self.pieces, strict=True)]


class NearMissStore:
    """`<file>.npz`: the near misses' texts, vectors and word pieces, rewritten whenever the set of
    texts changes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                texts, counts = stored["texts"].tolist(), stored["counts"]
                pieces = np.split(stored["pieces"].astype(np.float32), np.cumsum(counts)[:-1])
                return dict(zip(texts, zip(stored["vectors"].astype(np.float32), pieces, strict=True), strict=True))
        except (OSError, ValueError, KeyError):  # never written, unreadable, or from before the pieces: encode again
            return {}

    def sync(self, entries: list[Entry],
             encode: Callable[[list[str]], tuple[np.ndarray, list[np.ndarray]]]) -> NearMisses:
        """The entries' near misses with their vectors and pieces (`encode`: an encoder's
        `encode_with_pieces`), encoding only texts the file does not hold."""
        wanted = sorted({text for entry in entries for text in entry.near_misses})
        known = self._load()
        stale = set(known) != set(wanted)  # new texts, or some removed: rewrite so the file holds exactly these
        missing = [text for text in wanted if text not in known]
        if missing:
            vectors, pieces = encode(missing)
            known.update(zip(missing, zip(np.asarray(vectors, dtype=np.float32), pieces, strict=True), strict=True))
        vectors = (np.stack([known[text][0] for text in wanted]) if wanted
                   else np.empty((0, DIMENSION), dtype=np.float32))
        pieces = [known[text][1] for text in wanted]
        if stale:
            stacked = np.vstack(pieces) if pieces else np.empty((0, DIMENSION))
            save_npz(self.path, texts=np.array(wanted, dtype=str), vectors=vectors,
                     pieces=stacked.astype(np.float16), counts=np.array([len(p) for p in pieces], dtype=np.int64))
            # What a later load gives (float16 pieces), so the first answers score as every later one.
            pieces = [rounded_as_stored(p) for p in pieces]
        return NearMisses(tuple(wanted), vectors, tuple(pieces))
