"""Other choices the abstention model could rest on, each measured beside today's in the same run.

    python -m eval.variants classifiers      # other forms of model on today's eight features
    python -m eval.variants chunks           # the TA answers cut into other chunks
    python -m eval.variants lexical-weight   # BM25's weight in the ranking score
    python -m eval.variants synonyms [FILE] [--without-second-meanings] [--answers-only]

Kinds of idea that no session had measured (docs/tried-ideas.md, last section), measured the way
features are chosen: the calibration splits cross-validated by thread with the refit rule
(`eval.calibrate.cross_validate`), then each entry left out of the fit (`new_entry_recall`); and the
blind development sets, read the same way and decided by the model and threshold the refit rule fits
on all calibration rows (`development_rates`; the bot's other layers, such as the course check and
small talk, are not run, so these are the model's own decisions). Every variant is printed after
today's choice, from the same run. Nothing here changes what the bot reads: a variant swaps one seam
(`bot.search.index.entry_chunks`, `bot.search.retrieve.LEXICAL_WEIGHT`,
`bot.search.abbreviations.GLOSSARY`) for the length of its own reading, in its own temporary index.

- `classifiers`: support-vector machines and small neural nets (scikit-learn), and two ensembles
  (the mean of three models' confidences), in the logistic regression's place, on the same features
  (standardised for scikit-learn), folds and threshold rule.
- `chunks`: windows of two or three consecutive answer sentences as more chunks, the whole answer as
  one more chunk, or no question-and-answer chunk.
- `lexical-weight`: how often the ranking's first entry, and the entry the bot answers from (the most
  confident of three candidates under today's calibration), is an expected one.
- `synonyms`: a list of term pairs (`eval/datasets/synonyms.tsv`, written by a helper who saw no part
  of the project) added to the abbreviations' glossary, so a post's "relative entropy" is read as the
  "KL divergence" the answers write; optionally without the pairs whose term has a second meaning, or
  only towards a form the TA answers themselves (question and answer) write.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np

from eval.calibrate import (
    CalibrationRows,
    Model,
    Scorer,
    calibration_rows,
    course_retriever,
    decide,
    logistic_model,
    refit_rule,
    report_rates,
)
from eval.datasets import DATASETS_DIR, DEVELOPMENT_SETS

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.knowledge import Entry
    from bot.search.index import Chunk
    from bot.search.retrieve import HybridRetriever

SYNONYMS_FILE = DATASETS_DIR / "synonyms.tsv"


def sklearn_model(make: Callable[[], Any]) -> Model:
    """A scikit-learn classifier (made fresh per fit) as a `Model`: its probability of the positive class."""
    def fit(features: np.ndarray, labels: np.ndarray) -> Scorer:
        fitted = make().fit(features, labels)
        return lambda x: fitted.predict_proba(x.reshape(-1, x.shape[-1]))[:, 1].reshape(x.shape[:-1])
    return fit


def other_classifiers() -> dict[str, Model]:
    """The forms of model `classifiers` compares with the logistic regression (imported here: scikit-learn
    comes with sentence-transformers, and only this measurement needs it)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    def scaled(classifier: Callable[[], Any]) -> Model:
        return sklearn_model(lambda: make_pipeline(StandardScaler(), classifier()))

    def svm(**options: Any) -> Model:
        # An SVM's margin made a probability by Platt scaling on internal folds, as SVC(probability=True) did.
        return scaled(lambda: CalibratedClassifierCV(SVC(**options), ensemble=False))
    models = {
        "SVM, RBF kernel, C 1": svm(C=1.0),
        "SVM, RBF kernel, C 0.3": svm(C=0.3),
        "SVM, linear": svm(kernel="linear"),
        "neural net, 16 hidden, L2 0.01": scaled(lambda: MLPClassifier((16,), alpha=1e-2, max_iter=2000,
                                                                        random_state=0)),
        "neural net, 8 hidden, L2 1": scaled(lambda: MLPClassifier((8,), alpha=1.0, max_iter=2000,
                                                                    random_state=0)),
    }
    net = models["neural net, 16 hidden, L2 0.01"]
    models["mean of logistic, linear SVM, net 16"] = averaged(logistic_model, models["SVM, linear"], net)
    models["mean of logistic, RBF SVM C 1, net 16"] = averaged(logistic_model, models["SVM, RBF kernel, C 1"], net)
    return models


