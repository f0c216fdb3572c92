"""eval.variants: the seams it swaps, and the figures it prints, on data small enough to work by hand."""

import csv
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import Entry
from bot.search import abbreviations
from bot.search.abbreviations import Abbreviations, as_searched
from eval.calibrate import CalibrationRows, Candidates, cross_validate, logistic_model
from eval.datasets import Question
from eval.variants import (
    SYNONYMS_FILE,
    averaged,
    chunkings,
    development_rates,
    glossary,
    other_classifiers,
    refit,
    sklearn_model,
    synonym_pairs,
    towards_the_answers,
)


def ring(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """In scope inside a ring (|x| < 1 on one feature), out of scope on both sides of it: no single
    linear threshold separates them, a kernel or a hidden layer does."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    labels = (np.abs(x[:, 0]) < 1.0).astype(float)
    return x, labels, np.ones(n, dtype=bool), [f"t{i}" for i in range(n)]


def test_cross_validation_fits_the_model_it_is_given():
    features, labels, right, groups = ring(200, seed=1)
    linear = cross_validate(features, labels, right, groups, (0,), seeds=2)
    kernel = cross_validate(features, labels, right, groups, (0,), seeds=2,
                            model=other_classifiers()["SVM, RBF kernel, C 1"])
    # The logistic regression can only put one threshold on x: it answers everything below (or above) it.
    assert min(linear.values()) < 0.7
    assert kernel["answered_right"] > 0.9 and kernel["declined_out_of_scope"] > 0.9


def test_a_scikit_learn_scorer_keeps_the_candidates_shape():
    features, labels, _, _ = ring(100, seed=2)
    scorer = sklearn_model(_Logistic)(features, labels)
    stacked = np.stack([features[:10], features[10:20], features[20:30]], axis=1)  # 10 rows x 3 candidates
    scores = scorer(stacked)
    assert scores.shape == (10, 3)
    assert np.allclose(scores[:, 1], scorer(features[10:20]))
    assert np.allclose(scores[:, 2], logistic_model(features, labels)(features[20:30]))  # each row its own


def test_an_ensemble_fits_each_model_and_averages_their_confidences():
    fitted = []

    def first_feature(features, labels):
        fitted.append(len(labels))
        return lambda x: x[..., 0]

    def labels_share(features, labels):
        fitted.append(len(labels))
        return lambda x: np.full(x.shape[:-1], labels.mean())
    scorer = averaged(first_feature, labels_share)(np.array([[0.2], [0.6]]), np.array([0.0, 1.0]))
    assert fitted == [2, 2]
    assert np.allclose(scorer(np.array([[[0.0], [1.0]]])), [[0.25, 0.75]])


class _Logistic:
    """The refit rule's logistic regression dressed as a scikit-learn classifier (fit, predict_proba)."""

    def fit(self, features, labels):
        self.scorer = logistic_model(features, labels)
        return self

    def predict_proba(self, features):
        positive = self.scorer(features)
        return np.column_stack([1.0 - positive, positive])


def rows_of(splits: list[str], labels: list[float], scores: list[list[float]],
            right: list[list[bool]]) -> CalibrationRows:
    """Rows whose one feature is the confidence itself, each with two candidates."""
    questions = [Question(f"q{i}", "?", ("e",) if label else (), split) for i, (split, label)
                 in enumerate(zip(splits, labels, strict=True))]
    features = np.array(scores)[:, :, None]
    return CalibrationRows(questions, [None] * len(questions), [None] * len(questions), [["e", "f"]] * len(questions),
                           np.array(labels), Candidates(features, np.array(right)))


def test_development_sets_are_decided_by_the_rule_fitted_on_all_calibration_rows():
    # The calibration rows put in scope at 0.8 and 0.9 and out of scope at 0.7 and 0.2: the refit rule's
    # threshold falls between 0.7 and 0.8, and the identity scorer below decides with it.
    fitted_on = rows_of(["cal"] * 4, [1, 1, 0, 0], [[0.9, 0.1], [0.8, 0.2], [0.7, 0.1], [0.2, 0.1]],
                        [[True, False]] * 4)
    development = rows_of(["a", "a", "a", "b", "b"], [1, 1, 0, 1, 0],
                          [[0.85, 0.1], [0.3, 0.95], [0.72, 0.2], [0.9, 0.1], [0.1, 0.3]],
                          [[True, False], [False, True], [False, False], [False, True], [False, False]])

    def identity(features, labels):
        return lambda x: x[..., 0]
    scorer, threshold = refit(fitted_on, (0,), model=identity)
    assert 0.7 < threshold < 0.8
    rates = development_rates(scorer, threshold, development, (0,))
    # a: the first answered right; the second answered from its more confident second candidate, right;
    # the out-of-scope one (0.72) declined, as no threshold of 0.5 would. b: answered from a wrong first
    # candidate; declined out of scope.
    assert rates == {"a": (2, 2, 1, 1), "b": (0, 1, 1, 1)}


def test_synonym_pairs_leave_out_second_meanings_when_asked(tmp_path: Path):
    listed = tmp_path / "pairs.tsv"
    listed.write_text("term\tcanonical\tsource\tsecond_meaning\n"
                      "relative entropy\tKL divergence\thttps://example.org/a\t\n"
                      "zero-forcing\tmode-seeking\thttps://example.org/b\tan equalizer\n")
    assert synonym_pairs(listed) == (("relative entropy", "KL divergence"), ("zero-forcing", "mode-seeking"))
    assert synonym_pairs(listed, without_second_meanings=True) == (("relative entropy", "KL divergence"),)


def test_the_committed_synonyms_are_pairs_of_two_names_with_an_address():
    with SYNONYMS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) >= 60
    for row in rows:
        assert row["term"].strip() and row["canonical"].strip()
        assert row["term"].strip().lower() != row["canonical"].strip().lower()
        assert row["source"].startswith(("https://", "http://"))


