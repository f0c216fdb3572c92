"""Other forms of model, and other threshold rules, on today's eight features.

- `classifiers`: support-vector machines and small neural nets (scikit-learn), and two ensembles
  (the mean of three models' confidences), in the logistic regression's place, on the same features
  (standardised for scikit-learn), folds and threshold rule.
- `thresholds`: today's features and model, other rules for the threshold. Per entry: each entry's
  own F1-best threshold on the rows answered from it, shrunk towards the overall one by SHRINK pseudo-rows
  (`per_entry_rule`). A split-conformal bound: the threshold under which at least 1 - alpha of the
  fitted out-of-scope rows fall (`conformal_rule`), so that on posts like them it declines that share.
  Cross-validated by thread like the refit rule (`threshold_rule_rates`; not with an entry left out:
  a new entry has no rows of its own, so it gets the overall threshold, today's rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from eval.calibrate.cross_validation import thread_folds
from eval.calibrate.fit import Model, Scorer, logistic_model, refit_rule
from eval.calibrate.rows import CalibrationRows
from eval.metrics.abstention import best_threshold
from eval.variants.scoring import picked, rates_by_set, refit, report_development


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


# A threshold rule: from the fitted rows' (confidences, labels, entries answered from), the threshold each
# row gets by the entry it is answered from.
ThresholdRule = Callable[[np.ndarray, np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


def overall_rule(confidence: np.ndarray, labels: np.ndarray, entries: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Today's rule: one threshold, the F1-best on the fitted rows (`best_threshold`)."""
    threshold = best_threshold(confidence.tolist(), [bool(v) for v in labels])
    return lambda picked: np.full(len(picked), threshold)


def per_entry_rule(shrink: float) -> ThresholdRule:
    """Each entry's own F1-best threshold on the fitted rows answered from it, weighted by their number
    against `shrink` pseudo-rows at the overall threshold; an entry with no rows, or rows of one label
    only, gets the overall one."""
    def rule(confidence: np.ndarray, labels: np.ndarray, entries: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        overall = best_threshold(confidence.tolist(), [bool(v) for v in labels])
        own = {}
        for entry in set(entries.tolist()):
            mine = entries == entry
            if len(set(labels[mine].tolist())) < 2:
                continue
            local = best_threshold(confidence[mine].tolist(), [bool(v) for v in labels[mine]])
            own[entry] = (mine.sum() * local + shrink * overall) / (mine.sum() + shrink)
        return lambda picked: np.array([own.get(entry, overall) for entry in picked.tolist()], dtype=float)
    return rule


def conformal_rule(alpha: float) -> ThresholdRule:
    """Split conformal: just above the ceil((n + 1)(1 - alpha))-th lowest confidence of the n fitted
    out-of-scope rows, so a new out-of-scope post exchangeable with them is declined with probability at
    least 1 - alpha (above all of them when n is too small for that)."""
    def rule(confidence: np.ndarray, labels: np.ndarray, entries: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        out_of_scope = np.sort(confidence[labels == 0])
        rank = min(math.ceil((len(out_of_scope) + 1) * (1 - alpha)), len(out_of_scope))
        threshold = float(np.nextafter(out_of_scope[rank - 1], np.inf))
        return lambda picked: np.full(len(picked), threshold)
    return rule


def threshold_rule_rates(rows: CalibrationRows, rule: ThresholdRule, columns: tuple[int, ...],
                         folds: int = 5, seeds: int = 10) -> dict[str, tuple[float, float]]:
    """Per subset of `rows` (`CalibrationRows.subsets`): held-out (answered and right, out of scope declined)
    with the refit rule's model fitted on the other folds (by thread, as `cross_validate` deals them) and
    the thresholds `rule` sets on them in place of the rule's own."""
    counts = {subset: [0, 0] for subset, _ in rows.subsets()}
    for seed in range(seeds):
        fold = thread_folds(rows.groups, folds, seed)
        for k in range(folds):
            fitted = fold != k
            scorer, _, _, _ = refit_rule(rows.features, rows.labels, rows.right, columns, fitted, rows.candidates)
            confidence, right, entries = picked(scorer, rows, columns)
            answer = confidence >= rule(confidence[fitted], rows.labels[fitted], entries[fitted])(entries)
            for subset, scored in rows.subsets():
                test = ~fitted & scored
                counts[subset][0] += int(np.sum(test & (rows.labels == 1) & answer & right))
                counts[subset][1] += int(np.sum(test & (rows.labels == 0) & ~answer))
    return {subset: (answered / (seeds * np.sum(scored & (rows.labels == 1))),
                     declined / (seeds * np.sum(scored & (rows.labels == 0))))
            for (subset, scored), (answered, declined) in zip(rows.subsets(), counts.values(), strict=True)}


def report_threshold_rule(name: str, rule: ThresholdRule, rows: CalibrationRows, development: CalibrationRows) -> None:
    """Print a threshold rule's held-out rates, and the development sets decided by the model and thresholds
    fitted on all calibration rows."""
    columns = tuple(range(rows.features.shape[1]))
    for subset, (answered, declined) in threshold_rule_rates(rows, rule, columns).items():
        print(f"{name:44} {subset:22} answered and right {answered:.3f}   out of scope declined {declined:.3f}")
    scorer, _ = refit(rows, columns)
    confidence, _, entries = picked(scorer, rows, columns)
    thresholds = rule(confidence, rows.labels, entries)
    set_on_all = thresholds(np.array(sorted(set(entries.tolist()))))
    print(f"{name:44} {'threshold, all rows':22} " + (f"{set_on_all.min():.4f}" if np.ptp(set_on_all) == 0
                                                     else f"{set_on_all.min():.4f}-{set_on_all.max():.4f}"))
    mine, right, their_entries = picked(scorer, development, columns)
    report_development(name, rates_by_set(development, mine >= thresholds(their_entries), right))
