"""eval.variants.paired: a variant against today's choice row by row, with thread-resampled intervals."""

import numpy as np
import pytest

from eval.calibrate.cross_validation import cross_validate
from eval.variants.paired import decisions, difference, well_decided
from eval.variants.scoring import development_rates, refit
from tests.test_variants import rows_of


def test_a_row_is_decided_well_when_answered_right_in_scope_and_declined_out_of_scope():
    labels = np.array([1, 1, 1, 0, 0])
    answered = np.array([True, True, False, True, False])
    right = np.array([True, False, True, True, True])
    assert well_decided(labels, answered, right).tolist() == [True, False, False, False, True]


def test_no_change_has_no_difference_and_no_width():
    labels = np.array([1.0, 1.0, 0.0, 0.0])
    same = np.array([1.0, 0.5, 1.0, 0.0])
    result = difference(same, same.copy(), labels, ["a", "b", "c", "d"])
    assert result == {"in scope": (0.0, 0.0, 0.0), "out of scope": (0.0, 0.0, 0.0)}


def test_a_change_spread_over_many_threads_is_told_from_chance():
    labels = np.ones(200)
    today = np.zeros(200)
    variant = np.where(np.arange(200) % 2 == 0, 1.0, 0.0)  # better on every other thread
    mean, low, high = difference(today, variant, labels, [f"t{i}" for i in range(200)])["in scope"]
    assert mean == pytest.approx(0.5)
    assert 0.35 < low < 0.5 < high < 0.65


def test_a_change_held_by_one_thread_is_not_told_from_chance():
    # Half the rows change, all in one thread of 50 rows beside 50 threads of one row: resampled row by
    # row this would look as sure as the test above; resampled by thread, the big thread is left out of
    # about a third of the resamples, so the interval reaches zero.
    labels = np.ones(100)
    today = np.zeros(100)
    variant = np.concatenate([np.ones(50), np.zeros(50)])
    groups = ["big"] * 50 + [f"t{i}" for i in range(50)]
    mean, low, high = difference(today, variant, labels, groups)["in scope"]
    assert mean == pytest.approx(0.5)
    assert low == 0.0 and high > 0.6


def test_held_out_decisions_add_up_to_cross_validation_s_rates():
    rng = np.random.default_rng(5)
    labels = (rng.uniform(size=80) < 0.5).astype(float)
    scores = np.clip(labels[:, None] * 0.3 + rng.uniform(size=(80, 2)) * 0.7, 0.0, 1.0)
    right = rng.uniform(size=(80, 2)) < 0.8
    rows = rows_of(["real_posts:calibration"] * 80, labels.tolist(), scores.tolist(), right.tolist())
    development = rows_of(["dev"] * 80, labels.tolist(), scores[::-1].tolist(), right.tolist())
    scorer, threshold = refit(rows, (0,))
    made = decisions(rows, development, scorer, threshold)
    rates = cross_validate(rows.features, rows.labels, rows.right, rows.groups, (0,), candidates=rows.candidates)
    assert made.held_out[labels == 1].mean() == pytest.approx(rates["answered_right"])
    assert made.held_out[labels == 0].mean() == pytest.approx(rates["declined_out_of_scope"])
    right_in_scope, _, declined, _ = development_rates(scorer, threshold, development, (0,))["dev"]
    assert made.development[labels == 1].sum() == right_in_scope
    assert made.development[labels == 0].sum() == declined
