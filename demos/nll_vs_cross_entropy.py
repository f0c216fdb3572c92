"""Negative log-likelihood and cross-entropy are the same loss under two names.

The NLL of the true class equals the cross-entropy with a one-hot target. With a soft target
(probability spread over several classes) the cross-entropy equals the expected NLL: the average
NLL over hard labels drawn in those proportions. The equivalence is not limited to categorical
outputs: for a Gaussian with fixed variance the NLL is MSE / (2 sigma^2) plus a constant (so it has
the least-squares minimiser), the continuous cross-entropy between two Gaussians is the NLL averaged
over the target density, and for a Bernoulli the NLL is the binary cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos._common import DemoResult, main, max_error

CLAIM = ("Cross-entropy with a one-hot target is the NLL of the true class, with a soft target it is the "
         "expected NLL, for continuous (Gaussian) targets too; a fixed-variance Gaussian NLL is MSE/(2 sigma^2) "
         "plus a constant, and a Bernoulli NLL is binary cross-entropy.")

CHECKS = (
    "nll_equals_onehot_cross_entropy",
    "soft_target_cross_entropy_is_expected_nll",
    "gaussian_nll_is_mse_plus_constant",
    "gaussian_nll_minimiser_is_least_squares",
    "gaussian_cross_entropy_is_expected_nll",
    "bernoulli_nll_is_binary_cross_entropy",
)

GAUSSIAN_PAIRS = [(0.0, 1.0, 0.5, 2.0), (3.0, 0.5, -1.0, 1.5), (-2.0, 2.0, -2.0, 2.0)]  # (m, s, mu, sigma)
CrossEntropy = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (target probs, predicted probs) -> per row


def cross_entropy(target: np.ndarray, q: np.ndarray) -> np.ndarray:
    """H(target, q) = -sum_k target_k log q_k, per row (information theory's definition)."""
    return -np.sum(target * np.log(q), axis=-1)


def nll(q: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """-log q[true class], per row (statistics' definition: the likelihood of what was observed)."""
    return -np.log(q[np.arange(len(labels)), labels])


def predictions(n: int, k: int, seed: int) -> np.ndarray:
    z = np.random.default_rng(seed).normal(0, 1.5, (n, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gaussian_nll_density(y: np.ndarray, mu: np.ndarray, sigma: float) -> float:
    """Mean -log N(y; mu, sigma^2), straight from the density (no algebra applied)."""
    density = np.exp(-((y - mu) ** 2) / (2 * sigma**2)) / np.sqrt(2 * np.pi * sigma**2)
    return float(np.mean(-np.log(density)))


def mse_form(y: np.ndarray, mu: np.ndarray, sigma: float) -> float:
    """The claimed rewrite: MSE / (2 sigma^2) + 1/2 log(2 pi sigma^2)."""
    return float(np.mean((y - mu) ** 2) / (2 * sigma**2) + 0.5 * np.log(2 * np.pi * sigma**2))


def gaussian_cross_entropy(m: float, s: float, mu: float, sigma: float) -> float:
    """Closed form H(N(m, s^2), N(mu, sigma^2)) = 1/2 log(2 pi sigma^2) + (s^2 + (m - mu)^2) / (2 sigma^2)."""
    return float(0.5 * np.log(2 * np.pi * sigma**2) + (s**2 + (m - mu) ** 2) / (2 * sigma**2))


def expected_gaussian_nll(m: float, s: float, mu: float, sigma: float) -> float:
    """E_{x ~ N(m, s^2)}[-log N(x; mu, sigma^2)] by quadrature: the NLL averaged over a continuous target."""
    x = np.linspace(m - 12 * s, m + 12 * s, 20001)
    p = np.exp(-((x - m) ** 2) / (2 * s**2)) / np.sqrt(2 * np.pi * s**2)
    nll_x = 0.5 * np.log(2 * np.pi * sigma**2) + (x - mu) ** 2 / (2 * sigma**2)
    return float(np.trapezoid(p * nll_x, x))


def regression_data(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.hstack([rng.normal(0, 1, (200, 2)), np.ones((200, 1))])
    return x, x @ np.array([1.5, -0.7, 0.3]) + rng.normal(0, 0.5, 200)


def fit_gaussian_nll(x: np.ndarray, y: np.ndarray, sigma: float | np.ndarray, steps: int = 2000) -> np.ndarray:
    """Gradient descent on the Gaussian NLL in the mean's weights; sigma fixed (or per example)."""
    w = np.zeros(x.shape[1])
    lr = 0.5 * float(np.min(sigma)) ** 2  # the NLL's curvature scales as 1/sigma^2
    for _ in range(steps):
        w -= lr * x.T @ ((x @ w - y) / sigma**2) / len(y)
    return w


def run(out_dir: Path | None = None, *, ce: CrossEntropy = cross_entropy,
        gaussian_rewrite: Callable[[np.ndarray, np.ndarray, float], float] = mse_form,
        noise_sigma: Callable[[np.ndarray], float | np.ndarray] = lambda x: 0.5) -> DemoResult:
    """The keyword arguments replace a formula or assumption (tests break each on purpose):
    `ce` the cross-entropy, `gaussian_rewrite` the MSE form, `noise_sigma(x)` the Gaussian's std."""
    q = predictions(60, 4, seed=0)
    labels = np.random.default_rng(1).integers(0, 4, 60)

    # A soft target is what hard labels look like on average: 10 copies of one input labelled
    # 5x class 0, 3x class 1, 2x class 2 have the soft target (0.5, 0.3, 0.2, 0).
    soft_counts = np.array([[5, 3, 2, 0], [0, 1, 1, 8], [4, 0, 0, 6], [1, 2, 3, 4]])
    q_soft = predictions(len(soft_counts), 4, seed=2)
    ce_soft = ce(soft_counts / soft_counts.sum(axis=1, keepdims=True), q_soft)
    expected_nll = [np.mean(nll(np.repeat(q_soft[i:i + 1], counts.sum(), axis=0), np.repeat(np.arange(4), counts)))
                    for i, counts in enumerate(soft_counts)]

    rng = np.random.default_rng(4)
    y_reg, mu, sigma = rng.normal(0, 2, 100), rng.normal(0, 2, 100), 0.7
    x, y = regression_data()
    w_nll = fit_gaussian_nll(x, y, noise_sigma(x))
    w_lstsq = np.linalg.lstsq(x, y, rcond=None)[0]

    theta = np.random.default_rng(5).uniform(0.02, 0.98, 100)
    flips = np.random.default_rng(6).integers(0, 2, 100)
    pmf = theta**flips * (1 - theta) ** (1 - flips)  # the Bernoulli likelihood of each flip
    bce = -(flips * np.log(theta) + (1 - flips) * np.log(1 - theta))

    checks = [
        max_error("nll_equals_onehot_cross_entropy", ce(np.eye(4)[labels], q), nll(q, labels), atol=1e-12,
                  detail="cross-entropy with one-hot targets vs -log q[true class], 60 examples, 4 classes"),
        max_error("soft_target_cross_entropy_is_expected_nll", ce_soft, expected_nll, atol=1e-12,
                  detail="cross-entropy with soft targets vs mean NLL over hard labels in the same proportions"),
        max_error("gaussian_nll_is_mse_plus_constant",
                  [gaussian_rewrite(y_reg, mu, sigma), gaussian_rewrite(y_reg, mu + 1.0, sigma)],
                  [gaussian_nll_density(y_reg, mu, sigma), gaussian_nll_density(y_reg, mu + 1.0, sigma)], atol=1e-10,
                  detail=f"MSE/(2 sigma^2) + log(2 pi sigma^2)/2 vs mean -log of the Gaussian density, sigma={sigma}, "
                         "two sets of predictions"),
        max_error("gaussian_nll_minimiser_is_least_squares", w_nll, w_lstsq, atol=1e-6,
                  detail="weights from gradient descent on the Gaussian NLL vs least squares (numpy lstsq)"),
        max_error("gaussian_cross_entropy_is_expected_nll",
                  [gaussian_cross_entropy(*a) for a in GAUSSIAN_PAIRS],
                  [expected_gaussian_nll(*a) for a in GAUSSIAN_PAIRS],
                  atol=1e-9, detail="continuous case: closed-form cross-entropy H(N(m,s^2), N(mu,sigma^2)) vs the "
                                    "Gaussian NLL averaged over the target density (quadrature), 3 pairs"),
        max_error("bernoulli_nll_is_binary_cross_entropy", -np.log(pmf), bce, atol=1e-12,
                  detail="-log(theta^y (1-theta)^(1-y)) vs -(y log theta + (1-y) log(1-theta)), 100 examples"),
    ]
    metrics = {"mean_nll": float(np.mean(nll(q, labels))), "mean_onehot_ce": float(np.mean(ce(np.eye(4)[labels], q))),
               "soft_targets": (soft_counts / 10).tolist(), "soft_ce": np.round(ce_soft, 6).tolist(),
               "expected_nll": np.round(expected_nll, 6).tolist(),
               "gaussian_constant": float(0.5 * np.log(2 * np.pi * sigma**2)),
               "weights_nll": w_nll.round(6).tolist(), "weights_least_squares": w_lstsq.round(6).tolist()}
    return DemoResult("nll_vs_cross_entropy", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))
