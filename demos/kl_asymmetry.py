"""KL divergence is asymmetric: minimising KL(p||q) is mean-seeking, minimising KL(q||p) is mode-seeking.

For a bimodal p on a grid, KL(p||q) and KL(q||p) differ for the same Gaussian q. The Gaussian q
that minimises KL(p||q) sits between the two modes with a large variance: it matches p's mean and
variance (the closed-form moment-matching answer). The Gaussian q that minimises KL(q||p) sits on
one mode with that mode's width. When p is itself Gaussian, both fits recover p.

Both fits are found by direct numerical minimisation over (mean, log std), never by moment
matching, so the closed form is an independent reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from demos._common import Check, DemoResult, close, greater, main, max_error

CLAIM = ("KL(p||q) and KL(q||p) differ; fitting a Gaussian q to a bimodal p by minimising KL(p||q) "
         "gives a wide q between the modes (mean-seeking), minimising KL(q||p) gives a q on one mode "
         "(mode-seeking), and both agree when p is itself Gaussian.")

CHECKS = (
    "grid_kl_matches_closed_form",
    "kl_asymmetric",
    "fits_differ",
    "forward_fit_mean_matches_moments",
    "forward_fit_std_matches_moments",
    "forward_fit_wider_than_modes",
    "reverse_fit_on_one_mode",
    "reverse_fit_mode_width",
    "gaussian_p_both_fits_recover_p",
    "gaussian_p_both_kls_vanish",
)

# Wide enough (~5 std of the widest fit) that cutting the Gaussians off at the ends does not bias the fits.
X = np.linspace(-16, 16, 641)
# p: an equal mixture of N(-3, 0.8^2) and N(3, 0.8^2)
WEIGHTS, MEANS, STD = np.array([0.5, 0.5]), np.array([-3.0, 3.0]), 0.8


def log_normal(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return -0.5 * ((x - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)


def normalise_log(logp: np.ndarray) -> np.ndarray:
    """Log-probabilities of a distribution on the grid (sums to 1); logs avoid 0 * log 0."""
    top = logp.max(axis=-1, keepdims=True)
    return logp - top - np.log(np.sum(np.exp(logp - top), axis=-1, keepdims=True))


def bimodal_logp() -> np.ndarray:
    comps = [np.log(w) + log_normal(X, m, STD) for w, m in zip(WEIGHTS, MEANS, strict=True)]
    return normalise_log(np.logaddexp(*comps))


def gaussian_logq(mu: np.ndarray | float, sigma: np.ndarray | float) -> np.ndarray:
    mu, sigma = np.asarray(mu, float)[..., None], np.asarray(sigma, float)[..., None]
    return normalise_log(log_normal(X, mu, sigma))


def kl(log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
    """KL(a||b) = sum a log(a/b) over the grid (broadcasts over leading axes)."""
    return np.sum(np.exp(log_a) * (log_a - log_b), axis=-1)


def objective(logp: np.ndarray, direction: str):
    if direction == "forward":  # KL(p||q): q must cover everywhere p has mass
        return lambda mu, sigma: kl(logp, gaussian_logq(mu, sigma))
    if direction == "reverse":  # KL(q||p): q is punished for mass where p has little
        return lambda mu, sigma: kl(gaussian_logq(mu, sigma), logp)
    raise ValueError(f"direction must be 'forward' or 'reverse', not {direction!r}")


def fit(logp: np.ndarray, direction: str = "forward") -> tuple[float, float]:
    """The Gaussian (mean, std) minimising the chosen KL: a coarse grid search, then zooming in."""
    f = objective(logp, direction)
    mus, log_sigmas = np.linspace(-6, 6, 25), np.linspace(np.log(0.2), np.log(6), 16)
    dmu, dls = mus[1] - mus[0], log_sigmas[1] - log_sigmas[0]
    for _ in range(12):  # each round shrinks the search box 2.5-fold around the best point
        mm, ll = np.meshgrid(mus, log_sigmas, indexing="ij")
        values = f(mm.ravel(), np.exp(ll.ravel()))
        i = int(np.argmin(values))  # the two symmetric modes tie; either one is "one mode"
        mu, ls = mm.ravel()[i], ll.ravel()[i]
        mus, log_sigmas = np.linspace(mu - 2 * dmu, mu + 2 * dmu, 11), np.linspace(ls - 2 * dls, ls + 2 * dls, 11)
        dmu, dls = mus[1] - mus[0], log_sigmas[1] - log_sigmas[0]
    return float(mu), float(np.exp(ls))


def mixture_moments() -> tuple[float, float]:
    """Closed form: mean = sum w m, variance = sum w (s^2 + m^2) - mean^2."""
    mean = float(WEIGHTS @ MEANS)
    var = float(WEIGHTS @ (STD**2 + MEANS**2) - mean**2)
    return mean, var**0.5


def gaussian_kl_closed_form(m1: float, s1: float, m2: float, s2: float) -> float:
    return float(np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5)


def check_forward_fit(fitted: tuple[float, float], direction: str = "forward") -> list[Check]:
    mu, sigma = fitted
    ref_mu, ref_sigma = mixture_moments()
    which = "KL(p||q)" if direction == "forward" else "KL(q||p)"
    return [close("forward_fit_mean_matches_moments", mu, ref_mu, atol=0.01,
                  detail=f"mean of the q minimising {which} vs p's mean in closed form"),
            close("forward_fit_std_matches_moments", sigma, ref_sigma, rtol=1e-3,
                  detail=f"std of the q minimising {which} vs p's std in closed form (sqrt of mixture variance)"),
            greater("forward_fit_wider_than_modes", sigma / STD, 2.0,
                    detail=f"std of the q minimising {which} / the std of one mode: q spreads over both modes")]


def check_reverse_fit(fitted: tuple[float, float], direction: str = "reverse") -> list[Check]:
    mu, sigma = fitted
    which = "KL(q||p)" if direction == "reverse" else "KL(p||q)"
    nearest = float(np.min(np.abs(MEANS - mu)))
    return [close("reverse_fit_on_one_mode", nearest, 0.0, atol=0.05,
                  detail=f"distance from the mean {mu:.3f} of the q minimising {which} to the nearest mode of p "
                         f"{MEANS.tolist()}"),
            close("reverse_fit_mode_width", sigma, STD, rtol=0.05,
                  detail=f"std of the q minimising {which} vs the std of one mode")]


def check_gaussian_p() -> list[Check]:
    mu, sigma = 1.0, 1.5
    logp = gaussian_logq(mu, sigma)
    fwd, rev = fit(logp, "forward"), fit(logp, "reverse")
    # Both divergences are >= 0 and reach 0 only at q = p: with p in q's family both fits get there.
    worst_kl = max(float(kl(logp, gaussian_logq(*fwd))), float(kl(gaussian_logq(*rev), logp)))
    return [max_error("gaussian_p_both_fits_recover_p", [*fwd, *rev], [mu, sigma, mu, sigma], atol=1e-3,
                      detail="p = N(1, 1.5^2): (mean, std) of the KL(p||q) and KL(q||p) fits vs p's own"),
            close("gaussian_p_both_kls_vanish", worst_kl, 0.0, atol=1e-8,
                  detail="p = N(1, 1.5^2): the larger of KL(p||q) and KL(q||p) at their minimisers")]


def plot(path: Path, logp: np.ndarray, fwd: tuple[float, float], rev: tuple[float, float]) -> None:
    from matplotlib.figure import Figure  # no pyplot: no global state, Agg canvas

    fig = Figure(figsize=(7, 3.5), dpi=110)
    ax = fig.subplots()
    dx = X[1] - X[0]
    ax.plot(X, np.exp(logp) / dx, label="p (bimodal)", lw=2.5, color="tab:blue")
    ax.plot(X, np.exp(gaussian_logq(*fwd)) / dx, label=f"argmin KL(p||q): mean-seeking, N({fwd[0]:.2f}, {fwd[1]:.2f}²)",
            color="tab:green")
    ax.plot(X, np.exp(gaussian_logq(*rev)) / dx, label=f"argmin KL(q||p): mode-seeking, N({rev[0]:.2f}, {rev[1]:.2f}²)",
            color="tab:red", ls="--")
    ax.set_xlim(-9, 9)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title("Fitting a Gaussian q to a bimodal p: the two directions of KL", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14)  # fixed margins: tight_layout costs a draw
    fig.savefig(path)


def run(out_dir: Path | None = None, *, mean_seeking: str = "forward", mode_seeking: str = "reverse") -> DemoResult:
    """`mean_seeking` / `mode_seeking` name the KL direction each fit uses (tests swap them)."""
    logp = bimodal_logp()
    fwd, rev = fit(logp, mean_seeking), fit(logp, mode_seeking)
    log_qf = gaussian_logq(*fwd)
    kl_pq, kl_qp = float(kl(logp, log_qf)), float(kl(log_qf, logp))
    m1, s1, m2, s2 = 0.5, 1.0, -1.0, 2.0
    grid_kl = float(kl(gaussian_logq(m1, s1), gaussian_logq(m2, s2)))

    checks = [
        close("grid_kl_matches_closed_form", grid_kl, gaussian_kl_closed_form(m1, s1, m2, s2), rtol=1e-9,
              detail="KL(N(0.5,1)||N(-1,2^2)) summed on the grid vs the closed form for two Gaussians"),
        greater("kl_asymmetric", abs(kl_pq - kl_qp), 0.1,
                detail=f"|KL(p||q) - KL(q||p)| for q = the mean-seeking fit: {kl_pq:.3f} vs {kl_qp:.3f}"),
        greater("fits_differ", abs(fwd[0] - rev[0]) + abs(fwd[1] - rev[1]), 1.0,
                detail=f"|mean difference| + |std difference| of the two fits: N({fwd[0]:.2f}, {fwd[1]:.2f}^2) "
                       f"vs N({rev[0]:.2f}, {rev[1]:.2f}^2)"),
        *check_forward_fit(fwd, mean_seeking),
        *check_reverse_fit(rev, mode_seeking),
        *check_gaussian_p(),
    ]
    metrics = {"p": f"{WEIGHTS[0]} N({MEANS[0]}, {STD}^2) + {WEIGHTS[1]} N({MEANS[1]}, {STD}^2)",
               "mean_seeking_fit": {"mean": fwd[0], "std": fwd[1]},
               "mode_seeking_fit": {"mean": rev[0], "std": rev[1]},
               "moment_matching": dict(zip(("mean", "std"), mixture_moments(), strict=True)),
               "kl_p_q_at_mean_seeking_fit": kl_pq, "kl_q_p_at_mean_seeking_fit": kl_qp}
    artifacts = {}
    if out_dir is not None:
        path = Path(out_dir).resolve() / "kl_fits.png"
        plot(path, logp, fwd, rev)
        artifacts["plot"] = str(path)
    return DemoResult("kl_asymmetry", CLAIM, checks, metrics, artifacts)


if __name__ == "__main__":
    raise SystemExit(main(run))
