"""What we differentiate is the loss, NLL of softmax; its gradient w.r.t. the logits is softmax(z) - y.

Softmax only turns scores into something that looks like probabilities (positive, summing to one,
in the same order as the scores); training needs the
derivative of the negative log-likelihood loss that takes those probabilities. Composed ("softmax
loss"), the gradient with respect to the logits is simply softmax(z) - y, for a one-hot or a soft
target y. Softmax's own derivative is the Jacobian diag(s) - s s^T, and chaining it with the NLL's
derivative -y/s gives the same s - y. Every formula is compared with finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos._common import Check, DemoResult, main, max_error

CLAIM = ("Softmax only normalises scores into probabilities; the gradient of the negative log-likelihood of "
         "softmax (the softmax loss) with respect to the logits is softmax(z) - y, and softmax's own Jacobian "
         "is diag(s) - s s^T.")

CHECKS = (
    "softmax_is_a_distribution",
    "nll_softmax_grad_is_s_minus_y",
    "soft_target_grad_is_s_minus_y",
    "softmax_jacobian_is_diag_minus_outer",
    "chain_rule_gives_s_minus_y",
)

K = 5
GradFormula = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (s, y) -> dL/dz


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_loss(z: np.ndarray, y: np.ndarray) -> float:
    """Cross-entropy of target y and softmax(z), i.e. NLL of the true class when y is one-hot."""
    log_s = z - z.max() - np.log(np.sum(np.exp(z - z.max())))
    return float(-np.sum(y * log_s))


def s_minus_y(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    return s - y


def jacobian_formula(s: np.ndarray) -> np.ndarray:
    return np.diag(s) - np.outer(s, s)


def numeric_gradient(f: Callable[[np.ndarray], float], z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(z)
    for i in range(len(z)):
        e = np.zeros_like(z)
        e[i] = h
        g[i] = (f(z + e) - f(z - e)) / (2 * h)
    return g


def numeric_jacobian(z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """J[i, j] = d s_i / d z_j by central differences, one column per perturbed logit."""
    cols = []
    for j in range(len(z)):
        e = np.zeros_like(z)
        e[j] = h
        cols.append((softmax(z + e) - softmax(z - e)) / (2 * h))
    return np.stack(cols, axis=1)


def cases(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(logits, one-hot target, soft target) for a few random examples."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(8):
        z = rng.normal(0, 2, K)
        onehot = np.eye(K)[rng.integers(K)]
        soft = rng.dirichlet(np.ones(K))
        out.append((z, onehot, soft))
    return out


def check_distribution(normalise: Callable[[np.ndarray], np.ndarray] = softmax) -> Check:
    """Softmax output looks like a probability: every entry in (0, 1], summing to 1, same ranking as z."""
    worst = 0.0
    for z, _, _ in cases():
        s = normalise(z)
        ok = bool(np.all(s > 0) and np.all(s <= 1) and np.array_equal(np.argsort(s), np.argsort(z)))
        worst = max(worst, abs(float(s.sum()) - 1.0) if ok else np.inf)
    return max_error("softmax_is_a_distribution", worst, 0.0, atol=1e-12,
                     detail="|sum(s) - 1| over 8 random logit vectors (inf if an entry leaves (0, 1] or the "
                            "ranking of the scores changes)")


def check_gradient(name: str, which: int, formula: GradFormula = s_minus_y) -> Check:
    got, ref = [], []
    for case in cases():
        z, y = case[0], case[which]
        got.append(formula(softmax(z), y))
        ref.append(numeric_gradient(lambda v, y=y: softmax_loss(v, y), z))
    kind = "one-hot" if which == 1 else "soft (Dirichlet)"
    return max_error(name, got, ref, atol=1e-7,
                     detail=f"formula vs central differences of the loss, 8 random logit vectors, {kind} targets")


def check_jacobian(formula: Callable[[np.ndarray], np.ndarray] = jacobian_formula) -> Check:
    zs = [c[0] for c in cases()]
    return max_error("softmax_jacobian_is_diag_minus_outer", [formula(softmax(z)) for z in zs],
                     [numeric_jacobian(z) for z in zs], atol=1e-7,
                     detail="diag(s) - s s^T vs the finite-difference Jacobian of softmax, 8 random logit vectors")


def check_chain_rule(formula: Callable[[np.ndarray], np.ndarray] = jacobian_formula) -> Check:
    # dL/dz = J^T dL/ds with dL/ds = -y / s: the long way round through softmax's Jacobian.
    got, ref = [], []
    for z, onehot, soft in cases():
        s = softmax(z)
        for y in (onehot, soft):
            got.append(formula(s).T @ (-y / s))
            ref.append(s - y)
    return max_error("chain_rule_gives_s_minus_y", got, ref, atol=1e-12,
                     detail="J^T (-y / s), softmax's Jacobian times the NLL's derivative, vs s - y")


def run(out_dir: Path | None = None, *, grad_formula: GradFormula = s_minus_y,
        jacobian: Callable[[np.ndarray], np.ndarray] = jacobian_formula,
        normalise: Callable[[np.ndarray], np.ndarray] = softmax) -> DemoResult:
    """`grad_formula`, `jacobian` and `normalise` replace the claimed formulas (tests pass wrong ones)."""
    checks = [check_distribution(normalise),
              check_gradient("nll_softmax_grad_is_s_minus_y", 1, grad_formula),
              check_gradient("soft_target_grad_is_s_minus_y", 2, grad_formula),
              check_jacobian(jacobian), check_chain_rule(jacobian)]
    z, y, _ = cases()[0]
    s = softmax(z)
    metrics = {"example_logits": z.round(4).tolist(), "example_target": y.tolist(),
               "example_softmax": s.round(4).tolist(), "example_gradient_s_minus_y": (s - y).round(4).tolist(),
               "example_finite_difference": numeric_gradient(lambda v: softmax_loss(v, y), z).round(4).tolist()}
    return DemoResult("softmax_derivative", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))