def averaged(*models: Model) -> Model:
    """An ensemble: each model fitted on the same rows, the mean of their confidences."""
    def fit(features: np.ndarray, labels: np.ndarray) -> Scorer:
        scorers = [model(features, labels) for model in models]
        return lambda x: np.mean([scorer(x) for scorer in scorers], axis=0)
    return fit


def refit(rows: CalibrationRows, columns: tuple[int, ...], model: Model = logistic_model) -> tuple[Scorer, float]:
    """The model fitted on all of `rows` and the threshold the refit rule sets (`refit_rule`), as `python -m
    eval.calibrate` fits the bot's (which also rounds the weights to four places first)."""
    scorer, _, _, threshold = refit_rule(rows.features, rows.labels, rows.right, columns,
                                         np.ones(len(rows.labels), dtype=bool), rows.candidates, model)
    return scorer, threshold


def development_rates(scorer: Scorer, threshold: float, development: CalibrationRows,
                      columns: tuple[int, ...]) -> dict[str, tuple[int, int, int, int]]:
    """Per development set: (in-scope rows answered from an expected entry, in-scope rows, out-of-scope rows
    declined, out-of-scope rows), by a fitted model and its threshold (`refit`), the bot answering from
    its most confident candidate."""
    score, picked_right = decide(scorer, columns, development.features, development.right, development.candidates)
    answered, in_scope = score >= threshold, development.labels == 1
    rates = {}
    for name in dict.fromkeys(row.split for row in development.questions):
        mine = np.array([row.split == name for row in development.questions])
        rates[name] = (int(np.sum(mine & in_scope & answered & picked_right)), int(np.sum(mine & in_scope)),
                       int(np.sum(mine & ~in_scope & ~answered)), int(np.sum(mine & ~in_scope)))
    return rates


def report_development(name: str, rates: dict[str, tuple[int, int, int, int]]) -> None:
    """Print `development_rates`, each set and all of them."""
    for set_name, (right, in_scope, declined, out_of_scope) in [*rates.items(),
                                                                 ("all development sets", tuple(map(sum, zip(
                                                                     *rates.values(), strict=True))))]:
        print(f"{name:44} {set_name:22} answered and right {right}/{in_scope} ({right / in_scope:.3f})   "
              f"out of scope declined {declined}/{out_of_scope} ({declined / out_of_scope:.3f})")


def read_both(settings: Settings, retriever: HybridRetriever | None = None) -> tuple[CalibrationRows, CalibrationRows]:
    """The calibration rows and the development rows, read by `retriever`, else by one indexed afresh in a
    temporary folder (so a variant's index never mixes with today's; the rows keep only what was read)."""
    if retriever is None:
        with tempfile.TemporaryDirectory(prefix="tabot-variant-") as scratch:
            in_scratch = settings.with_(data_dir=Path(scratch))
            return read_both(in_scratch, course_retriever(in_scratch))
    rows, _ = calibration_rows(settings, retriever=retriever)
    development, _ = calibration_rows(settings, retriever=retriever, sets=DEVELOPMENT_SETS)
    return rows, development


def report_variant(name: str, rows: CalibrationRows, development: CalibrationRows,
                   model: Model = logistic_model) -> None:
    columns = tuple(range(rows.features.shape[1]))
    report_rates(name, rows, rows.candidates, columns, model)
    scorer, threshold = refit(rows, columns, model)
    print(f"{name:44} {'threshold, all rows':22} {threshold:.4f}")
    report_development(name, development_rates(scorer, threshold, development, columns))


def chunkings() -> dict[str, Callable[[Entry], list[Chunk]]]:
    """The other ways `chunks` cuts an entry, each built on today's `entry_chunks` (taken here, before any
    of them stands in for it)."""
    from bot.search.index import Chunk, entry_chunks

    def windows(width: int) -> Callable[[Entry], list[Chunk]]:
        def chunks(entry: Entry) -> list[Chunk]:
            said = entry.sentences
            runs = [" ".join(said[i:i + width]) for i in range(len(said) - width + 1)] if len(said) > width else []
            return entry_chunks(entry) + [Chunk(f"{entry.id}::window{width}::{i}", entry.id, "sentence", text)
                                          for i, text in enumerate(runs)]
        return chunks

    return {
        "two-sentence windows": windows(2),
        "three-sentence windows": windows(3),
        "the whole answer as a chunk": lambda entry: [*entry_chunks(entry), Chunk(f"{entry.id}::answer", entry.id,
                                                                                  "sentence", entry.answer)],
        "no question-and-answer chunk": lambda entry: [c for c in entry_chunks(entry) if c.kind != "qa"],
    }


