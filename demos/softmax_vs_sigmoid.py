"""A 2-class softmax is a sigmoid of the logit difference; the extra output is redundant.

softmax([z0, z1])[1] equals sigmoid(z1 - z0) to machine precision, so in theory a 2-output softmax
layer and a 1-output sigmoid layer model the same thing. Trained by gradient descent from different
random initialisations on the same linearly separable data, they end with different weights but
(nearly) the same decision function and accuracy. The 2-output model has redundant parameters:
adding a constant to both logits changes nothing, and gradient descent never moves the sum of its
two weight columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos._common import Check, DemoResult, close, greater, main, max_error

CLAIM = ("softmax over two classes equals a sigmoid of the logit difference, so a 2-output softmax and "
         "a 1-output sigmoid model learn the same decision function; they differ only through "
         "initialisation and training trajectory, and the softmax model has redundant parameters.")

CHECKS = (
    "softmax_pair_equals_sigmoid",
    "weights_differ",
    "same_decision_function",
    "same_accuracy",
    "redundant_direction_frozen",
    "shift_invariance",
    "sigmoid_has_no_redundancy",
)

Normaliser = Callable[[np.ndarray], np.ndarray]
STEPS, LR = 1000, 0.5


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; subtracting the max avoids overflow and changes nothing."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(t: np.ndarray) -> np.ndarray:
    # Written so neither branch overflows: exp of a non-positive number only.
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))


def make_data(seed: int = 0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 2-D, separated by a margin; a bias column is appended."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    centres = np.array([[-1.5, -1.0], [1.5, 1.0]])
    x = centres[y] + rng.normal(0, 0.6, (n, 2))
    # Keep the data strictly separable: drop points on the wrong side of the line x1 + x2 = 0.
    keep = np.sign(x.sum(axis=1)) == 2 * y - 1
    x, y = x[keep], y[keep]
    return np.hstack([x, np.ones((len(x), 1))]), y


def train_softmax(x: np.ndarray, y: np.ndarray, seed: int, normalise: Normaliser = softmax):
    """Gradient descent on the mean NLL of a 2-output model; returns (initial W, final W), W is 3x2."""
    w0 = np.random.default_rng(seed).normal(0, 1, (x.shape[1], 2))
    w = w0.copy()
    onehot = np.eye(2)[y]
    for _ in range(STEPS):
        p = normalise(x @ w)
        w -= LR * x.T @ (p - onehot) / len(x)  # d NLL / d logits = p - y
    return w0, w


def train_sigmoid(x: np.ndarray, y: np.ndarray, seed: int):
    """Gradient descent on the mean binary cross-entropy of a 1-output model; returns final w (3,)."""
    w = np.random.default_rng(seed).normal(0, 1, x.shape[1])
    for _ in range(STEPS):
        w -= LR * x.T @ (sigmoid(x @ w) - y) / len(x)
    return w


def check_pair_identity(normalise: Normaliser = softmax) -> Check:
    z = np.random.default_rng(1).uniform(-30, 30, (10_000, 2))
    # Textbook formulas on both sides (no overflow for |z| <= 30), not the stable ones used for training.
    reference = 1 / (1 + np.exp(-(z[:, 1] - z[:, 0])))
    return max_error("softmax_pair_equals_sigmoid", normalise(z)[:, 1], reference, atol=4 * np.finfo(float).eps,
                     detail="softmax([z0, z1])[1] vs sigmoid(z1 - z0) over 10,000 random pairs in [-30, 30]")


def check_shift_invariance(normalise: Normaliser = softmax) -> Check:
    z = np.random.default_rng(2).normal(0, 3, (1000, 2))
    shifted = [normalise(z + c) for c in (-50.0, 1.0, 7.5, 300.0)]
    err = max(float(np.max(np.abs(s - normalise(z)))) for s in shifted)
    return close("shift_invariance", err, 0.0, atol=1e-12,
                 detail="max change of the 2-output probabilities when both logits get +c, c in {-50, 1, 7.5, 300}")


def run(out_dir: Path | None = None, *, normalise: Normaliser = softmax) -> DemoResult:
    """`normalise` replaces softmax in the 2-output model (tests break it on purpose)."""
    x, y = make_data(seed=0)
    x_test, y_test = make_data(seed=1, n=2000)
    w_init, w_soft = train_softmax(x, y, seed=10, normalise=normalise)
    w_sig = train_sigmoid(x, y, seed=20)

    effective = w_soft[:, 1] - w_soft[:, 0]  # the 2-output model's logit difference weights
    pred_soft = normalise(x_test @ w_soft)[:, 1] > 0.5
    pred_sig = sigmoid(x_test @ w_sig) > 0.5
    acc_soft, acc_sig = float(np.mean(pred_soft == y_test)), float(np.mean(pred_sig == y_test))
    agreement = float(np.mean(pred_soft == pred_sig))
    rel_weight_gap = float(np.linalg.norm(effective - w_sig) / np.linalg.norm(w_sig))
    frozen = float(np.max(np.abs(w_soft.sum(axis=1) - w_init.sum(axis=1))))
    # The sigmoid model has one logit: shifting it moves the probabilities, so nothing is redundant.
    sig_shift = float(np.max(np.abs(sigmoid(x_test @ w_sig + 1.0) - sigmoid(x_test @ w_sig))))

    checks = [
        check_pair_identity(normalise),
        greater("weights_differ", rel_weight_gap, 1e-3,
                detail="||(W[:,1] - W[:,0]) - w_sigmoid|| / ||w_sigmoid|| after training from different inits"),
        close("same_decision_function", agreement, 1.0, atol=0.01,
              detail="fraction of 2,000 held-out points both models put in the same class"),
        close("same_accuracy", acc_soft, acc_sig, atol=0.01, detail="held-out accuracy, softmax vs sigmoid model"),
        close("redundant_direction_frozen", frozen, 0.0, atol=1e-10,
              detail="max change of W[:,0] + W[:,1] during training: its gradient is always zero"),
        check_shift_invariance(normalise),
        greater("sigmoid_has_no_redundancy", sig_shift, 0.05,
                detail="max change of the sigmoid model's probabilities when its logit gets +1"),
    ]
    metrics = {"train_points": len(y), "test_points": len(y_test), "steps": STEPS,
               "accuracy_softmax": acc_soft, "accuracy_sigmoid": acc_sig, "agreement": agreement,
               "softmax_effective_weights": effective.round(4).tolist(), "sigmoid_weights": w_sig.round(4).tolist(),
               "relative_weight_gap": rel_weight_gap}
    return DemoResult("softmax_vs_sigmoid", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))
