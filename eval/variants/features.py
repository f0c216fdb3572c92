"""More features from what today's reading already holds, after today's eight or in place of one.

- `density`: a post's density among the course's own texts as more features, the same for every
  candidate: the soft maximum (`soft_maximum`) of its prose's and its focus's cosines to all entries'
  questions and aliases, against the same over all near misses (their difference, or both), at three
  temperatures. The near-miss features compare a post with one entry's lines at a time; these ask
  whether the post sits among what students ask the answers, or among what they ask next to them.
- `prose-near-miss`: the eighth feature (the near miss read word by word) read from the post's prose as
  well as from its question (`prose_near_miss`): beside today's eight, or in place of the question's,
  each with its operating curve (`scoring.report_curves`).
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


def held_in(pieces: np.ndarray, texts: Texts) -> np.ndarray:
    """Per text, the mean over its pieces of each one's best cosine to `pieces`: how much of it a post holds."""
    return np.add.reduceat((pieces @ texts.rows.T).max(axis=0), texts.starts) / texts.lengths
