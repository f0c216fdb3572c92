"""Semantic coverage: does every content word of a question find a close word in a TA answer?

A post's sentence vector says what it is *about*; two questions about the same topic get close
vectors even when one asks something the TA answer never says ("is Adam second order?" is
covered, "what does Adam's epsilon do?" is not). Late interaction (ColBERT's MaxSim) looks one
level down: each content word piece of the question, in context (MiniLM's last hidden state),
takes its best cosine to any word piece of the entry's texts; the question's score is their mean
(smoothed like lexical coverage, so two words are not full evidence).
A question whose words all have a near match in the entry scores high; one word with no
counterpart ("epsilon", "temperature", "nesterov") pulls it down, synonyms do not ("logit" sits
near "output"). It is a mean over the question's own words, so it means the same for a 10-word
question and a 300-word post; over a whole post's prose it counts only the best-covered few
(`best`), since the words a student writes about themselves around a question are not asked.

The word pieces kept are the same for both encoder backends: ids of the shared vocabulary that
are not special tokens, punctuation or English stop words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bot.search.lexical import STOPWORDS


def content_piece_mask(vocabulary: Mapping[str, int]) -> np.ndarray:
    """A boolean per token id: True for word pieces that carry content."""
    mask = np.zeros(max(vocabulary.values()) + 1, dtype=bool)
    for piece, token_id in vocabulary.items():
        word = piece.removeprefix("##")
        mask[token_id] = word.isalnum() and not (piece.startswith("[") and piece.endswith("]")) and (
            piece.startswith("##") or word not in STOPWORDS)
    return mask


def content_rows(hidden: np.ndarray, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The unit-length hidden states (rows) of one text's content pieces; `ids` its unpadded ids."""
    rows = hidden[: len(ids)][mask[ids]]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.clip(norms, 1e-12, None)).astype(np.float32)


def cosines(question: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Each of the question's content pieces' cosine to each of the entry's, a row per question piece
    (no rows when either side has no pieces)."""
    if len(question) == 0 or len(entry) == 0:
        return np.zeros((0, len(entry)), dtype=np.float32)
    return question @ entry.T


def best_of_rows(similarity: np.ndarray) -> np.ndarray:
    """Each row's best cosine (none for no rows): `best_matches` from a product already made."""
    return similarity.max(axis=1) if len(similarity) else np.zeros(0, dtype=np.float32)


def best_matches(question: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Each of the question's content pieces' best cosine to any of the entry's pieces (none when
    either has no pieces): computed once, read as the focus's and as the prose's coverage."""
    return best_of_rows(cosines(question, entry))


def largest(values: np.ndarray, count: int) -> np.ndarray:
    """The `count` largest of `values`, in no particular order (all of them when there are fewer)."""
    return np.partition(values, len(values) - count)[-count:] if len(values) > count else values


def coverage_of(matches: np.ndarray, pseudo_pieces: int = 0, best: int | None = None) -> float:
    """The sum of `matches` over their number plus `pseudo_pieces` unmatched ones: as with lexical
    coverage, a question of one or two words ("and the reverse one?") is weak evidence however well
    its words match.

    With `best`, only the `best` best matches count (all of them when there are fewer): what the
    entry has for the post's words that concern it, whatever else the post says. A post's greeting,
    its author's project and setup add pieces that no TA answer covers; a mean over all of them falls
    with every sentence of such context, so the same question read as a longer post would look less
    covered."""
    if len(matches) == 0:
        return 0.0
    if best is not None:
        matches = largest(matches, best)
    return float(matches.sum() / (len(matches) + pseudo_pieces))


def semantic_coverage(question: np.ndarray, entry: np.ndarray, pseudo_pieces: int = 0,
                      best: int | None = None) -> float:
    """`coverage_of` the question's pieces' `best_matches` in the entry."""
    return coverage_of(best_matches(question, entry), pseudo_pieces, best)


@dataclass(frozen=True)
class Texts:
    """Several short texts' content pieces stacked in one matrix, so that comparing a question with
    all of them is one product; `starts` says where each text's rows begin (no text is empty), and
    `kept` which of the texts given to `of` they are (a text of stop words only has nothing to match
    and is left out)."""

    rows: np.ndarray
    starts: np.ndarray
    kept: tuple[int, ...] = ()

    @classmethod
    def of(cls, pieces: Sequence[np.ndarray]) -> Texts:
        kept = tuple(i for i, rows in enumerate(pieces) if len(rows))
        if not kept:
            return cls(np.empty((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64))
        # Column-major, as an entry's pieces are (`bot.search.pieces`): the product takes the transpose.
        return cls(np.vstack([pieces[i] for i in kept]).astype(np.float32, order="F"),
                   np.cumsum([0] + [len(pieces[i]) for i in kept[:-1]]), kept)

    def __len__(self) -> int:
        return len(self.starts)

    @cached_property
    def lengths(self) -> np.ndarray:
        """How many rows each text has: an entry's texts are matched against every post."""
        return np.diff(np.append(self.starts, len(self.rows)))


# How many of the texts an agreement averages (`best_agreement`): the best-agreeing one alone is an
# extreme over however many texts there are, so it rises by chance with a longer list (aliases,
# near misses); the mean of the best few says how well the question agrees with that *kind* of
# question. Chosen by cross-validation on the calibration splits (docs/real-phrasing.md,
# twenty-first session): 1, 2, 3, 4, 5 and 8 were measured, 3-5 alike and above 1.
AGREEING_TEXTS = 4


def agreements(question: np.ndarray, texts: Texts) -> np.ndarray:
    """Per text kept (`Texts.kept`), how closely the question's words say what it says: BERTScore's F1 over content
    pieces, the harmonic mean of the question's pieces' mean best match in the text and the text's
    pieces' mean best match in the question (zeros when the question has no pieces). Coverage asks
    only the first half; two questions agree when each says what the other says, not only when one's
    words occur in the other."""
    if len(question) == 0 or len(texts) == 0:
        return np.zeros(len(texts))
    return agreements_of(question @ texts.rows.T, texts)


def agreements_of(similarity: np.ndarray, texts: Texts) -> np.ndarray:
    """`agreements` from the question's pieces' cosines to the texts' pieces (a row per question
    piece, a column per row of `texts.rows`, at least one of each): what a caller that has already
    multiplied the question by a matrix beginning with those rows passes, its first columns."""
    # Sums over counts, not `mean`: the same numbers without numpy's bookkeeping around a small array.
    recall = np.maximum.reduceat(similarity, texts.starts, axis=1).sum(axis=0) / len(similarity)
    precision = np.add.reduceat(similarity.max(axis=0), texts.starts) / texts.lengths
    total = recall + precision
    # Cosines of unrelated pieces can be negative: a pair that agrees in nothing scores 0, not a
    # ratio of two small numbers.
    return np.where(total > 0, 2 * recall * precision / np.where(total > 0, total, 1.0), 0.0)


def best_agreement(question: np.ndarray, texts: Texts, best: int = AGREEING_TEXTS) -> float:
    """How closely the question's words say what `texts` say: the mean of the `best` highest
    `agreements` (all of them when there are fewer; 0 when either side has no pieces)."""
    if len(texts) == 0:
        return 0.0
    return mean_of_best(agreements(question, texts), best)


def mean_of_best(agreeing: np.ndarray, best: int = AGREEING_TEXTS) -> float:
    """The mean of the `best` highest of `agreeing` (all of them when there are fewer)."""
    agreeing = largest(agreeing, best)
    return float(agreeing.sum() / len(agreeing))
