"""Every demo passes, and every demo's claim, made false on purpose, makes a named check fail.

The mutation tests change one ingredient of a demo (the visiting order, the KL direction, the
log base of one side, the gradient formula, the fill value, ...) through the parameters the
demo exposes, and assert that the specific check backing the claim now fails.
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import PROJECT_ROOT
from demos import _common
from demos._common import DemoResult, close, greater, max_error

DEMOS = ["adaptive_optimizers", "softmax_vs_sigmoid", "circular_images", "backprop_order", "kl_asymmetry",
         "log_base", "softmax_derivative", "nll_vs_cross_entropy"]


@pytest.fixture(scope="module")
def results() -> dict[str, DemoResult]:
    return {name: importlib.import_module(f"demos.{name}").run() for name in DEMOS}


def failed(result: DemoResult) -> set[str]:
    return {c.name for c in result.checks if not c.passed}


# --- every demo, as shipped ----------------------------------------------------------------

@pytest.mark.parametrize("name", DEMOS)
def test_demo_passes_and_matches_its_static_checks(name: str, results: dict[str, DemoResult]) -> None:
    module = importlib.import_module(f"demos.{name}")
    result = results[name]
    assert result.name == name
    assert failed(result) == set(), [c.detail for c in result.checks if not c.passed]
    assert module.CHECKS == tuple(c.name for c in result.checks)
    assert isinstance(module.CLAIM, str) and module.CLAIM
    assert module.__doc__ and module.__doc__.strip().split("\n\n")[0]


@pytest.mark.parametrize("name", DEMOS)
def test_result_json_round_trips(name: str, results: dict[str, DemoResult]) -> None:
    data = results[name].to_json()
    assert set(data) == {"name", "claim", "passed", "checks", "metrics", "artifacts"}
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    for check in data["checks"]:
        assert set(check) == {"name", "passed", "value", "reference", "tolerance", "detail"}
        assert isinstance(check["passed"], bool)


def test_kl_asymmetry_cli_exits_zero_and_writes_a_plot(tmp_path: Path) -> None:
    plain = subprocess.run([sys.executable, "-m", "demos.kl_asymmetry"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert "all checks passed" in plain.stdout
    as_json = subprocess.run([sys.executable, "-m", "demos.kl_asymmetry", "--json", "--out", str(tmp_path)],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["passed"] is True
    plot = Path(data["artifacts"]["plot"])
    assert plot.parent == tmp_path.resolve()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the shared helpers ------------------------------------------------------------------------

def test_check_helpers_fail_on_nan_and_shape_mismatch() -> None:
    assert close("c", 1.0, 1.0 + 1e-9, atol=1e-8).passed
    assert not close("c", 1.0, 1.1, atol=1e-8).passed
    assert not close("c", math.nan, 0.0, atol=1.0).passed
    assert not greater("g", math.nan, 0.0).passed
    assert not max_error("m", [1.0, math.nan], [1.0, 1.0], atol=1.0).passed
    assert not max_error("m", [1.0, 2.0], [1.0], atol=1.0).passed
    assert max_error("m", [1.0, 2.0], [1.0, 2.0 + 1e-13], atol=1e-12).passed


def test_main_exit_status_and_json_follow_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    def failing_run(out_dir: Path | None = None) -> DemoResult:
        return DemoResult("fake", "a claim", [close("a", 1.0, 1.0, atol=0.0), close("b", 1.0, 2.0, atol=0.1)])

    assert _common.main(failing_run, ["--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False
    assert [c["passed"] for c in data["checks"]] == [True, False]
    assert _common.main(failing_run, []) == 1
    assert "1 check(s) FAILED" in capsys.readouterr().out
    # A result with no checks proves nothing: it must not count as passed.
    assert not DemoResult("empty", "claim", []).passed


# --- mutation tests: make each claim false, watch its check fail --------------------------------

def test_adaptive_optimizers_mutations() -> None:
    from demos import adaptive_optimizers as m

    def adagrad_with_hessian(oracle, x, state):
        oracle.hessian(x)  # e.g. a curvature-preconditioned variant: no longer first order
        return m.adagrad_step(oracle, x, state)

    def adagrad_with_velocity(oracle, x, state):
        x_new, new_state = m.adagrad_step(oracle, x, state)
        velocity = 0.9 * state.get("velocity", np.zeros_like(x)) + (x_new - x)
        return x + velocity, {**new_state, "velocity": velocity}

    def adagrad_one_rate(oracle, x, state):  # a single accumulator shared by all parameters
        g = oracle.grad(x)
        total = state.get("sum_sq", 0.0) + float(g @ g)
        rate = np.full_like(x, 1.0 / np.sqrt(total))
        return x - rate * g, {"sum_sq": total, "rate": rate}

    def newton_without_hessian(oracle, x, state):  # i.e. plain gradient descent
        return x - 0.01 * oracle.grad(x), {}

    def momentum_without_memory(oracle, x, state):
        return m.momentum_step(oracle, x, state, beta=0.0)

    assert "adagrad_no_hessian" in failed(m.run(optimizers={"adagrad": adagrad_with_hessian}))
    assert "adagrad_no_velocity" in failed(m.run(optimizers={"adagrad": adagrad_with_velocity}))
    assert "adagrad_rates_differ" in failed(m.run(optimizers={"adagrad": adagrad_one_rate}))
    assert {"newton_needs_hessian", "newton_one_step"} <= failed(m.run(optimizers={"newton": newton_without_hessian}))
    assert "momentum_keeps_velocity" in failed(m.run(optimizers={"momentum": momentum_without_memory}))


def test_softmax_vs_sigmoid_mutations() -> None:
    from demos import softmax_vs_sigmoid as m

    def squared_normaliser(z):  # normalises to probabilities but is not softmax
        return z**2 / np.sum(z**2, axis=-1, keepdims=True)

    broken = failed(m.run(normalise=squared_normaliser))
    assert {"softmax_pair_equals_sigmoid", "shift_invariance"} <= broken

    def sigmoid_with_wrong_sign(z):  # softmax([z0, z1])[1] claimed to be sigmoid(z0 - z1)
        p1 = m.sigmoid(z[..., 0] - z[..., 1])
        return np.stack([1 - p1, p1], axis=-1)

    assert "softmax_pair_equals_sigmoid" in failed(m.run(normalise=sigmoid_with_wrong_sign))


def test_circular_images_nonzero_fill_breaks_the_claim() -> None:
    from demos import circular_images as m

    broken = failed(m.run(fill_value=0.5))
    assert {"linear_preactivations_ignore_outside", "conv_preactivations_ignore_outside",
            "outside_weights_zero_gradient", "in_circle_weights_identical"} <= broken


def test_backprop_order_mutations() -> None:
    from demos import backprop_order as m

    assert "reverse_topological_matches_fd" in failed(m.run(order="bfs"))
    assert "reverse_topological_matches_fd" in failed(m.run(order="dfs_preorder"))
    assert "dfs_postorder_is_topological" in failed(m.run(topo_method="bfs"))
    # On a chain BFS is right, so the check that it is wrong must fail there ...
    assert not m.check_order_wrong(m.chain_graph(), m.CHAIN_INPUTS, "bfs").passed
    # ... and on the DAG the orders disagree, so "all orders agree" must fail there.
    assert not m.check_chain(m.diamond_graph(), m.DAG_INPUTS).passed


def test_kl_asymmetry_mutations(monkeypatch: pytest.MonkeyPatch) -> None:
    from demos import kl_asymmetry as m

    swapped = failed(m.run(mean_seeking="reverse", mode_seeking="forward"))
    assert {"forward_fit_mean_matches_moments", "forward_fit_std_matches_moments", "forward_fit_wider_than_modes",
            "reverse_fit_on_one_mode", "reverse_fit_mode_width"} <= swapped

    # A symmetric divergence (Jeffreys: the average of both directions) has no asymmetry to show.
    real_kl = m.kl
    monkeypatch.setattr(m, "kl", lambda a, b: 0.5 * (real_kl(a, b) + real_kl(b, a)))
    assert "kl_asymmetric" in failed(m.run())


def test_log_base_mutations() -> None:
    from demos import log_base as m

    # Change the base of one side: base-2 loss compared with the natural-log loss / ln 10.
    assert not m.check_base_scaling("base2_loss_is_nats_over_ln2", 2.0, divisor_base=10.0).passed
    # Claim d/dx log2 x = 1/x (forgetting the 1/ln 2).
    assert not m.check_derivative("dlog2_is_one_over_x_ln2", 2.0, 1.0).passed

    def mixed_base_loss(theta, base):  # one term in base b, the other always natural: not a rescaling
        return float(-np.mean(m.FLIPS * m.LOGS[base](theta) + (1 - m.FLIPS) * np.log(1 - theta)))

    assert "same_minimiser_every_base" in failed(m.run(loss=mixed_base_loss))


def test_softmax_derivative_mutations() -> None:
    from demos import softmax_derivative as m

    assert {"nll_softmax_grad_is_s_minus_y", "soft_target_grad_is_s_minus_y"} <= failed(
        m.run(grad_formula=lambda s, y: y - s))
    assert {"softmax_jacobian_is_diag_minus_outer", "chain_rule_gives_s_minus_y"} <= failed(
        m.run(jacobian=lambda s: np.diag(s) + np.outer(s, s)))
    assert "softmax_is_a_distribution" in failed(m.run(normalise=lambda z: z / z.sum()))


def test_nll_vs_cross_entropy_mutations() -> None:
    from demos import nll_vs_cross_entropy as m

    def swapped_ce(target, q):  # H(q, target) instead of H(target, q)
        return -np.sum(q * np.log(np.clip(target, 1e-300, None)), axis=-1)

    assert {"nll_equals_onehot_cross_entropy", "soft_target_cross_entropy_is_expected_nll"} <= failed(
        m.run(ce=swapped_ce))

    def mse_over_sigma2(y, mu, sigma):  # forgets the 2 in 2 sigma^2
        return float(np.mean((y - mu) ** 2) / sigma**2 + 0.5 * np.log(2 * np.pi * sigma**2))

    assert "gaussian_nll_is_mse_plus_constant" in failed(m.run(gaussian_rewrite=mse_over_sigma2))
    # Noise whose variance depends on the input: the NLL minimiser becomes weighted least squares.
    assert "gaussian_nll_minimiser_is_least_squares" in failed(
        m.run(noise_sigma=lambda x: 0.3 + np.abs(x[:, 0])))
