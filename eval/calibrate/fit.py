"""The abstention model and the refit rule: a logistic regression on the candidates' features, the
confidence the bot thresholds (its most confident candidate's), and the threshold `best_threshold` sets
on the fitted rows. Cross-validation, an entry left out and every variant differ only in which rows
are fitted (`refit_rule`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from eval.metrics.abstention import best_threshold


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    """Weights (…, bias) of a logistic regression by Newton's method; L2 on the weights only."""
    design = np.hstack([features, np.ones((len(features), 1))])
    weights = np.zeros(design.shape[1])
    penalty = np.diag([l2] * features.shape[1] + [0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ weights))
        gradient = design.T @ (p - labels) + penalty @ weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(weights)), gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights



@dataclass(frozen=True)
class Candidates:
    """The entries the bot chooses among for each row: the best few by rank score, as features
    (rows x candidates x Calibration.FEATURES) and whether each is an expected entry. The bot answers
    from the most confident of them (`bot.search.retrieve.HybridRetriever.search`); a row with fewer
    repeats its first."""

    features: np.ndarray
    right: np.ndarray


# A fitted model: the confidence for each row of features (any leading shape: rows, or rows x candidates).
Scorer = Callable[[np.ndarray], np.ndarray]
# How a model is fitted on (features, labels): the refit rule's logistic regression (`logistic_model`), or
# another form to compare with it (`python -m eval.variants classifiers`).
Model = Callable[[np.ndarray, np.ndarray], Scorer]


def logistic_scorer(weights: np.ndarray) -> Scorer:
    """The confidence of a logistic regression's weights (…, bias), as the bot computes it."""
    return lambda x: 1.0 / (1.0 + np.exp(-(x @ weights[:-1] + weights[-1])))


def logistic_model(features: np.ndarray, labels: np.ndarray) -> Scorer:
    """The refit rule's model: `fit_logistic`'s weights as a scorer."""
    return logistic_scorer(fit_logistic(features, labels))


def decide(scorer: Scorer, columns: tuple[int, ...], features: np.ndarray, right: np.ndarray,
           candidates: Candidates | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the confidence the bot thresholds and whether the entry it would answer from is right,
    by a fitted model (`logistic_scorer(weights)` for the refit rule's): the top entry's (`features`,
    `right`), or with `candidates` the most confident candidate's."""
    if candidates is None:
        return scorer(features[:, columns]), right
    score, picked_right, _ = most_confident(scorer, columns, candidates)
    return score, picked_right


def most_confident(scorer: Scorer, columns: tuple[int, ...],
                   candidates: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the candidate the bot answers from, the most confident by a fitted model: its confidence,
    whether it is an expected entry, and its place among the row's candidates."""
    score = scorer(candidates.features[:, :, columns])
    best = score.argmax(axis=1)
    rows = np.arange(len(score))
    return score[rows, best], candidates.right[rows, best], best


def refit_rule(features: np.ndarray, labels: np.ndarray, right: np.ndarray, columns: tuple[int, ...],
               fitted: np.ndarray, candidates: Candidates | None = None,
               model: Model = logistic_model) -> tuple[Scorer, np.ndarray, np.ndarray, float]:
    """The refit rule on the `fitted` rows: the model fitted on them, every row's confidence and whether
    its picked entry is right (`decide`), and the threshold `best_threshold` sets on the fitted rows'
    confidences. Cross-validation (`held_out`), an entry left out (`new_entry_recall`) and a variant
    fitted on all rows (`eval.variants`) differ only in which rows are `fitted`."""
    scorer = model(features[fitted][:, columns], labels[fitted])
    score, picked_right = decide(scorer, columns, features, right, candidates)
    return scorer, score, picked_right, best_threshold(score[fitted].tolist(), [bool(v) for v in labels[fitted]])
