"""Zero-filling the pixels outside a circular image is harmless for the first layer.

A zero pixel contributes w * 0 = 0 to every pre-activation of a linear or convolutional first layer,
so zero-filled "missing" pixels add nothing to what the layer computes, and the weights that only
ever see those pixels get exactly zero gradient: the network ignores them without having to learn
to. A small network trained on zero-filled circular images therefore reaches the same accuracy as
one given only the in-circle pixels. (This is specific to zero: any other fill value leaks into the
pre-activations.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from demos._common import Check, DemoResult, close, greater, main, max_error

CLAIM = ("Zero-filled pixels outside a circular mask add nothing to a first linear or convolutional "
         "layer and give zero gradient to the weights they touch, so a network trained on zero-padded "
         "circular images matches one given only the in-circle pixels.")

CHECKS = (
    "linear_preactivations_ignore_outside",
    "conv_preactivations_ignore_outside",
    "outside_weights_zero_gradient",
    "inside_weights_get_gradient",
    "in_circle_weights_identical",
    "same_accuracy",
    "better_than_chance",
)

SIZE, HIDDEN, STEPS, LR = 12, 8, 100, 1.0


def circle_mask(size: int = SIZE) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    c = (size - 1) / 2
    return (yy - c) ** 2 + (xx - c) ** 2 <= (size / 2 - 0.5) ** 2


def make_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw circular images: NaN (no measurement) outside the circle, a noisy blob left or right inside.

    Label 1 means the blob is on the right. Returns (raw images n x SIZE x SIZE, labels).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    cx = np.where(y == 1, 7.5, 3.5) + rng.normal(0, 0.7, n)
    cy = 5.5 + rng.normal(0, 1.5, n)
    blob = np.exp(-((xx - cx[:, None, None]) ** 2 + (yy - cy[:, None, None]) ** 2) / 4.0)
    raw = blob + rng.normal(0, 0.3, blob.shape)
    raw[:, ~circle_mask()] = np.nan
    return raw, y


def fill(raw: np.ndarray, value: float = 0.0) -> np.ndarray:
    """What a CNN needs: a full grid, the missing pixels set to `value`."""
    return np.where(circle_mask(), raw, value)


def init_params(n_inputs: int, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w1": rng.normal(0, 0.3, (HIDDEN, n_inputs)), "b1": np.zeros(HIDDEN),
            "w2": rng.normal(0, 0.3, HIDDEN), "b2": np.zeros(1)}


def loss_and_grads(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """Mean binary cross-entropy of a 1-hidden-layer tanh network and its hand-written gradients."""
    h = np.tanh(x @ p["w1"].T + p["b1"])
    z = h @ p["w2"] + p["b2"]
    prob = 1 / (1 + np.exp(-z))
    loss = float(np.mean(np.logaddexp(0, z) - y * z))
    dz = (prob - y) / len(y)
    dh = np.outer(dz, p["w2"]) * (1 - h**2)
    return loss, {"w1": dh.T @ x, "b1": dh.sum(0), "w2": h.T @ dz, "b2": np.array([dz.sum()])}


def train(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    p = {k: v.copy() for k, v in params.items()}
    for _ in range(STEPS):
        _, g = loss_and_grads(p, x, y)
        for k in p:
            p[k] -= LR * g[k]
    return p


def accuracy(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    z = np.tanh(x @ p["w1"].T + p["b1"]) @ p["w2"] + p["b2"]
    return float(np.mean((z > 0) == y))


def conv2d(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'Valid' cross-correlation, as a CNN's first layer computes it."""
    windows = sliding_window_view(images, kernel.shape, axis=(1, 2))
    return np.einsum("nijkl,kl->nij", windows, kernel)