@contextmanager
def glossary(pairs: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """The abbreviations' glossary with `pairs` added, for the length of the block. The directions are
    worked out once per knowledge base and cached (`bot.search.abbreviations._read_entries`), so the
    cache is emptied on the way in and out."""
    from bot.search import abbreviations

    abbreviations._read_entries.cache_clear()
    try:
        with mock.patch.object(abbreviations, "GLOSSARY", abbreviations.GLOSSARY + pairs):
            yield
    finally:
        abbreviations._read_entries.cache_clear()


def synonym_pairs(path: Path, without_second_meanings: bool = False) -> tuple[tuple[str, str], ...]:
    """The (term, canonical) pairs of a synonyms file (tab-separated: term, canonical, source,
    second_meaning); without the pairs whose term has a second meaning, if asked."""
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple((row["term"].strip(), row["canonical"].strip()) for row in csv.DictReader(handle, delimiter="\t")
                     if not (without_second_meanings and (row["second_meaning"] or "").strip()))


def towards_the_answers(pairs: tuple[tuple[str, str], ...], entries: list[Entry]) -> tuple[tuple[str, str], ...]:
    """The pairs the glossary's rule would read towards a form the TA answers (question and answer) write,
    not only their aliases, tags or near misses."""
    from bot.search import abbreviations

    with mock.patch.object(abbreviations, "GLOSSARY", pairs):
        readings = abbreviations.Abbreviations.of(text for entry in entries for text in (entry.question, entry.answer))
    kept = {(reading.typed, reading.used) for reading in readings.readings}
    return tuple(pair for pair in pairs if pair in kept or pair[::-1] in kept)


def ranking_firsts(settings: Settings, weights: tuple[float, ...]) -> None:
    """For each lexical weight: of the in-scope calibration and development rows, how many the ranking's
    first entry is right for, and how many the entry the bot answers from (its most confident candidate,
    under today's calibration) is."""
    from bot.search import retrieve

    calibration = retrieve.Calibration.load()
    with tempfile.TemporaryDirectory(prefix="tabot-variant-") as scratch:
        in_scratch = settings.with_(data_dir=Path(scratch))
        retriever = course_retriever(in_scratch)  # the weight orders the candidates; the index does not change
        by_weight = {}
        for weight in weights:
            with mock.patch.object(retrieve, "LEXICAL_WEIGHT", weight):
                by_weight[weight] = read_both(in_scratch, retriever)
    for weight, (rows, development) in by_weight.items():
        for name, read in (("calibration", rows), ("development", development)):
            in_scope = read.labels == 1
            first = read.candidates.right[:, 0]
            confidence = np.apply_along_axis(lambda f: calibration.confidence(*f), 2, read.candidates.features)
            answers_from = read.candidates.right[np.arange(len(read.labels)), confidence.argmax(axis=1)]
            print(f"lexical weight {weight:<5g} {name:12} in scope {int(in_scope.sum())}: ranking's first right "
                  f"{int(np.sum(in_scope & first))}, "
                  f"the entry answered from right {int(np.sum(in_scope & answers_from))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.variants", description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=("classifiers", "chunks", "lexical-weight", "synonyms"))
    parser.add_argument("file", nargs="?", type=Path, default=SYNONYMS_FILE, help="for synonyms: the pairs")
    parser.add_argument("--without-second-meanings", action="store_true",
                        help="for synonyms: leave out pairs whose term has a second meaning")
    parser.add_argument("--answers-only", action="store_true",
                        help="for synonyms: only pairs read towards a form the TA answers write")
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.knowledge import load_entries

    settings = Settings.from_env()
    if args.variant == "lexical-weight":
        from bot.search.retrieve import LEXICAL_WEIGHT

        ranking_firsts(settings, (LEXICAL_WEIGHT, 0.0, 0.4, 0.8))
        return 0
    rows, development = read_both(settings)
    report_variant("today", rows, development)
    if args.variant == "classifiers":
        for name, model in other_classifiers().items():
            report_variant(name, rows, development, model)
    elif args.variant == "chunks":
        for name, chunks in chunkings().items():
            with mock.patch("bot.search.index.entry_chunks", chunks):
                report_variant(name, *read_both(settings))
    else:
        pairs = synonym_pairs(args.file, args.without_second_meanings)
        if args.answers_only:
            pairs = towards_the_answers(pairs, load_entries(settings.knowledge_dir))
        with glossary(pairs):
            report_variant(f"synonyms ({len(pairs)} pairs)", *read_both(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
