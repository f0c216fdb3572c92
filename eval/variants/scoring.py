"""How every variant is scored and printed, beside today's choice from the same run.

`report_variant`: the calibration splits cross-validated by thread with the refit rule, each entry
left out of the fit, and the development sets decided by the model and threshold the rule fits on all
calibration rows (`refit`, `development_rates`). `report_curves`: the operating curve (the threshold
moved, on the real-phrasing calibration rows held out and on the development sets) and the area under
the ROC curve of the confidences (in scope with the right entry picked against the rest): a feature can
separate better where the issue's targets lie while the rule's F1-best threshold sits elsewhere.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.calibrate.cross_validation import held_out, operating_curve
from eval.calibrate.fit import Candidates, Model, Scorer, decide, logistic_model, most_confident, refit_rule
from eval.calibrate.rows import CalibrationRows, calibration_rows, course_retriever, report_rates
from eval.datasets import DEVELOPMENT_SETS
from eval.variants.paired import Decisions, decisions, report_against

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.search.retrieve import HybridRetriever


def refit(rows: CalibrationRows, columns: tuple[int, ...], model: Model = logistic_model) -> tuple[Scorer, float]:
    """The model fitted on all of `rows` and the threshold the refit rule sets (`refit_rule`), as `python -m
    eval.calibrate` fits the bot's (which also rounds the weights to four places first)."""
    scorer, _, _, threshold = refit_rule(rows.features, rows.labels, rows.right, columns,
                                         np.ones(len(rows.labels), dtype=bool), rows.candidates, model)
    return scorer, threshold


def picked(scorer: Scorer, rows: CalibrationRows, columns: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
    """`most_confident`, with the entry the bot answers from in place of its place among the candidates."""
    confidence, right, best = most_confident(scorer, columns, rows.candidates)
    return confidence, right, np.array([ids[i] if ids else "" for ids, i in zip(rows.entry_ids, best, strict=True)])


def development_rates(scorer: Scorer, threshold: float, development: CalibrationRows,
                      columns: tuple[int, ...]) -> dict[str, tuple[int, int, int, int]]:
    """Per development set: (in-scope rows answered from an expected entry, in-scope rows, out-of-scope rows
    declined, out-of-scope rows), by a fitted model and its threshold (`refit`), the bot answering from
    its most confident candidate."""
    score, picked_right = decide(scorer, columns, development.features, development.right, development.candidates)
    return rates_by_set(development, score >= threshold, picked_right)


def rates_by_set(development: CalibrationRows, answered: np.ndarray,
                 picked_right: np.ndarray) -> dict[str, tuple[int, int, int, int]]:
    """`development_rates`' counts per set, from each row's decision and whether its picked entry is right."""
    in_scope = development.labels == 1
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
                   model: Model = logistic_model, against: Decisions | None = None) -> Decisions:
    """Print a variant's cross-validated rates (`report_rates`), the threshold the rule fits on all rows and
    its development rates; with `against` (today's `Decisions`, from the same run), the difference row by
    row with its interval (`paired.report_against`). Returns the variant's own `Decisions`."""
    columns = tuple(range(rows.features.shape[1]))
    report_rates(name, rows, rows.candidates, columns, model)
    scorer, threshold = refit(rows, columns, model)
    print(f"{name:44} {'threshold, all rows':22} {threshold:.4f}")
    report_development(name, development_rates(scorer, threshold, development, columns))
    mine = decisions(rows, development, scorer, threshold, model)
    if against is not None:
        report_against(name, against, mine, rows, development)
    return mine


def rows_where(rows: CalibrationRows, keep: np.ndarray) -> CalibrationRows:
    """The rows `keep` marks, as rows of their own."""
    at = np.flatnonzero(keep)
    return CalibrationRows([rows.questions[i] for i in at], [rows.posts[i] for i in at],
                           [rows.embedded[i] for i in at], [rows.entry_ids[i] for i in at], rows.labels[at],
                           Candidates(rows.candidates.features[at], rows.candidates.right[at]))


def with_column(rows: CalibrationRows, column: np.ndarray, replaces: int | None = None) -> CalibrationRows:
    """`rows` with `column` (one value per row and candidate) after today's features, or in place of
    feature `replaces`."""
    features = rows.candidates.features
    if replaces is None:
        grown = np.concatenate([features, column[:, :, None]], axis=2)
    else:
        grown = features.copy()
        grown[:, :, replaces] = column
    return dataclasses.replace(rows, candidates=Candidates(grown, rows.candidates.right))


def without_column(rows: CalibrationRows, feature: int) -> CalibrationRows:
    """`rows` with feature `feature` left out of every candidate's features."""
    kept = np.delete(rows.candidates.features, feature, axis=2)
    return dataclasses.replace(rows, candidates=Candidates(kept, rows.candidates.right))


CURVE_SHOWN = (-0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3)  # `report_curves`' threshold offsets


def report_curves(name: str, rows: CalibrationRows, development: CalibrationRows) -> None:
    """Print a feature set's operating curve (answered and right / out of scope declined with the refit
    rule's threshold moved by each of CURVE_SHOWN) on the real-phrasing calibration rows held out and on the
    development sets decided by the model fitted on all calibration rows, and the area under each one's
    ROC curve (in scope with the right entry picked, against the rest)."""
    from sklearn.metrics import roc_auc_score

    columns = tuple(range(rows.features.shape[1]))
    real = np.array([row.split.startswith("real_posts") for row in rows.questions])
    curve = operating_curve(rows.features, rows.labels, rows.right, rows.groups, columns, real,
                            candidates=rows.candidates, offsets=CURVE_SHOWN)
    print(f"{name:44} {'real-phrasing rows':22} " + "  ".join(
        f"{offset:+.2f}: {rates['answered_right']:.3f} / {rates['declined_out_of_scope']:.3f}"
        for offset, rates in curve))
    scorer, threshold = refit(rows, columns)
    confidence, picked_right = decide(scorer, columns, development.features, development.right,
                                      development.candidates)
    in_scope = development.labels == 1
    answered = [confidence >= threshold + offset for offset in CURVE_SHOWN]
    print(f"{name:44} {'all development sets':22} " + "  ".join(
        f"{offset:+.2f}: {np.sum(in_scope & picked_right & yes) / in_scope.sum():.3f}"
        f" / {np.sum(~in_scope & ~yes) / (~in_scope).sum():.3f}"
        for offset, yes in zip(CURVE_SHOWN, answered, strict=True)))
    held, good = [], []
    for test, score, right, _ in held_out(rows.features, rows.labels, rows.right, rows.groups, columns,
                                          candidates=rows.candidates):
        held.append(score[test])
        good.append(((rows.labels == 1) & right)[test])
    print(f"{name:44} {'area under ROC curve':22} calibration rows held out "
          f"{roc_auc_score(np.concatenate(good), np.concatenate(held)):.4f}, development sets "
          f"{roc_auc_score(in_scope & picked_right, confidence):.4f}")


def report_beside_and_in_place(name: str, rows: CalibrationRows, development: CalibrationRows, column: np.ndarray,
                               development_column: np.ndarray, replaces: int, against: Decisions | None = None) -> None:
    """A feature read another way (`column` for the calibration rows, `development_column` for the development
    rows), scored after today's features and in place of feature `replaces`, each with its operating curve."""
    for where, placed in (("beside", None), ("in place", replaces)):
        grown = with_column(rows, column, placed)
        grown_development = with_column(development, development_column, placed)
        report_variant(f"{name} {where}", grown, grown_development, against=against)
        report_curves(f"{name} {where}", grown, grown_development)