def masked_conv_reference(raw: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The same layer if it could skip missing pixels: a plain loop summing in-circle taps only."""
    mask = circle_mask()
    kh, kw = kernel.shape
    out = np.zeros((raw.shape[0], SIZE - kh + 1, SIZE - kw + 1))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            for a in range(kh):
                for b in range(kw):
                    if mask[i + a, j + b]:
                        out[:, i, j] += kernel[a, b] * raw[:, i + a, j + b]
    return out


def check_linear(raw: np.ndarray, fill_value: float) -> Check:
    mask = circle_mask()
    w = np.random.default_rng(4).normal(0, 1, (HIDDEN, SIZE * SIZE))
    full = fill(raw, fill_value).reshape(len(raw), -1) @ w.T
    in_circle = raw[:, mask] @ w[:, mask.ravel()].T  # the layer given only in-circle pixels
    return max_error("linear_preactivations_ignore_outside", full, in_circle, atol=1e-12,
                     detail="first linear layer on filled images vs the same layer on in-circle pixels only")


def check_conv(raw: np.ndarray, fill_value: float) -> Check:
    kernel = np.random.default_rng(5).normal(0, 1, (3, 3))
    return max_error("conv_preactivations_ignore_outside", conv2d(fill(raw, fill_value), kernel),
                     masked_conv_reference(raw, kernel), atol=1e-12,
                     detail="3x3 conv on filled images vs a loop that sums in-circle taps only")


def outside_weight_loss_changes(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray], h: float = 1e-3):
    """Finite differences: |L(w1 + h on one outside pixel's column) - L(w1)| / h for every outside pixel."""
    base, _ = loss_and_grads(params, x, y)
    changes = []
    for j in np.flatnonzero(~circle_mask().ravel()):
        p = dict(params, w1=params["w1"].copy())
        p["w1"][:, j] += h
        changes.append(abs(loss_and_grads(p, x, y)[0] - base) / h)
    return np.array(changes)


def run(out_dir: Path | None = None, *, fill_value: float = 0.0) -> DemoResult:
    """`fill_value` is what goes outside the circle (tests set it non-zero to break the claim)."""
    mask = circle_mask()
    raw, y = make_images(400, seed=0)
    raw_test, y_test = make_images(1000, seed=1)
    x_full = fill(raw, fill_value).reshape(len(raw), -1)
    x_in = raw[:, mask]
    test_full, test_in = fill(raw_test, fill_value).reshape(len(raw_test), -1), raw_test[:, mask]

    init = init_params(SIZE * SIZE)
    init_in = dict(init, w1=init["w1"][:, mask.ravel()])  # same starting weights on the shared pixels
    _, grads = loss_and_grads(init, x_full, y)
    outside_grad = float(np.max(np.abs(grads["w1"][:, ~mask.ravel()])))
    inside_grad = float(np.max(np.abs(grads["w1"][:, mask.ravel()])))
    fd_changes = outside_weight_loss_changes(x_full, y, init)

    p_full, p_in = train(x_full, y, init), train(x_in, y, init_in)
    acc_full, acc_in = accuracy(p_full, test_full, y_test), accuracy(p_in, test_in, y_test)

    checks = [
        check_linear(raw_test, fill_value),
        check_conv(raw_test, fill_value),
        close("outside_weights_zero_gradient", float(fd_changes.max()), 0.0, atol=1e-12,
              detail=f"finite differences: max |dL| / h when nudging the weights of each of the "
                     f"{len(fd_changes)} outside pixels (backprop gives {outside_grad:.3g})"),
        greater("inside_weights_get_gradient", inside_grad, 1e-6,
                detail="max |dL/dw| over in-circle pixels, so the zero above is not a dead network"),
        max_error("in_circle_weights_identical", p_full["w1"][:, mask.ravel()], p_in["w1"], atol=1e-10,
                  detail=f"first-layer weights after {STEPS} steps: zero-filled model vs in-circle-only model"),
        close("same_accuracy", acc_full, acc_in, atol=0.002,
              detail="held-out accuracy on 1,000 images: zero-filled full grid vs in-circle pixels only"),
        greater("better_than_chance", min(acc_full, acc_in), 0.8, detail="both models actually learned the task"),
    ]
    metrics = {"image_size": SIZE, "in_circle_pixels": int(mask.sum()), "outside_pixels": int((~mask).sum()),
               "fill_value": fill_value, "accuracy_filled": acc_full, "accuracy_in_circle": acc_in,
               "max_outside_gradient": outside_grad, "max_inside_gradient": inside_grad}
    return DemoResult("circular_images", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))
