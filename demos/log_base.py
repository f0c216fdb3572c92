"""The log base only rescales a loss, so it does not change the minimiser; base e keeps derivatives clean.

log_b(x) = ln(x) / ln(b), so a loss written with base 2 or base 10 is the natural-log loss times
the constant 1/ln 2 or 1/ln 10, and the parameters that minimise it are the same for every base.
Natural logs make the maths cleaner: d/dx ln x = 1/x, while d/dx log_b x = 1/(x ln b). Base 2 is
the reporting convention of information theory: a loss in bits is the loss in nats divided by ln 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos._common import Check, DemoResult, close, greater, main, max_error

CLAIM = ("Changing the log base multiplies the loss by a constant (1/ln b), so the minimising parameters "
         "are the same; natural logs give d/dx ln x = 1/x, other bases 1/(x ln b); base 2 measures bits.")

CHECKS = (
    "base2_loss_is_nats_over_ln2",
    "base10_loss_is_nats_over_ln10",
    "same_minimiser_every_base",
    "minimiser_matches_closed_form",
    "dln_is_one_over_x",
    "dlog2_is_one_over_x_ln2",
    "dlog10_is_one_over_x_ln10",
    "dlog2_is_not_one_over_x",
    "bits_vs_nats",
)

LOGS: dict[float, Callable[[np.ndarray], np.ndarray]] = {math.e: np.log, 2.0: np.log2, 10.0: np.log10}
# Coin flips: 7 heads in 20. The Bernoulli MLE is the sample mean, 0.35.
FLIPS = np.array([1] * 7 + [0] * 13)


def nll(theta: float | np.ndarray, base: float = math.e, data: np.ndarray = FLIPS) -> np.ndarray:
    """Mean negative log-likelihood of Bernoulli(theta), using numpy's own log for that base."""
    log = LOGS[base]
    theta = np.asarray(theta, dtype=float)[..., None]
    return -np.mean(data * log(theta) + (1 - data) * log(1 - theta), axis=-1)


def golden_section(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-10) -> float:
    """Minimise a unimodal f on [lo, hi] using only comparisons of f: the scale of f cannot matter."""
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    while b - a > tol:
        if f(c) < f(d):
            b, d = d, c
            c = b - g * (b - a)
        else:
            a, c = c, d
            d = a + g * (b - a)
    return (a + b) / 2


Loss = Callable[[float, float], float]  # (theta, base) -> loss


def minimiser(base: float, loss: Loss = nll) -> float:
    return golden_section(lambda t: float(loss(t, base)), 1e-6, 1 - 1e-6)


def check_base_scaling(name: str, base: float, divisor_base: float | None = None) -> Check:
    """loss in base `base` vs natural-log loss / ln(divisor_base); divisor_base defaults to `base`."""
    thetas = np.linspace(0.05, 0.95, 19)
    divisor = math.log(divisor_base if divisor_base is not None else base)
    return max_error(name, nll(thetas, base), nll(thetas) / divisor, atol=1e-12,
                     detail=f"base-{base:g} NLL vs natural-log NLL / {divisor:.4f} over 19 values of theta")


def derivative(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return (f(x + h) - f(x - h)) / (2 * h)


def check_derivative(name: str, base: float, claimed_ln_b: float) -> Check:
    """Finite-difference slope of log_base vs 1 / (x * claimed_ln_b)."""
    x = np.array([0.3, 1.0, 2.5, 7.0, 40.0])
    return max_error(name, derivative(LOGS[base], x), 1 / (x * claimed_ln_b), atol=1e-6, relative=True,
                     detail=f"central differences of log base {base:.4g} vs 1/(x * {claimed_ln_b:.4f}) at x = "
                            f"{x.tolist()}")


def run(out_dir: Path | None = None, *, loss: Loss = nll) -> DemoResult:
    """`loss(theta, base)` replaces the Bernoulli NLL (tests pass one that is not a pure rescaling)."""
    minimisers = {b: minimiser(b, loss) for b in LOGS}
    p = 1 / 8  # an event of probability 1/8 carries 3 bits of information
    bits, nats = float(-np.log2(p)), float(-np.log(p))
    x = np.array([0.3, 1.0, 2.5, 7.0, 40.0])
    log2_vs_naive = float(np.max(np.abs(derivative(np.log2, x) * x - 1)))

    checks = [
        check_base_scaling("base2_loss_is_nats_over_ln2", 2.0),
        check_base_scaling("base10_loss_is_nats_over_ln10", 10.0),
        max_error("same_minimiser_every_base", list(minimisers.values()), [minimisers[math.e]] * 3, atol=1e-6,
                  detail="theta minimising the base e, 2 and 10 losses (golden-section search on each; a smooth "
                         "minimum is only located to ~sqrt(machine eps) in theta, hence 1e-6)"),
        close("minimiser_matches_closed_form", minimisers[math.e], FLIPS.mean(), atol=1e-6,
              detail="minimiser vs the closed-form Bernoulli MLE: heads / flips"),
        check_derivative("dln_is_one_over_x", math.e, 1.0),
        check_derivative("dlog2_is_one_over_x_ln2", 2.0, math.log(2)),
        check_derivative("dlog10_is_one_over_x_ln10", 10.0, math.log(10)),
        greater("dlog2_is_not_one_over_x", log2_vs_naive, 0.3,
                detail="max |x * d/dx log2 x - 1|: without the 1/ln 2 factor the slope would be wrong"),
        close("bits_vs_nats", bits, nats / math.log(2), atol=1e-12,
              detail=f"-log2(1/8) = {bits:g} bits vs -ln(1/8) / ln 2 = {nats:.4f} nats / ln 2"),
    ]
    metrics = {"minimiser_base_e": minimisers[math.e], "minimiser_base_2": minimisers[2.0],
               "minimiser_base_10": minimisers[10.0], "closed_form_mle": float(FLIPS.mean()),
               "loss_at_mle_nats": float(nll(FLIPS.mean())), "loss_at_mle_bits": float(nll(FLIPS.mean(), 2.0)),
               "loss_at_mle_base10": float(nll(FLIPS.mean(), 10.0)), "bits_for_p_1_8": bits, "nats_for_p_1_8": nats}
    return DemoResult("log_base", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))
