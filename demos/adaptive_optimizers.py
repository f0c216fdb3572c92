"""Adagrad and RMSProp are first-order, adaptive learning-rate methods, not momentum methods.

They reach the minimum of an ill-conditioned quadratic from gradients alone (the oracle counts
zero Hessian evaluations), and the step size they end up using differs from one parameter to
another. They keep no velocity: their update is a function of the current gradient and running
squared-gradient statistics, so a step with a zero gradient does not move them, while heavy-ball
momentum keeps moving on its accumulated past gradients. Newton's method, by contrast, needs the
Hessian.

Every optimizer talks to the problem only through an instrumented oracle, so the counts are
measured, not asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos._common import Check, DemoResult, close, equal, greater, less, main

CLAIM = ("Adagrad and RMSProp are first-order methods (gradients only, no Hessian) with per-parameter "
         "adaptive learning rates, and they keep no momentum; Newton's method needs the Hessian.")

CHECKS = (
    "adagrad_reaches_minimum",
    "rmsprop_reaches_minimum",
    "adagrad_no_hessian",
    "rmsprop_no_hessian",
    "adagrad_rates_differ",
    "rmsprop_rates_differ",
    "momentum_keeps_velocity",
    "adagrad_no_velocity",
    "rmsprop_no_velocity",
    "newton_needs_hessian",
    "newton_one_step",
)

# f(x) = 1/2 x^T A x - b^T x with condition number ~100: one steep and one flat direction.
A = np.array([[100.0, 2.0], [2.0, 1.0]])
B = np.array([1.0, -2.0])
X0 = np.array([1.5, 3.0])
STEPS = 500


class Oracle:
    """Gradients and Hessians of the quadratic, counting every evaluation."""

    def __init__(self, a: np.ndarray = A, b: np.ndarray = B) -> None:
        self.a, self.b = a, b
        self.grad_calls = 0
        self.hessian_calls = 0

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.grad_calls += 1
        return self.a @ x - self.b

    def hessian(self, x: np.ndarray) -> np.ndarray:
        self.hessian_calls += 1
        return self.a.copy()


class ZeroGradOracle(Oracle):
    """A flat spot: the gradient is zero. Used for one step to expose hidden velocity."""

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.grad_calls += 1
        return np.zeros_like(x)


# A step takes the oracle, the point and the optimizer's state, and returns both updated.
State = dict[str, np.ndarray | float]
Step = Callable[[Oracle, np.ndarray, State], tuple[np.ndarray, State]]


def adagrad_step(oracle: Oracle, x: np.ndarray, state: State, lr: float = 1.0, eps: float = 1e-10):
    g = oracle.grad(x)
    sq = state.get("sum_sq", np.zeros_like(x)) + g * g  # per-parameter sum of squared gradients
    rate = lr / (np.sqrt(sq) + eps)
    return x - rate * g, {"sum_sq": sq, "rate": rate}


def rmsprop_step(oracle: Oracle, x: np.ndarray, state: State, lr: float = 0.05, rho: float = 0.999,
                 eps: float = 1e-10):
    g = oracle.grad(x)
    # A long memory (rho = 0.999, Adam's beta2) keeps the denominator near the RMS of past gradients,
    # so near the minimum RMSProp behaves like per-parameter gradient descent and settles there.
    mean_sq = rho * state.get("mean_sq", np.zeros_like(x)) + (1 - rho) * g * g
    rate = lr / (np.sqrt(mean_sq) + eps)
    return x - rate * g, {"mean_sq": mean_sq, "rate": rate}


def momentum_step(oracle: Oracle, x: np.ndarray, state: State, lr: float = 0.01, beta: float = 0.9):
    g = oracle.grad(x)
    velocity = beta * state.get("velocity", np.zeros_like(x)) + g  # accumulates past gradients
    return x - lr * velocity, {"velocity": velocity, "rate": np.full_like(x, lr)}


def newton_step(oracle: Oracle, x: np.ndarray, state: State):
    g = oracle.grad(x)
    return x - np.linalg.solve(oracle.hessian(x), g), {}


OPTIMIZERS: dict[str, Step] = {"adagrad": adagrad_step, "rmsprop": rmsprop_step,
                               "momentum": momentum_step, "newton": newton_step}


def minimum(a: np.ndarray = A, b: np.ndarray = B) -> np.ndarray:
    """The closed-form minimiser A^{-1} b, the reference every optimizer is compared with."""
    return np.linalg.solve(a, b)


def optimize(step: Step, steps: int = STEPS, x0: np.ndarray = X0) -> tuple[np.ndarray, State, Oracle]:
    oracle = Oracle()
    x, state = x0.copy(), {}
    for _ in range(steps):
        x, state = step(oracle, x, state)
    return x, state, oracle


def zero_grad_displacement(step: Step, warmup: int = 20) -> float:
    """How far one step moves when the gradient is zero, after `warmup` ordinary steps."""
    oracle, x, state = Oracle(), X0.copy(), {}
    for _ in range(warmup):
        x, state = step(oracle, x, state)
    x_next, _ = step(ZeroGradOracle(), x, state)
    return float(np.linalg.norm(x_next - x))


Run = tuple[np.ndarray, State, Oracle]  # final point, final state, the oracle with its counts


def check_reaches_minimum(name: str, result: Run) -> Check:
    x, _, oracle = result
    dist = float(np.linalg.norm(x - minimum()))
    return less(f"{name}_reaches_minimum", dist, 1e-6,
                detail=f"||x - A^-1 b|| after {oracle.grad_calls} gradient evaluations, "
                       f"start {np.linalg.norm(X0 - minimum()):.3g} away")


def check_no_hessian(name: str, result: Run) -> Check:
    _, _, oracle = result
    return equal(f"{name}_no_hessian", oracle.hessian_calls, 0,
                 detail=f"Hessian evaluations over the run ({oracle.grad_calls} gradient evaluations)")


def check_rates_differ(name: str, result: Run) -> Check:
    # Plain gradient descent uses one rate for every parameter (ratio 1); an adaptive method gives
    # the flat direction (x2, curvature ~1) a much larger rate than the steep one (x1, ~100).
    _, state, _ = result
    rate = np.asarray(state["rate"], dtype=float)
    return greater(f"{name}_rates_differ", rate[1] / rate[0], 2.0,
                   detail=f"effective rate of the flat parameter / the steep one, rates {rate.round(5).tolist()}")


def check_no_velocity(name: str, step: Step) -> Check:
    moved = zero_grad_displacement(step)
    return close(f"{name}_no_velocity", moved, 0.0, atol=0.0,
                 detail="distance moved by one step with a zero gradient after 20 steps")


def check_momentum_velocity(step: Step) -> Check:
    moved = zero_grad_displacement(step)
    return greater("momentum_keeps_velocity", moved, 1e-6,
                   detail="heavy-ball momentum: distance moved by one zero-gradient step after 20 steps")


def check_newton_hessian(step: Step) -> Check:
    _, _, oracle = optimize(step, steps=1)
    return greater("newton_needs_hessian", oracle.hessian_calls, 0, detail="Hessian evaluations in one Newton step")


def check_newton_one_step(step: Step) -> Check:
    x, _, _ = optimize(step, steps=1)
    return close("newton_one_step", float(np.linalg.norm(x - minimum())), 0.0, atol=1e-10,
                 detail="distance to A^-1 b after a single Newton step on a quadratic")


def run(out_dir: Path | None = None, *, optimizers: dict[str, Step] | None = None) -> DemoResult:
    """`optimizers` replaces some of OPTIMIZERS (tests use it to break a method on purpose)."""
    opt = {**OPTIMIZERS, **(optimizers or {})}
    runs = {name: optimize(opt[name]) for name in ("adagrad", "rmsprop", "momentum")}
    checks = [check_reaches_minimum("adagrad", runs["adagrad"]), check_reaches_minimum("rmsprop", runs["rmsprop"]),
              check_no_hessian("adagrad", runs["adagrad"]), check_no_hessian("rmsprop", runs["rmsprop"]),
              check_rates_differ("adagrad", runs["adagrad"]), check_rates_differ("rmsprop", runs["rmsprop"]),
              check_momentum_velocity(opt["momentum"]),
              check_no_velocity("adagrad", opt["adagrad"]), check_no_velocity("rmsprop", opt["rmsprop"]),
              check_newton_hessian(opt["newton"]), check_newton_one_step(opt["newton"])]
    eig = np.linalg.eigvalsh(A)
    metrics: dict = {"condition_number": float(eig[-1] / eig[0]), "steps": STEPS,
                     "minimum": minimum().round(6).tolist()}
    for name, (x, state, oracle) in runs.items():
        metrics[f"{name}_distance"] = float(np.linalg.norm(x - minimum()))
        metrics[f"{name}_gradient_evals"] = oracle.grad_calls
        metrics[f"{name}_hessian_evals"] = oracle.hessian_calls
        metrics[f"{name}_final_rates"] = np.asarray(state["rate"], dtype=float).round(6).tolist()
    return DemoResult("adaptive_optimizers", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))