ENTRY = Entry("kl", "Why is KL divergence asymmetric?", "The KL divergence is not symmetric. Minimising it "
              "one way is mean-seeking. The other way is mode-seeking.", aliases=("softmax of the scores",),
              sentences=("The KL divergence is not symmetric.", "Minimising it one way is mean-seeking.",
                         "The other way is mode-seeking."))


def test_only_pairs_read_towards_what_the_answers_write():
    pairs = (("relative entropy", "KL divergence"), ("softargmax", "softmax"), ("mass-covering", "mean-seeking"))
    # "softmax" is written only in an alias: that pair goes; the other two the answer writes.
    assert towards_the_answers(pairs, [ENTRY]) == (("relative entropy", "KL divergence"),
                                                   ("mass-covering", "mean-seeking"))


def test_the_glossary_holds_the_pairs_only_inside_the_block():
    post = "is relative entropy mass-covering?"
    # The answer writes "KL divergence" three times as often as the alias writes "relative entropy".
    asked = Entry(ENTRY.id, ENTRY.question, ENTRY.answer + " Its order matters for the KL divergence.",
                  aliases=("what is relative entropy",))
    before = Abbreviations.of_entries([ENTRY]).read(post)
    with glossary((("relative entropy", "KL divergence"), ("mass-covering", "mean-seeking"))):
        assert Abbreviations.of_entries([ENTRY]).read(post) == "is KL divergence mean-seeking?"
        assert as_searched([asked])[0].aliases == ("what is KL divergence",)
    assert Abbreviations.of_entries([ENTRY]).read(post) == before == post
    assert ("mass-covering", "mean-seeking") not in abbreviations.GLOSSARY
    # The directions are cached per knowledge base: the block's must not outlive it.
    assert as_searched([asked])[0].aliases == ("what is relative entropy",)


@pytest.mark.parametrize("name, added, removed", [("two-sentence windows", 2, 0), ("three-sentence windows", 0, 0),
                                                  ("the whole answer as a chunk", 1, 0),
                                                  ("no question-and-answer chunk", 0, 1)])
def test_chunkings_add_or_remove_what_they_say(name: str, added: int, removed: int):
    from bot.search.index import entry_chunks

    today = entry_chunks(ENTRY)
    other = chunkings()[name](ENTRY)
    assert len(other) == len(today) + added - removed
    assert len({chunk.id for chunk in other}) == len(other)
    if name == "two-sentence windows":
        assert [c.text for c in other[len(today):]] == ["The KL divergence is not symmetric. Minimising it one way "
                                                        "is mean-seeking.", "Minimising it one way is mean-seeking. "
                                                        "The other way is mode-seeking."]
    if removed:
        assert all(chunk.kind != "qa" for chunk in other)
