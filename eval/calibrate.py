"""Fit the retriever's abstention rule on `eval/datasets/calibration.jsonl` and write
`bot/calibration.json`.

    python -m eval.calibrate [--data-dir DIR]

How: for every calibration question take the top-ranked entry's two features — its best dense
cosine and the share of the question's content terms it contains — and the label "in scope"
(the question has expected entries). Fit a logistic regression (Newton's method, small L2) so
the confidence is a probability, then pick the threshold that maximises abstention F1 on the
same set. The calibration split is disjoint from the alias-tuning split (dev.jsonl) and from
every test split the eval reports on, so no reported number was tuned on its own questions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.index import KnowledgeIndex
from bot.knowledge import load_entries
from bot.retrieve import CALIBRATION_FILE, Calibration, HybridRetriever

DATASET = Path(__file__).parent / "datasets" / "calibration.jsonl"


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


def abstention_f1(confidence: np.ndarray, in_scope: np.ndarray, threshold: float) -> float:
    """F1 of the positive class 'abstain' (confidence < threshold) against 'out of scope'."""
    abstain = confidence < threshold
    true_positive = np.sum(abstain & ~in_scope)
    precision = true_positive / max(abstain.sum(), 1)
    recall = true_positive / max((~in_scope).sum(), 1)
    return float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0


def best_threshold(confidence: np.ndarray, in_scope: np.ndarray) -> float:
    """Threshold maximising abstention F1; ties go to the value nearest 0.5."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [(abstention_f1(confidence, in_scope, t), -abs(t - 0.5), t) for t in grid]
    return float(max(scores)[2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.data_dir:
        settings = settings.with_(data_dir=args.data_dir)
    entries = load_entries(settings.knowledge_dir)
    index = KnowledgeIndex(settings)
    index.sync(entries)
    retriever = HybridRetriever(index=index, entries={e.id: e for e in entries})
    rows = [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]
    features, labels = [], []
    for row in rows:
        top = retriever.search(row["question"], k=1)
        features.append([top[0].dense, top[0].coverage] if top else [0.0, 0.0])
        labels.append(1.0 if row["expected"] else 0.0)
    x, y = np.asarray(features), np.asarray(labels)
    w_dense, w_coverage, bias = fit_logistic(x, y)
    calibration = Calibration(float(w_dense), float(w_coverage), float(bias), 0.5)
    confidence = np.asarray([calibration.confidence(d, c) for d, c in x])
    threshold = best_threshold(confidence, y.astype(bool))
    result = {"w_dense": round(float(w_dense), 4), "w_coverage": round(float(w_coverage), 4),
              "bias": round(float(bias), 4), "threshold": threshold,
              "fitted_on": f"eval/datasets/{DATASET.name}", "questions": len(rows),
              "in_scope": int(y.sum()), "abstention_f1_on_calibration": round(
                  abstention_f1(confidence, y.astype(bool), threshold), 4)}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
