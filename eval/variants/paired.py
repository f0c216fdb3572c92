"""A variant against today's choice, row by row: how large a difference the rows can tell from chance.

Both are scored on the same rows and the same folds (the refit rule's cross-validation deals threads
into folds by seed, whatever the features), so their decisions pair up. Per calibration row, the share
of its held-out runs decided well (an in-scope row answered from an expected entry, an out-of-scope
row declined); per development row, whether the model fitted on all calibration rows decided it well.
The difference in each rate comes with a 95 % interval from resampling whole threads (a thread's rows
move together, as they do in the folds), so a variant that is a few thousandths below or above today's
can be read as a tie when the interval spans zero. Rates alone, as `report_rates` prints them, cannot
say that: on 270 in-scope and 203 out-of-scope calibration rows one row is 0.004 or 0.005.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eval.calibrate.cross_validation import held_out
from eval.calibrate.fit import Model, Scorer, decide, logistic_model
from eval.calibrate.rows import CalibrationRows

RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class Decisions:
    """How well each row was decided: held-out calibration rows (a share of their runs) and development
    rows (0 or 1), in the rows' order."""

    held_out: np.ndarray
    development: np.ndarray


def decisions(rows: CalibrationRows, development: CalibrationRows, scorer: Scorer, threshold: float,
              model: Model = logistic_model) -> Decisions:
    """`Decisions` of the feature set `rows` and `development` carry, by the refit rule: held out as its
    cross-validation fits `model`, the development rows by `scorer` and `threshold`, the rule's fit on all
    calibration rows (`scoring.refit`, which the caller has made already)."""
    columns = tuple(range(rows.features.shape[1]))
    good, runs = np.zeros(len(rows.labels)), np.zeros(len(rows.labels))
    for test, score, right, fold_threshold in held_out(rows.features, rows.labels, rows.right, rows.groups, columns,
                                                       candidates=rows.candidates, model=model):
        good[test] += well_decided(rows.labels, score >= fold_threshold, right)[test]
        runs[test] += 1
    score, right = decide(scorer, columns, development.features, development.right, development.candidates)
    return Decisions(good / runs, well_decided(development.labels, score >= threshold, right).astype(float))


def well_decided(labels: np.ndarray, answered: np.ndarray, right: np.ndarray) -> np.ndarray:
    """In scope: answered from an expected entry; out of scope: declined."""
    return np.where(labels == 1, answered & right, ~answered)


def difference(today: np.ndarray, variant: np.ndarray, labels: np.ndarray, groups: list[str],
               resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, tuple[float, float, float]]:
    """Per side (in scope, out of scope): the variant's rate minus today's, and a 95 % interval for it from
    `resamples` resamples of whole threads (`groups`)."""
    change = variant - today
    threads, thread_of = np.unique(np.array(groups), return_inverse=True)
    # Per thread and side: the summed change and the number of rows, so a resample is a weighted sum.
    sides = {"in scope": labels == 1, "out of scope": labels == 0}
    sums = {side: np.bincount(thread_of, weights=change * mine, minlength=len(threads)) for side, mine in sides.items()}
    counts = {side: np.bincount(thread_of, weights=mine.astype(float), minlength=len(threads))
              for side, mine in sides.items()}
    drawn = np.random.default_rng(seed).integers(0, len(threads), size=(resamples, len(threads)))
    taken = np.array([np.bincount(row, minlength=len(threads)) for row in drawn])  # each thread's times drawn
    result = {}
    for side, mine in sides.items():
        rates = (taken @ sums[side]) / np.maximum(taken @ counts[side], 1)
        low, high = np.percentile(rates, [2.5, 97.5])
        result[side] = (float(change[mine].mean()) if mine.any() else float("nan"), float(low), float(high))
    return result


def report_against(name: str, today: Decisions, variant: Decisions, rows: CalibrationRows,
                   development: CalibrationRows) -> None:
    """Print `difference` on the held-out calibration rows and on the development sets."""
    for where, before, after, labelled in (("held out, against today", today.held_out, variant.held_out, rows),
                                           ("development, against today", today.development, variant.development,
                                            development)):
        sides = difference(before, after, labelled.labels, labelled.groups)
        print(f"{name:44} {where:26} " + "   ".join(
            f"{side} {mean:+.3f} [{low:+.3f}, {high:+.3f}]" for side, (mean, low, high) in sides.items()))
