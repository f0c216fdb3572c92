"""More features from what today's reading already holds, after today's eight or in place of one.

- `density`: a post's density among the course's own texts as more features, the same for every
  candidate: the soft maximum (`soft_maximum`) of its prose's and its focus's cosines to all entries'
  questions and aliases, against the same over all near misses (their difference, or both), at three
  temperatures. The near-miss features compare a post with one entry's lines at a time; these ask
  whether the post sits among what students ask the answers, or among what they ask next to them.
- `prose-near-miss`: the eighth feature (the near miss read word by word) read from the post's prose as
  well as from its question (`prose_near_miss`): beside today's eight, or in place of the question's,
  each with its operating curve (`scoring.report_curves`).
- `idf`: the question's words weighed by how rare they are among the course's own short texts
  (`RarityWeights`: BERTScore's idf, with a word piece's document frequency counted softly, since the
  pieces are vectors in context), in the near miss read word by word (`idf_near_miss`) and in the
  question's semantic coverage (`idf_focus_coverage`). "An image can have several tags at once, so sigmoid
  per tag or one softmax over all tags?" agrees with softmax-vs-sigmoid's own questions on "sigmoid" and
  "softmax", which nearly all of that entry's questions and near misses share; the words that say what
  it asks ("several tags at once") are rare there, and are what its near miss "my targets can have
  several 1s at once, ..." shares with it.
- `crux`: the near miss read at the one word that decides it (`crux_near_miss`). The eighth feature
  averages a question's agreement over all its words, so a question that shares every word with the
  entry's own questions but one ("Can KL divergence be infinite?" against "why is kl divergence not
  symmetric") agrees with them best, though that one word ("infinite") is what a near miss says ("can
  a kl divergence value be bigger than 1 or is it bounded"). Per word piece of the question: its best
  match among the near misses nearest the post, minus its best match among the entry's own texts; the
  feature is the largest such lean (or the mean of the largest two), at least zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from eval.calibrate.rows import CalibrationRows
from eval.variants.scoring import with_column

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.search.retrieve import HybridRetriever
    from bot.search.token_match import Texts


DENSITY_TEMPERATURES = (0.02, 0.05, 0.1)


def soft_maximum(cosines: np.ndarray, temperature: float) -> np.ndarray:
    """Per row, temperature × log of the mean of exp(cosine / temperature): the largest cosine as the
    temperature falls to zero, their mean as it grows, and between the two a density of the texts around
    the post."""
    top = cosines.max(axis=1)
    return top + temperature * np.log(np.mean(np.exp((cosines - top[:, None]) / temperature), axis=1))


def with_density(rows: CalibrationRows, asked: np.ndarray, near_misses: np.ndarray, temperature: float,
                 difference: bool) -> CalibrationRows:
    """`rows` with their posts' density features after today's, for each of prose and focus: the soft
    maximum of their cosines to `asked` (unit vectors of the entries' questions and aliases) minus that
    to `near_misses` (`difference`), or both soft maxima."""
    columns = []
    for read in (1, 0):  # the prose, then the focus (`CalibrationRows.embedded`)
        vectors = np.stack([embedded[read].vector for embedded in rows.embedded])
        towards, away = soft_maximum(vectors @ asked.T, temperature), soft_maximum(vectors @ near_misses.T, temperature)
        columns += [towards - away] if difference else [towards, away]
    candidates = rows.candidates.features.shape[1]
    for column in columns:  # one value per post, the same for every candidate
        rows = with_column(rows, np.repeat(column[:, None], candidates, axis=1))
    return rows


def course_texts(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of all entries' questions and aliases, and of all their near misses (MiniLM, as the
    bot reads them)."""
    from bot.knowledge import load_entries
    from bot.search.embeddings import shared_model

    entries = load_entries(settings.knowledge_dir)
    model = shared_model()
    return (model.encode_array([text for entry in entries for text in (entry.question, *entry.aliases)]),
            model.encode_array([text for entry in entries for text in entry.near_misses]))


def prose_near_miss(rows: CalibrationRows, retriever: HybridRetriever, held: bool = False) -> np.ndarray:
    """Per row and candidate, the near miss read word by word from the whole post's prose, as the eighth
    feature reads it from the question: how much more the prose agrees with the near misses nearest it
    than with the candidate entry's own questions (`NearMisses.agreement` minus `best_agreement`). In a
    long post what makes its question a near miss often sits beside the question ("for my multi-label
    tagging task, ..."), where the question's own reading does not look. With `held`, BERTScore's
    precision side only: how much of each text the prose holds (`held_in`), whatever else it says. A
    one-line question is its own prose: its value is the eighth feature's."""
    from bot.search.retrieve import Calibration
    from bot.search.token_match import best_agreement, mean_of_best

    def agreeing(pieces: np.ndarray, texts: Texts) -> float:
        if not len(texts):
            return 0.0
        return mean_of_best(held_in(pieces, texts)) if held else best_agreement(pieces, texts)

    features = rows.candidates.features
    column = features[:, :, Calibration.FEATURES.index("near_miss_words")].copy()
    index = retriever.index
    for i, ((focus, prose), entry_ids) in enumerate(zip(rows.embedded, rows.entry_ids, strict=True)):
        if prose is focus or not len(prose.pieces):
            continue
        near = agreeing(prose.pieces, index.near_misses.nearest_texts(prose.vector))
        for j, entry_id in enumerate(entry_ids[:features.shape[1]]):
            column[i, j] = near - agreeing(prose.pieces, index.entry_pieces(entry_id).asked)
    return column


CRUX_OWN_TEXTS = ("asked", "all")  # the entry's own questions and aliases, or every piece of the entry
CRUX_PIECES = (1, 2)  # the question's pieces that lean furthest towards the near misses, averaged


def crux_near_miss(rows: CalibrationRows, retriever: HybridRetriever, own_texts: str, pieces: int) -> np.ndarray:
    """Per row and candidate, how far the question's most near-miss-like word pieces lean: for each piece,
    its best cosine to a piece of the near misses nearest the post minus its best cosine to a piece of
    the entry's own texts (`own_texts`: "asked", its question and aliases; "all", its answer too); the
    mean of the `pieces` largest, and zero when no piece leans towards the near misses."""
    from bot.search.token_match import best_matches, largest

    features = rows.candidates.features
    column = np.zeros(features.shape[:2])
    index = retriever.index
    for i, ((focus, _), entry_ids) in enumerate(zip(rows.embedded, rows.entry_ids, strict=True)):
        nearest = index.near_misses.nearest_texts(focus.vector)
        if not len(focus.pieces) or not len(nearest):
            continue
        towards_near_misses = best_matches(focus.pieces, nearest.rows)
        for j, entry_id in enumerate(entry_ids[:features.shape[1]]):
            entry = index.entry_pieces(entry_id)
            own = entry.asked.rows if own_texts == "asked" else entry.rows
            lean = towards_near_misses - best_matches(focus.pieces, own)
            column[i, j] = max(0.0, float(largest(lean, pieces).mean()))
    return column


def held_in(pieces: np.ndarray, texts: Texts) -> np.ndarray:
    """Per text, the mean over its pieces of each one's best cosine to `pieces`: how much of it a post holds."""
    return np.add.reduceat((pieces @ texts.rows.T).max(axis=0), texts.starts) / texts.lengths


# The cosines at which a piece of the course's texts counts as the same word as a question's piece
# (`RarityWeights`). Measured on six one-piece words (gradient, entropy, accuracy, image, loss, order), each
# read alone against the course's questions, aliases and near misses (a scratch script): the texts that say
# the word hold a piece at a median cosine of 0.66-0.84 to it; the best piece of a text without it reaches
# 0.37-0.57.
IDF_SAME_WORD = (0.6, 0.7, 0.8)


class RarityWeights:
    """Each word piece's idf among the course's own short texts (every entry's question and aliases, and
    every near miss): log((N + 1) / (df + 1)), where df counts the texts holding a piece at a cosine of at
    least `same_word` to it. A word every text of an entry and its near misses says ("softmax") weighs
    little; one that no text says weighs most."""

    def __init__(self, texts: list[np.ndarray], same_word: float) -> None:
        kept = [rows for rows in texts if len(rows)]
        self.pool = np.vstack(kept).astype(np.float32)
        self.starts = np.cumsum([0] + [len(rows) for rows in kept[:-1]])
        self.count = len(kept)
        self.same_word = same_word

    @classmethod
    def of_course(cls, retriever: HybridRetriever, same_word: float) -> RarityWeights:
        index = retriever.index
        texts: list[np.ndarray] = []
        for entry_id in sorted(retriever.entries):
            asked = index.entry_pieces(entry_id).asked
            texts += [asked.rows[start:start + length] for start, length in zip(asked.starts, asked.lengths,
                                                                                  strict=True)]
        return cls(texts + list(index.near_misses.pieces), same_word)

    def __call__(self, pieces: np.ndarray) -> np.ndarray:
        if not len(pieces):
            return np.zeros(0)
        per_text = np.maximum.reduceat(pieces @ self.pool.T, self.starts, axis=1)  # a row per piece
        return np.log((self.count + 1) / ((per_text >= self.same_word).sum(axis=1) + 1))


def weighted_agreements(question: np.ndarray, weights: np.ndarray, texts: Texts,
                        text_weights: np.ndarray) -> np.ndarray:
    """`bot.search.token_match.agreements` with each piece weighed (BERTScore's idf form): the question's
    pieces' weighted mean best match in each text, and each text's pieces' weighted mean best match in
    the question, their harmonic mean. All weights 1 give today's agreements."""
    if len(question) == 0 or len(texts) == 0:
        return np.zeros(len(texts))
    similarity = question @ texts.rows.T
    best_in_text = np.maximum.reduceat(similarity, texts.starts, axis=1)
    recall = (weights[:, None] * best_in_text).sum(axis=0) / max(weights.sum(), 1e-12)
    precision = (np.add.reduceat(text_weights * similarity.max(axis=0), texts.starts)
                 / np.maximum(np.add.reduceat(text_weights, texts.starts), 1e-12))
    total = recall + precision
    return np.where(total > 0, 2 * recall * precision / np.where(total > 0, total, 1.0), 0.0)


def _question_weights(weigh: RarityWeights, pieces: np.ndarray) -> np.ndarray:
    """`weigh`'s weights for a question's pieces; equal weights when every piece is in every text."""
    weights = weigh(pieces)
    return weights if weights.sum() > 0 else np.ones(len(pieces))


def idf_near_miss(rows: CalibrationRows, retriever: HybridRetriever, weigh: RarityWeights) -> np.ndarray:
    """Per row and candidate, the eighth feature (how much more the question agrees word by word with the
    near misses nearest it than with the entry's own questions) with every piece weighed by `weigh`."""
    from bot.search.retrieve import Calibration
    from bot.search.token_match import mean_of_best

    features = rows.candidates.features
    column = features[:, :, Calibration.FEATURES.index("near_miss_words")].copy()
    index = retriever.index
    asked_weights: dict[str, np.ndarray] = {}  # an entry's own questions weigh the same for every post
    for i, ((focus, _), entry_ids) in enumerate(zip(rows.embedded, rows.entry_ids, strict=True)):
        if not len(focus.pieces):
            continue
        weights = _question_weights(weigh, focus.pieces)
        nearest = index.near_misses.nearest_texts(focus.vector)
        near = (mean_of_best(weighted_agreements(focus.pieces, weights, nearest, weigh(nearest.rows)))
                if len(nearest) else 0.0)
        for j, entry_id in enumerate(entry_ids[:features.shape[1]]):
            asked = index.entry_pieces(entry_id).asked
            if entry_id not in asked_weights:
                asked_weights[entry_id] = weigh(asked.rows)
            own = weighted_agreements(focus.pieces, weights, asked, asked_weights[entry_id]) if len(asked) else None
            column[i, j] = near - (mean_of_best(own) if own is not None else 0.0)
    return column


def idf_focus_coverage(rows: CalibrationRows, retriever: HybridRetriever, weigh: RarityWeights) -> np.ndarray:
    """Per row and candidate, the question's semantic coverage in the entry (the fourth feature) as a
    weighted mean: each piece's best match weighed by `weigh`, the pseudo-terms by the mean weight."""
    from bot.search.retrieve import COVERAGE_PSEUDO_TERMS, Calibration
    from bot.search.token_match import best_matches

    features = rows.candidates.features
    column = features[:, :, Calibration.FEATURES.index("meaning_focus")].copy()
    for i, ((focus, _), entry_ids) in enumerate(zip(rows.embedded, rows.entry_ids, strict=True)):
        if not len(focus.pieces):
            continue
        weights = _question_weights(weigh, focus.pieces)
        for j, entry_id in enumerate(entry_ids[:features.shape[1]]):
            matches = best_matches(focus.pieces, retriever.index.entry_pieces(entry_id).rows)
            column[i, j] = float((weights * matches).sum()
                                 / (weights.sum() + COVERAGE_PSEUDO_TERMS * weights.mean()))
    return column
