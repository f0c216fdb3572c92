"""The refit rule scored on calibration rows it was not fitted on: folds by thread (`held_out`,
`cross_validate`), each entry left out of the fit (`new_entry_recall`), and what the command prints
from the same held-out confidences (`reliability`, `operating_curve`, `by_shape`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from eval.calibrate.fit import Candidates, Model, decide, logistic_model, refit_rule
from eval.datasets import Question

# What `--cross-validate` compares: the sentence-level features alone (the model before semantic
# coverage), then with it (the model before the background), with the background (the model before
# near misses), and all of them. Indices into Calibration.FEATURES.
FEATURE_SETS = {"cosines + lexical coverage": (0, 1, 2), "+ semantic coverage": (0, 1, 2, 3, 4),
                "+ background": (0, 1, 2, 3, 4, 5), "+ near misses": (0, 1, 2, 3, 4, 5, 6),
                "+ near misses by word (all)": (0, 1, 2, 3, 4, 5, 6, 7)}


def thread_folds(groups: list[str], folds: int, seed: int) -> np.ndarray:
    """Each row's fold: the distinct groups (threads) dealt round-robin in a seeded random order."""
    distinct = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(distinct))
    fold_of = {distinct[i]: rank % folds for rank, i in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def held_out(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
             columns: tuple[int, ...], folds: int = 5, seeds: int = 10, candidates: Candidates | None = None,
             evaluated: Candidates | None = None, model: Model = logistic_model,
             fit_share: float = 1.0) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """Per fold of each seed: (held-out rows, every row's confidence and whether its picked entry is
    right, the threshold), by the model and threshold the refit rule fits on the other folds (`model`:
    another form of model fitted in the logistic regression's place). With `evaluated`, the confidences
    are those of the rows read that way (`cross_validate`). `fit_share` below 1: each seed fits on
    that share of the threads only, drawn at random (`learning_curve`); the held-out folds are the same."""
    for seed in range(seeds):
        fold = thread_folds(groups, folds, seed)
        kept = np.ones(len(groups), dtype=bool)
        if fit_share < 1.0:
            distinct = sorted(set(groups))
            drawn = dict(zip(distinct, np.random.default_rng(LEARNING_SEED + seed).random(len(distinct)) < fit_share,
                             strict=True))
            kept = np.array([drawn[group] for group in groups])
        for k in range(folds):
            scorer, score, picked_right, threshold = refit_rule(features, labels, right, columns,
                                                                (fold != k) & kept, candidates, model)
            if evaluated is not None:
                score, picked_right = decide(scorer, columns, evaluated.features[:, 0], evaluated.right[:, 0],
                                             evaluated if candidates is not None else None)
            yield fold == k, score, picked_right, threshold


def cross_validate(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                   columns: tuple[int, ...], scored: np.ndarray | None = None, folds: int = 5,
                   seeds: int = 10, candidates: Candidates | None = None, offset: float = 0.0,
                   evaluated: Candidates | None = None, model: Model = logistic_model,
                   fit_share: float = 1.0) -> dict[str, float]:
    """Held-out rates of a feature set, by the same fit and threshold rule as the real refit.

    Rows are dealt into `folds` folds by group (a real post's thread, so no thread is on both
    sides), `seeds` times over. Each held-out row is judged by the model fitted on the others:
    an in-scope row counts as answered and right when it is answered and its top entry is right
    (`right`; with `candidates`, the most confident candidate, as the bot picks), an out-of-scope
    row when it is declined. The model is fitted on the top entries' `features`; the threshold on
    the confidence the bot thresholds (`decide`), then moved by `offset` (0 for the refit rule
    itself). Every row is fitted on; only the `scored` rows (all by default) are counted. With
    `evaluated` (the same rows read another way, e.g. with context added: `eval.context_check`), the
    held-out rows are judged on those candidates by the model and threshold fitted as above. `model`:
    another form of model in the logistic regression's place; `fit_share`: the share of the threads
    each seed fits on (`held_out`)."""
    scored = np.ones(len(labels), dtype=bool) if scored is None else scored
    answered_right = declined = 0
    for test, score, picked_right, threshold in held_out(features, labels, right, groups, columns, folds, seeds,
                                                         candidates, evaluated, model, fit_share):
        test = test & scored
        answer = score >= threshold + offset
        answered_right += int(np.sum(test & (labels == 1) & answer & picked_right))
        declined += int(np.sum(test & (labels == 0) & ~answer))
    in_scope, out_of_scope = int(np.sum(scored & (labels == 1))), int(np.sum(scored & (labels == 0)))
    return {"answered_right": answered_right / (seeds * in_scope) if in_scope else float("nan"),
            "declined_out_of_scope": declined / (seeds * out_of_scope) if out_of_scope else float("nan")}


# The confidence bands `--reliability` reports: below 0.2 nearly nothing is in scope; the bands above
# the refit rule's threshold (0.3-0.5) are where an answer's confidence says how sure to be of it.
RELIABILITY_BANDS = (0.0, 0.2, 0.35, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


def reliability(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                columns: tuple[int, ...], candidates: Candidates | None = None,
                bands: tuple[float, ...] = RELIABILITY_BANDS) -> list[tuple[float, float, int, int]]:
    """Held-out confidences against what they promise: per band [low, high) (the last one closed),
    (low, high, rows, rows in scope whose picked entry is right), pooled over `held_out`'s folds and
    seeds. The confidence is a probability that a TA answer covers the post; if it is honest, the
    right share in each band lies near the band's confidence, and an answer's confidence can tell a
    student how sure to be of it (`bot.answering.compose.UNSURE_BELOW`)."""
    confidence, good = [], []
    for test, score, picked_right, _ in held_out(features, labels, right, groups, columns, candidates=candidates):
        confidence.append(score[test])
        good.append((labels == 1)[test] & picked_right[test])
    conf, ok = np.concatenate(confidence), np.concatenate(good)
    result = []
    for low, high in itertools.pairwise(bands):
        inside = (conf >= low) & ((conf < high) | (high == bands[-1]))
        result.append((low, high, int(inside.sum()), int(ok[inside].sum())))
    return result


# `--by-shape` prints a tag only with this many rows: fewer say nothing a held-out rate could.
BY_SHAPE_LEAST_ROWS = 8


def by_shape(questions: list[Question], tags: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    """Per shape tag of the tagged rows (`shape_tags`), most rows first, the rows that carry it: the
    `scored` rows `cross_validate` counts for `--by-shape`."""
    masks: dict[str, np.ndarray] = {}
    for i, question in enumerate(questions):
        for tag in tags.get(question.id, ()):
            masks.setdefault(tag, np.zeros(len(questions), dtype=bool))[i] = True
    return dict(sorted(masks.items(), key=lambda item: (-int(item[1].sum()), item[0])))


# The threshold offsets `--operating-curve` sweeps, in confidence (the refit rule's threshold is 0.3-0.5).
CURVE_OFFSETS = tuple(round(0.05 * step, 2) for step in range(-6, 11))


def operating_curve(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                    columns: tuple[int, ...], scored: np.ndarray | None = None,
                    candidates: Candidates | None = None,
                    offsets: tuple[float, ...] = CURVE_OFFSETS) -> list[tuple[float, dict[str, float]]]:
    """(offset, held-out rates) for the refit rule's threshold moved by each offset (`cross_validate`).

    A feature set separates in-scope from out-of-scope posts only so well; moving the threshold buys
    declines with answers along one curve. Whether targets such as "0.90 answered and right, 0.95
    declined" are within reach of a feature set is a question about that curve, not about the rule
    that picks a point on it (`meeting`)."""
    return [(offset, cross_validate(features, labels, right, groups, columns, scored, candidates=candidates,
                                    offset=offset)) for offset in offsets]


# `--learning-curve`: the shares of the training folds' threads the rule is fitted on, and the seeds
# that draw them (apart from the folds' own). Twenty seeds: a quarter of the threads is a small fit.
LEARNING_SHARES = (0.25, 0.5, 0.75, 1.0)
LEARNING_SEED = 1000
LEARNING_SEEDS = 20


def learning_curve(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                   columns: tuple[int, ...], scored: np.ndarray | None = None,
                   candidates: Candidates | None = None,
                   shares: tuple[float, ...] = LEARNING_SHARES) -> list[tuple[float, dict[str, float]]]:
    """(share, held-out rates) with the rule fitted on that share of the training folds' threads: would
    labelling more posts of the same kind help? A curve still rising at 1 says yes, a flat one says the
    features, not the rows, are what limits the rule (`cross_validate`, the same held-out folds)."""
    return [(share, cross_validate(features, labels, right, groups, columns, scored, seeds=LEARNING_SEEDS,
                                   candidates=candidates, fit_share=share)) for share in shares]


def meeting(curve: list[tuple[float, dict[str, float]]], answered_right: float,
            declined: float) -> list[float]:
    """The offsets of `curve` at which both held-out rates reach their targets (none: out of reach)."""
    return [offset for offset, rates in curve
            if rates["answered_right"] >= answered_right and rates["declined_out_of_scope"] >= declined]


def new_entry_recall(features: np.ndarray, labels: np.ndarray, right: np.ndarray, expected: list[tuple[str, ...]],
                     columns: tuple[int, ...], candidates: Candidates | None = None,
                     model: Model = logistic_model) -> dict[str, tuple[int, int]]:
    """Per entry, how its in-scope rows fare under a model fitted without them: (answered and right, rows).

    Staff add answers after the refit. The features are relative to the entries (cosines to them,
    their words), so a model fitted on other entries' questions should answer questions about a new
    one as readily; a feature that learned where the *current* entries' questions lie would not.
    For each entry, every row expecting it leaves the fit (out-of-scope rows stay: they are still out
    of scope), the model and threshold are fitted by the refit rule on the rest, and the entry's rows
    are scored (`decide`, as `cross_validate` does; `model` as there)."""
    result: dict[str, tuple[int, int]] = {}
    for entry in sorted({e for row in expected for e in row}):
        held = np.array([entry in row for row in expected])
        _, score, picked_right, threshold = refit_rule(features, labels, right, columns, ~held, candidates, model)
        result[entry] = (int(np.sum(held & (score >= threshold) & picked_right)), int(held.sum()))
    return result
