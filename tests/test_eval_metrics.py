"""Pure parts of the eval suite, against hand-computed values."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from bot.answering.support import score_support
from eval.baselines import Reply
from eval.calibrate.cross_validation import (
    RELIABILITY_BANDS,
    by_shape,
    cross_validate,
    meeting,
    new_entry_recall,
    operating_curve,
    reliability,
)
from eval.calibrate.fit import Candidates, decide, fit_logistic, logistic_scorer, refit_rule
from eval.datasets import DatasetError, Question, load_question_sets, load_questions, load_support_rows, shape_tags
from eval.export import DECLINE_REFERENCE, ragas_records
from eval.gate import gate_failures, gated_values, load_thresholds
from eval.metrics import abstention, demos, faithfulness, latency, meta, registry, retrieval
from eval.report import headline_rows, render_markdown
from eval.run import failures, system_metrics

ADAGRAD = ("Adagrad and RMSProp are still first order methods, they never require calculating the second-order "
           "derivative (Hessian matrix). Also they are adaptive (to each parameter) learning rate methods, and are "
           "not strictly considered momentum methods.")
KL = (r"This is called “mode-seeking” or exclusive divergence, and if we minimise the \(KL(q||p)\), we will end up "
      r"with a \(q\) that tries to fit to a mode of \(p\). Now stare at the animation when \(KL(p||q)\) is low, but "
      r"\(KL(q||p)\) is high. This is called “mean-seeking” and if we minimise \(KL(p||q)\), we will end up with "
      r"\(q\) that will place most of its probability density in the “mean” of \(p\).")


# ------------------------------------------------------------------------------ retrieval

def test_first_hit_rank_and_hit_at_k_use_any_expected_entry() -> None:
    ranking = ["b", "c", "a"]
    assert retrieval.first_hit_rank(ranking, ["a"]) == 3
    assert retrieval.first_hit_rank(ranking, ["a", "c"]) == 2
    assert retrieval.first_hit_rank(ranking, ["z"]) is None
    assert retrieval.hit_at_k(ranking, ["a"], 1) == 0.0
    assert retrieval.hit_at_k(ranking, ["a"], 3) == 1.0
    assert retrieval.hit_at_k([], ["a"], 3) == 0.0  # declined: a miss


def test_reciprocal_rank_and_mean() -> None:
    rr = [retrieval.reciprocal_rank(["a"], ["a"]), retrieval.reciprocal_rank(["b", "a"], ["a"]),
          retrieval.reciprocal_rank(["b"], ["a"])]
    assert rr == [1.0, 0.5, 0.0]
    assert retrieval.mean(rr) == pytest.approx(0.5)
    assert retrieval.mean([]) is None


def test_all_expected_answered_needs_every_entry() -> None:
    assert retrieval.all_expected_answered(["a", "b"], ["b", "a"]) == 1.0
    assert retrieval.all_expected_answered(["a"], ["a", "b"]) == 0.0
    assert retrieval.all_expected_answered(["a"], []) == 0.0


# ------------------------------------------------------------------------------ abstention

def test_abstention_counts_precision_recall_f1_by_hand() -> None:
    # in scope:  T  T  T  F  F  F
    # abstained: F  T  F  T  T  F   -> tp=2 (rows 4,5), fp=1 (row 2), fn=1 (row 6), tn=2 (rows 1,3)
    counts = abstention.abstention_counts([False, True, False, True, True, False],
                                          [True, True, True, False, False, False])
    assert counts == abstention.AbstentionCounts(tp=2, fp=1, fn=1, tn=2)
    assert abstention.precision(counts) == pytest.approx(2 / 3)
    assert abstention.recall(counts) == pytest.approx(2 / 3)
    assert abstention.f1(counts) == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert abstention.answered_rate_in_scope(counts) == pytest.approx(2 / 3)


def test_abstention_undefined_cases_are_none_not_zero() -> None:
    never = abstention.abstention_counts([False, False], [True, True])
    assert abstention.precision(never) is None
    assert abstention.recall(never) is None
    assert abstention.f1(never) is None
    with pytest.raises(ValueError):
        abstention.abstention_counts([True], [True, False])


# ------------------------------------------------------------------------------ faithfulness, demos, latency

def test_faithfulness_scores_each_sentence_against_its_cited_entry() -> None:
    sources = {"adaptive-optimizers": ADAGRAD, "kl-asymmetry": KL}
    verdicts = faithfulness.sentence_verdicts([
        ("Adagrad and RMSProp are still first order methods.", "adaptive-optimizers"),
        ("If we minimise KL(p||q), q fits a mode of p.", "kl-asymmetry"),  # swapped
        ("Adagrad and RMSProp are still first order methods.", "kl-asymmetry"),  # cites the wrong entry
        ("Adagrad and RMSProp are still first order methods.", "no-such-entry"),
    ], sources)
    assert verdicts == [True, False, False, False]
    assert faithfulness.supported_share(verdicts) == pytest.approx(1 / 4)
    assert faithfulness.supported_share([]) is None


def test_demo_pass_fraction() -> None:
    assert demos.demo_pass_fraction([True, True, False, True]) == pytest.approx(0.75)
    assert demos.demo_pass_fraction([]) is None


@pytest.mark.parametrize("q", [0, 10, 50, 90, 95, 100])
def test_percentile_matches_numpy_linear(q: float) -> None:
    values = [12.0, 3.5, 7.0, 100.0, 41.0, 8.25, 9.0]
    assert latency.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_by_hand_and_stage_summary() -> None:
    assert latency.percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert latency.percentile([], 50) is None
    summary = latency.stage_summary([{"total": 10.0, "retrieve": 2.0}, {"total": 20.0}, {"total": 30.0}])
    assert summary["total"]["median"] == 20.0
    assert summary["total"]["p95"] == pytest.approx(29.0)  # 20 + 0.9 * 10
    assert summary["retrieve"] == {"median": 2.0, "p95": 2.0, "n": 1}


def test_the_latency_ratio_is_also_given_per_set() -> None:
    # Two rounds over three questions, in the order the run times them: a, b, c, a, b, c.
    answers = [10.0, 40.0, 44.0, 12.0, 36.0, 48.0]
    bare = [8.0, 20.0, 20.0, 8.0, 20.0, 24.0]
    splits = ["short", "posts", "posts"] * 2
    by_split = latency.ratio_by_split(answers, bare, splits)
    assert by_split["short"] == {"answer_median": 11.0, "bare_median": 8.0, "ratio": 11.0 / 8.0, "n": 2}
    # Each set's medians are its own: the posts' ratio is not what the pooled medians say (28 / 20).
    assert by_split["posts"]["ratio"] == pytest.approx(42.0 / 20.0)
    with pytest.raises(ValueError):
        latency.ratio_by_split(answers, bare[:-1], splits)


# ------------------------------------------------------------------------------ meta-evaluation

def test_balanced_accuracy_by_hand() -> None:
    # actual:    T T T T F     predicted: T T T F T  -> tpr 3/4, tnr 0/1 -> 0.375
    assert meta.balanced_accuracy([True, True, True, False, True], [True, True, True, True, False]) == 0.375
    assert meta.balanced_accuracy([True], [True]) is None
    table = meta.accuracy_by_kind([True, False, False], [True, True, False], ["a", "a", "b"])
    assert table == {"a": {"n": 2, "correct": 1, "accuracy": 0.5}, "b": {"n": 1, "correct": 1, "accuracy": 1.0}}


def test_naive_overlap_misses_a_swap_that_the_support_scorer_catches() -> None:
    swapped = "If we minimise KL(p||q), we will end up with a q that tries to fit to a mode of p."
    assert meta.naive_overlap(swapped, KL) == 1.0  # every word is somewhere in the source
    assert meta.naive_supported(swapped, KL)
    assert not score_support(swapped, KL).supported


# ------------------------------------------------------------------------------ calibration

def test_best_threshold_maximises_abstention_f1_by_hand() -> None:
    scores = [0.9, 0.8, 0.7, 0.3, 0.2, 0.75]
    in_scope = [True, True, True, False, False, False]
    # Declining below 0.5 gets tp=2, fn=1 (the 0.75 out-of-scope), fp=0: F1 = 4/5. Declining below
    # 0.775 gets tp=3, fp=1 (0.7): F1 = 6/7, the best; it is the midpoint of 0.75 and 0.8.
    assert abstention.best_threshold(scores, in_scope) == pytest.approx(0.775)
    with pytest.raises(ValueError):
        abstention.best_threshold([], [])


def test_best_threshold_ties_take_the_middle_candidate_on_any_scale() -> None:
    # BM25-like scale. Sorted: 2 (out), 4 (out), 6 (in), 8 (in), 10 (in). Candidates:
    # 2-1e-6, 3, 5, 7, 9, 10+1e-6. Declining below 5 is perfect (F1 = 1); nothing else ties.
    assert abstention.best_threshold([10.0, 2.0, 8.0, 4.0, 6.0], [True, False, True, False, True]) == 5.0
    # Repeated scores count once as candidates. Scores 1 (out), 3 (out), 3 (in), 5 (out), 7 (in);
    # candidates 1-1e-6, 2, 4, 6, 7+1e-6 give F1 = 2tp / (2tp + fp + fn) of 0, 2/4 (tp1 fn2),
    # 4/6 (tp2 fp1 fn1), 6/7 (tp3 fp1) and 6/8 (tp3 fp2): 6 is best.
    assert abstention.best_threshold([1.0, 3.0, 3.0, 5.0, 7.0], [False, False, True, False, True]) == 6.0
    # A tie. Scores 1 (out), 2 (in), 3 (in), 4 (out), 5 (in); candidates 1-1e-6, 1.5, 2.5, 3.5, 4.5,
    # 5+1e-6 give 0, 2/3 (tp1 fn1), 2/4 (tp1 fp1 fn1), 2/5 (tp1 fp2 fn1), 4/6 (tp2 fp2), 4/7 (tp2 fp3).
    # 1.5 and 4.5 tie at 2/3; the middle of the tied list [1.5, 4.5] (index len // 2) is 4.5.
    assert abstention.best_threshold([1.0, 2.0, 3.0, 4.0, 5.0], [False, True, True, False, True]) == 4.5


def test_fit_logistic_recovers_known_weights() -> None:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(4000, 2))
    true = np.array([2.0, -1.0, 0.5])  # w1, w2, bias
    p = 1 / (1 + np.exp(-(features @ true[:2] + true[2])))
    labels = (rng.random(4000) < p).astype(float)
    weights = fit_logistic(features, labels)
    assert weights == pytest.approx(true, abs=0.15)


def test_fit_logistic_on_a_tiny_symmetric_set_by_hand() -> None:
    # x = -1 and x = +1 are each labelled 1 once and 0 once, so p = 1/2 everywhere (w = 0, b = 0)
    # is the maximum likelihood, and Newton must stay there.
    weights = fit_logistic(np.array([[-1.0], [-1.0], [1.0], [1.0]]), np.array([1.0, 0.0, 1.0, 0.0]))
    assert weights == pytest.approx([0.0, 0.0], abs=1e-9)
    # Three of four positives at x = +1 and one of four at x = -1: the MLE without penalty is
    # p(+1) = 3/4, p(-1) = 1/4, i.e. w = ln 3, b = 0; the tiny L2 pulls w in only slightly.
    x = np.array([[1.0]] * 4 + [[-1.0]] * 4)
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=float)
    w, b = fit_logistic(x, y, l2=0.0)
    assert w == pytest.approx(np.log(3), abs=1e-6) and b == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------------------------ datasets

def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_questions_reads_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "mine.jsonl", [
        json.dumps({"id": "q1", "question": "why kl asym", "expected": ["kl-asymmetry"]}), "",
        json.dumps({"id": "q2", "question": "best pizza?", "expected": []}),
    ])
    questions = load_questions(path, known_entries={"kl-asymmetry"})
    assert questions == [Question("q1", "why kl asym", ("kl-asymmetry",), "mine"),
                         Question("q2", "best pizza?", (), "mine")]
    assert [q.in_scope for q in questions] == [True, False]


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", ":2: not valid JSON"),
    (json.dumps({"id": "q2", "question": "x"}), ":2: missing field(s) ['expected']"),
    (json.dumps({"id": "q2", "question": "x", "expected": "kl-asymmetry"}), ":2: 'expected' must be a list"),
    (json.dumps({"id": "q2", "question": "", "expected": []}), ":2: 'question' must be a non-empty string"),
    (json.dumps({"id": "q1", "question": "x", "expected": []}), ":2: duplicate id 'q1' (first on line 1)"),
    (json.dumps({"id": "q2", "question": "x", "expected": ["nope"]}), ":2: unknown entry id(s) ['nope']"),
])
def test_load_questions_errors_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path / "bad.jsonl", [json.dumps({"id": "q1", "question": "ok", "expected": []}), line])
    with pytest.raises(DatasetError) as error:
        load_questions(path, known_entries={"kl-asymmetry"})
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_missing_file_duplicate_across_files_and_support_rows(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_questions(tmp_path / "absent.jsonl")
    a = _write(tmp_path / "a.jsonl", [json.dumps({"id": "q1", "question": "x", "expected": []})])
    b = _write(tmp_path / "b.jsonl", [json.dumps({"id": "q1", "question": "y", "expected": []})])
    with pytest.raises(DatasetError, match="also in"):
        load_question_sets([a, b])
    rows = _write(tmp_path / "s.jsonl", [json.dumps({"id": "s1", "entry_id": "log-base", "sentence": "x",
                                                     "label": "maybe", "kind": "swap"})])
    with pytest.raises(DatasetError, match=":1: label must be one of"):
        load_support_rows(rows)


def test_label_certainty_reads_the_audit_and_rejects_a_decision_without_it(tmp_path: Path) -> None:
    from eval.datasets import label_certainty

    good = tmp_path / "audit.jsonl"
    good.write_text('{"id": "a", "sure": true}\n{"id": "b", "sure": false}\n', encoding="utf-8")
    assert label_certainty(good) == {"a": True, "b": False}
    assert label_certainty(tmp_path / "absent.jsonl") == {}  # a checkout without the audit: no split
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "sure": "yes"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.jsonl:1: 'sure' must be true or false"):
        label_certainty(bad)


def test_committed_support_dev_set_loads() -> None:
    rows = load_support_rows("support_dev")
    assert len(rows) >= 100
    assert {r.label for r in rows} == {"supported", "unsupported"}
    assert {"swap", "negation", "number", "other_entry", "invented", "verbatim", "paraphrase"} <= {r.kind for r in rows}


# ------------------------------------------------------------------------------ gate

FLOORS = {"hit@1": 0.9, "abstention_f1": 0.8, "faithfulness": 0.95, "support_meta_balanced_accuracy": 0.75}


def test_gate_failures_names_each_metric_below_its_floor() -> None:
    good = {"hit@1": 0.95, "abstention_f1": 0.8, "faithfulness": 1.0, "support_meta_balanced_accuracy": 0.75}
    assert gate_failures(good, FLOORS) == []
    failed = gate_failures({**good, "hit@1": 0.85, "abstention_f1": None, "support_meta_balanced_accuracy": 0.7},
                           FLOORS)
    assert failed == ["hit@1: 0.850 < floor 0.900",
                      "abstention_f1: not measured (no questions for it, or its baseline did not run), floor 0.800",
                      "support_meta_balanced_accuracy: 0.700 < floor 0.750"]


def test_gated_values_take_support_meta_from_the_support_block() -> None:
    ours = {"hit@1": 0.9, "abstention_f1": 0.8, "faithfulness": 1.0, "mrr": 0.5}
    results = {"systems": {"tabot": {"metrics": ours}},
               "support": {"support_dev": {"scorer": {"balanced_accuracy": 0.99}},
                           "support_meta": {"scorer": {"balanced_accuracy": 0.8}}}}
    assert gated_values(results, FLOORS) == {"hit@1": 0.9, "abstention_f1": 0.8, "faithfulness": 1.0,
                                             "support_meta_balanced_accuracy": 0.8}
    del results["support"]["support_meta"]  # not run: the gate reports it as not measured
    assert gated_values(results, FLOORS)["support_meta_balanced_accuracy"] is None
    assert set(gated_values(results, FLOORS)) == set(FLOORS)


def test_gated_values_per_question_set_and_over_a_baseline() -> None:
    split = {"real_posts:test": {"answered_right": 0.8, "ranking_hit@1": 0.9, "declined_out_of_scope": 0.95}}
    results = {"systems": {"tabot": {"metrics": {"by_split": split}},
                           "dense": {"metrics": {"by_split": {"real_posts:test": {"ranking_hit@1": 0.85}}}}}}
    floors = {"real_posts:test/answered_right": 0.75, "real_posts:test/ranking_hit@1-over-dense": 0.01,
              "in_scope/answered_right": 0.9}
    values = gated_values(results, floors)
    assert values["real_posts:test/answered_right"] == 0.8
    assert abs(values["real_posts:test/ranking_hit@1-over-dense"] - 0.05) < 1e-12
    assert values["in_scope/answered_right"] is None  # that set was not run: fails as not measured
    assert gate_failures(values, floors) == [
        "in_scope/answered_right: not measured (no questions for it, or its baseline did not run), floor 0.900"]
    del results["systems"]["dense"]  # run with --no-baselines: the margin cannot be measured, so it fails
    assert gated_values(results, floors)["real_posts:test/ranking_hit@1-over-dense"] is None


def test_load_thresholds_validates(tmp_path: Path) -> None:
    good = _write(tmp_path / "t.json", [json.dumps({**FLOORS, "faithfulness": 1})])
    assert load_thresholds(good) == {**FLOORS, "faithfulness": 1.0}
    bad = _write(tmp_path / "u.json", [json.dumps({**FLOORS, "hit@1": "high"})])
    with pytest.raises(DatasetError, match="'hit@1' must be a number"):
        load_thresholds(bad)
    unknown = _write(tmp_path / "v.json", [json.dumps({**FLOORS, "hit@10": 0.9})])
    with pytest.raises(DatasetError, match="unknown metric 'hit@10'"):
        load_thresholds(unknown)
    misplaced = _write(tmp_path / "w.json", [json.dumps({"answered_right": 0.9})])
    with pytest.raises(DatasetError, match="per question set"):
        load_thresholds(misplaced)
    with pytest.raises(DatasetError, match="thresholds file not found"):
        load_thresholds(tmp_path / "none.json")


def test_committed_thresholds_file_is_valid() -> None:
    floors = load_thresholds()
    assert set(FLOORS) <= set(floors)
    assert {"real_posts:test/answered_right", "real_posts:test/declined_out_of_scope"} <= set(floors)
    assert all(0 <= v <= 1 for v in floors.values())


def test_every_metric_owns_one_name_and_the_report_reads_them() -> None:
    from eval.report import HEADLINE
    metrics = registry()
    assert all(m.name in metrics for m in HEADLINE)
    assert len({m.label for m in metrics.values()}) == len(metrics)


# ------------------------------------------------------------------------------ per-system metrics, export, report

def _reply(ranking: list[str], abstained: bool = False, sentences: list | None = None,
           demos_: list[bool] | None = None, total: float = 10.0, unsure: bool = False) -> Reply:
    return Reply(ranking=[] if abstained else ranking, candidates=ranking, answered=[] if abstained else ranking[:1],
                 abstained=abstained, confidence=0.5, response="text", sentences=sentences or [],
                 demos=demos_ or [], timings_ms={"total": total}, unsure=unsure)


def test_system_metrics_by_hand() -> None:
    questions = [Question("1", "a?", ("adaptive-optimizers",), "in_scope"),
                 Question("2", "b?", ("kl-asymmetry",), "in_scope"),
                 Question("3", "c?", ("kl-asymmetry", "adaptive-optimizers"), "in_scope"),
                 Question("4", "d?", (), "off_topic")]
    replies = [
        _reply(["adaptive-optimizers"], sentences=[("Adagrad and RMSProp are still first order methods.",
                                                    "adaptive-optimizers")], demos_=[True, False]),
        _reply(["adaptive-optimizers", "kl-asymmetry"]),  # right entry at rank 2
        _reply(["kl-asymmetry"], abstained=True),  # declined in scope: a miss everywhere
        _reply(["log-base"], sentences=[("Adagrad is second order.", "adaptive-optimizers")]),  # answered off-topic
    ]
    m = system_metrics(questions, replies, {"adaptive-optimizers": ADAGRAD, "kl-asymmetry": KL})
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@3"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["retrieval_hit@1"] == pytest.approx(2 / 3)  # the declined one ranked kl-asymmetry first
    assert m["all_expected_answered"] == 0.0 and m["n_multi_entry"] == 1
    assert m["abstention"] == {"tp": 0, "fp": 1, "fn": 1, "tn": 2}
    assert m["abstention_f1"] == 0.0 and m["abstention_precision"] == 0.0
    assert m["faithfulness"] == pytest.approx(1 / 2)  # the off-topic answer's sentence is unsupported
    assert m["demo_pass_fraction"] == pytest.approx(1 / 2)
    assert m["by_split"]["off_topic"] == {"n": 1, "n_in_scope": 0, "n_out_of_scope": 1, "declined_rate": 0.0,
                                          "hit@1": None, "answered_right": None, "ranking_hit@1": None,
                                          "declined_out_of_scope": 0.0, "n_declined_in_scope": 0,
                                          "declined_offered@3": None, "n_answered_wrong": 1,
                                          "n_flagged_unsure": 0, "wrong_flagged_unsure": 0.0}
    # The one in-scope decline offered kl-asymmetry first, and it expected kl-asymmetry.
    declined = m["by_split"]["in_scope"]
    assert declined["n_declined_in_scope"] == 1 and declined["declined_offered@3"] == 1.0
    in_scope = [row for name, row in m["by_split"].items() if name != "off_topic"]
    assert sum(row["n_in_scope"] for row in in_scope) == 3
    assert sum(row["answered_right"] * row["n_in_scope"] for row in in_scope) == pytest.approx(1)  # = hit@1 * 3


def test_a_decline_offers_the_entry_only_when_it_is_in_the_top_three() -> None:
    questions = [Question(str(i), "q?", ("kl-asymmetry",), "real_posts:test") for i in range(3)]
    replies = [_reply(["log-base", "softmax-derivative", "kl-asymmetry"], abstained=True),  # third: offered
               _reply(["log-base", "softmax-derivative", "nll-vs-cross-entropy", "kl-asymmetry"], abstained=True),
               _reply(["log-base"])]  # answered (wrongly): not a decline, not counted
    row = system_metrics(questions, replies, {})["by_split"]["real_posts:test"]
    assert row["n_declined_in_scope"] == 2 and row["declined_offered@3"] == 0.5


def test_wrong_answers_count_whether_they_said_they_were_unsure() -> None:
    questions = [Question("1", "q?", ("kl-asymmetry",), "real_posts:test"),
                 Question("2", "q?", ("kl-asymmetry",), "real_posts:test"),
                 Question("3", "q?", (), "real_posts:test"),
                 Question("4", "q?", (), "real_posts:test"),
                 Question("5", "q?", ("kl-asymmetry",), "real_posts:test")]
    replies = [_reply(["kl-asymmetry"], unsure=True),  # right, though unsure: not a wrong answer
               _reply(["log-base", "kl-asymmetry"], unsure=True),  # the wrong entry first, flagged
               _reply(["log-base"]),  # out of scope answered, not flagged
               _reply(["log-base"], abstained=True, unsure=True),  # declined: not an answer at all
               _reply(["kl-asymmetry"], abstained=True)]
    row = system_metrics(questions, replies, {})["by_split"]["real_posts:test"]
    assert row["n_answered_wrong"] == 2 and row["wrong_flagged_unsure"] == 0.5
    assert row["n_flagged_unsure"] == 2  # the right one and the wrong entry; a declined reply is no answer
    from eval.report import flagged_cells
    assert flagged_cells(row) == ["1 of 2", "1 of 2"]


def test_a_replys_own_support_verdicts_are_used_not_rescored() -> None:
    questions = [Question("1", "a?", ("adaptive-optimizers",), "in_scope")]
    verbatim = ("Adagrad and RMSProp are still first order methods.", "adaptive-optimizers")
    wrong = ("Adagrad is second order.", "adaptive-optimizers")
    sources = {"adaptive-optimizers": ADAGRAD}
    judged = _reply(["adaptive-optimizers"], sentences=[verbatim, wrong])
    assert system_metrics(questions, [judged], sources)["faithfulness"] == pytest.approx(1 / 2)  # scored here
    # The reply's own verdicts are taken as given, even where the scorer would disagree.
    judged.verdicts = [False, False]
    m = system_metrics(questions, [judged], sources)
    assert m["faithfulness"] == 0.0 and m["n_sentences"] == 2
    judged.verdicts = [True, True]
    assert system_metrics(questions, [judged], sources)["faithfulness"] == 1.0
    problems = failures(questions, [_reply(["adaptive-optimizers"], sentences=[verbatim])], sources)
    assert problems == []
    flagged = _reply(["adaptive-optimizers"], sentences=[verbatim])
    flagged.verdicts = [False]
    [row] = failures(questions, [flagged], sources)
    assert row["problems"] == [f"unsupported sentence (no reason given): {verbatim[0]}"]
    flagged.verdicts = [True, False]  # one verdict per sentence, or the reply is malformed
    with pytest.raises(ValueError, match="2 verdicts for 1 sentences"):
        system_metrics(questions, [flagged], sources)


def test_ragas_records_use_ragas_field_names() -> None:
    questions = [Question("1", "why kl?", ("kl-asymmetry",)), Question("2", "pizza?", ())]
    records = ragas_records(questions, [_reply(["kl-asymmetry"]), _reply([], abstained=True)],
                            {"kl-asymmetry": KL})
    assert set(records[0]) == {"user_input", "response", "retrieved_contexts", "reference_contexts", "reference"}
    assert records[0]["retrieved_contexts"] == [KL] and records[0]["reference"] == KL
    assert records[1]["retrieved_contexts"] == [] and records[1]["reference"] == DECLINE_REFERENCE


def test_markdown_report_has_headline_row_per_system() -> None:
    def system(label: str, hit: float) -> dict:
        metrics = {"hit@1": hit, "hit@3": 1.0, "mrr": 0.9, "abstention_precision": 1.0, "abstention_recall": 0.5,
                   "abstention_f1": 2 / 3, "faithfulness": None, "demo_pass_fraction": None,
                   "retrieval_hit@1": hit, "all_expected_answered": None, "answered_rate_in_scope": 1.0,
                   "n_sentences": 0, "n_demos": 0, "by_split": {}, "latency": {"total": {"median": 5.0, "p95": 9.0,
                                                                                          "n": 2}}}
        return {"label": label, "metrics": metrics, "confidences": [], "latency_total_ms": [5.0, 9.0]}
    results = {"meta": {"n_questions": 2, "splits": {"x": 2}, "created": "now", "command": "tabot eval",
                        "thresholds": {"tabot": 0.5}},
               "systems": {"tabot": system("tabot (ours)", 0.75), "bm25": system("BM25 alone", 0.5)},
               "questions": [], "failures": {"tabot": [], "bm25": []}, "support": {}}
    rows = headline_rows(results)
    assert rows[0] == ["tabot (ours)", "0.750", "1.000", "0.900", "1.000", "0.500", "0.667", "n/a", "n/a",
                       "5.0 ms", "9.0 ms"]
    text = render_markdown(results)
    assert "| tabot (ours) | 0.750 |" in text and "| BM25 alone | 0.500 |" in text


def test_the_development_sets_have_their_own_section_apart_from_the_test_sets() -> None:
    from eval.__main__ import build_parser
    from eval.datasets import CALIBRATION_SETS, DEVELOPMENT_SETS, TEST_SETS, dataset_path

    assert all(dataset_path(name).is_file() for name in DEVELOPMENT_SETS)
    assert not set(DEVELOPMENT_SETS) & {*TEST_SETS, *CALIBRATION_SETS, "dev"}  # dev.jsonl had aliases written on it
    assert build_parser().parse_args(["--development"]).development
    row = {"n": 90, "n_in_scope": 60, "n_out_of_scope": 30, "answered_right": 0.95, "ranking_hit@1": 1.0,
           "declined_out_of_scope": 0.9, "declined_rate": 0.35, "hit@1": 0.95}
    metrics = {"hit@1": 0.9, "hit@3": 1.0, "mrr": 0.9, "abstention_precision": 1.0, "abstention_recall": 0.5,
               "abstention_f1": 2 / 3, "faithfulness": None, "demo_pass_fraction": None, "retrieval_hit@1": 1.0,
               "all_expected_answered": None, "answered_rate_in_scope": 1.0, "n_sentences": 0, "n_demos": 0,
               "by_split": {"math_dev": row, "real_posts:test": row},
               "latency": {"total": {"median": 5.0, "p95": 9.0, "n": 2}}}
    results = {"meta": {"n_questions": 180, "splits": {"math_dev": 90, "real_posts:test": 90}, "created": "now",
                        "command": "tabot eval", "thresholds": {"tabot": 0.5}},
               "systems": {"tabot": {"label": "tabot (ours)", "metrics": metrics, "confidences": [],
                                     "latency_total_ms": [5.0]}},
               "questions": [], "failures": {"tabot": []}, "support": {}}
    text = render_markdown(results)
    real, development = text.split("## Real phrasing")[1].split("\n## ")[:2]
    assert development.startswith("Development sets")
    assert "| real_posts:test |" in real and "math_dev" not in real
    assert "| math_dev | 60 | 30 | 0.950 [0.86, 0.98] |" in development and "real_posts" not in development


def test_rates_split_by_the_label_audits_certainty_by_hand() -> None:
    from eval.metrics.certainty import by_certainty
    from eval.report import certainty_rows

    def record(row_id: str, expected: list[str], abstained: bool, hit: float | None) -> dict:
        return {"id": row_id, "split": "real_posts:test", "expected": expected,
                "systems": {"tabot": {"abstained": abstained, "hit@1": hit}}}
    records = [record("a", ["kl-asymmetry"], False, 1.0),  # sure, right
               record("b", ["kl-asymmetry"], True, 0.0),  # sure, declined in scope
               record("c", ["log-base"], False, 0.0),  # unsure, the wrong entry first
               record("d", [], True, None),  # sure, declined out of scope
               record("e", [], False, None),  # unsure, answered out of scope
               record("f", [], False, None)]  # never audited: not counted
    split = by_certainty(records, {"a": True, "b": True, "c": False, "d": True, "e": False})
    assert split["tabot"]["sure"] == {"n_in_scope": 2, "answered_right": 0.5, "n_out_of_scope": 1,
                                      "declined_out_of_scope": 1.0}
    assert split["tabot"]["unsure"] == {"n_in_scope": 1, "answered_right": 0.0, "n_out_of_scope": 1,
                                        "declined_out_of_scope": 0.0}
    rows = certainty_rows({"systems": {"tabot": {"label": "tabot (ours)"}}, "by_label_certainty": split})
    assert rows[0][:4] == ["tabot (ours)", "sure", "2", "0.500 [0.09, 0.91]"] and rows[1][1] == "unsure"
    assert certainty_rows({"systems": {}}) == []  # no audit in the run: no table


def test_cross_validation_scores_held_out_rows_by_the_refit_rule() -> None:
    rng = np.random.default_rng(3)
    labels = np.array([1.0] * 60 + [0.0] * 60)
    informative = labels + rng.normal(scale=0.3, size=120)  # separates in from out of scope
    noise = rng.normal(size=120)
    features = np.column_stack([informative, noise])
    right = np.ones(120, dtype=bool)
    groups = [f"thread-{i // 4}" for i in range(120)]
    good = cross_validate(features, labels, right, groups, (0,))
    useless = cross_validate(features, labels, right, groups, (1,))
    assert good["answered_right"] > 0.9 and good["declined_out_of_scope"] > 0.9
    assert useless["answered_right"] + useless["declined_out_of_scope"] < 1.5
    # A wrong top entry is never "answered and right", however confident.
    assert cross_validate(features, labels, np.zeros(120, dtype=bool), groups, (0,))["answered_right"] == 0.0
    # Only the scored rows count (all rows are still fitted on): scoring just the out-of-scope rows
    # gives their declined rate as before, and no in-scope rate at all.
    half = np.arange(120) < 60
    only_out = cross_validate(features, labels, right, groups, (0,), scored=~half)
    assert only_out["declined_out_of_scope"] == pytest.approx(good["declined_out_of_scope"])
    assert np.isnan(only_out["answered_right"])


def test_the_bot_answers_from_its_most_confident_candidate_and_is_scored_so() -> None:
    rng = np.random.default_rng(7)
    labels = np.array([1.0] * 60 + [0.0] * 60)
    top = (labels + rng.normal(scale=0.3, size=120))[:, None]
    # For the first 20 in-scope rows the top-ranked entry is wrong, and a second candidate, which is
    # right, looks more in scope; for the others the second candidate is a weaker copy of the top.
    second = top - 1.0
    second[:20] = top[:20] + 1.0
    wrong_top = np.arange(120) < 20
    candidates = Candidates(np.stack([top, second], axis=1), np.column_stack([~wrong_top, wrong_top]))
    right = candidates.right[:, 0]
    weights = np.array([4.0, -2.0])
    score, picked_right = decide(logistic_scorer(weights), (0,), top, right, candidates)
    assert picked_right[:60].all()  # the right candidate is the confident one on every in-scope row
    assert score[:20] == pytest.approx(1 / (1 + np.exp(-(4.0 * second[:20, 0] - 2.0))))
    _, plain_right = decide(logistic_scorer(weights), (0,), top, right)
    assert not plain_right[:20].any() and plain_right[20:60].all()
    groups = [f"thread-{i // 4}" for i in range(120)]
    by_rank = cross_validate(top, labels, right, groups, (0,))
    by_confidence = cross_validate(top, labels, right, groups, (0,), candidates=candidates)
    assert by_rank["answered_right"] < 0.7 < 0.9 < by_confidence["answered_right"]
    expected = [("a",) if i % 2 else ("b",) for i in range(60)] + [()] * 60
    picked = new_entry_recall(top, labels, right, expected, (0,), candidates)
    ranked = new_entry_recall(top, labels, right, expected, (0,))
    assert all(picked[e][0] >= ranked[e][0] + 8 for e in "ab")


def test_operating_curve_moves_the_refit_rules_threshold_and_finds_reachable_targets() -> None:
    rng = np.random.default_rng(5)
    labels = np.array([1.0] * 80 + [0.0] * 80)
    overlap = labels + rng.normal(scale=0.6, size=160)  # separates, but not cleanly
    noise = rng.normal(size=160)
    features = np.column_stack([overlap, noise])
    right = np.ones(160, dtype=bool)
    groups = [f"thread-{i // 4}" for i in range(160)]
    curve = operating_curve(features, labels, right, groups, (0,))
    offsets = [offset for offset, _ in curve]
    assert offsets == sorted(offsets) and 0.0 in offsets
    # Offset 0 is the refit rule itself.
    assert dict(curve)[0.0] == cross_validate(features, labels, right, groups, (0,))
    # A higher threshold answers a subset of what a lower one answers: fewer answered, more declined.
    answered = [rates["answered_right"] for _, rates in curve]
    declined = [rates["declined_out_of_scope"] for _, rates in curve]
    assert answered == sorted(answered, reverse=True) and declined == sorted(declined)
    assert answered[0] > answered[-1] and declined[-1] > declined[0]
    # Targets the curve passes are met somewhere; a pair above it is met by no threshold, and a
    # feature that separates nothing meets a modest pair nowhere.
    assert meeting(curve, 0.7, 0.7)
    assert meeting(curve, 0.99, 0.99) == []
    assert meeting(operating_curve(features, labels, right, groups, (1,)), 0.75, 0.75) == []


def test_reliability_pools_held_out_confidences_into_bands() -> None:
    rng = np.random.default_rng(5)
    labels = np.array([1.0] * 80 + [0.0] * 80)
    features = np.column_stack([labels + rng.normal(scale=0.6, size=160)])
    right = np.ones(160, dtype=bool)
    right[:10] = False  # ten in-scope rows whose entry is wrong: never counted right, however confident
    groups = [f"thread-{i // 4}" for i in range(160)]
    bands = reliability(features, labels, right, groups, (0,))
    assert [(low, high) for low, high, _, _ in bands] == list(itertools.pairwise(RELIABILITY_BANDS))
    assert sum(n for *_, n, _ in bands) == 160 * 10  # every row once per seed (10 seeds)
    assert sum(good for *_, good in bands) <= 70 * 10
    # A feature that separates: the right share climbs from the lowest band to the highest.
    share = [good / n for *_, n, good in bands if n]
    assert share[0] < 0.2 and share[-1] > 0.8
    # A feature that separates nothing: no band promises much.
    flat = reliability(rng.normal(size=(160, 1)), labels, right, groups, (0,))
    assert all(good / n < 0.75 for *_, n, good in flat if n >= 50)


def test_by_shape_gives_each_tag_its_rows_most_rows_first() -> None:
    questions = [Question(f"q{i}", "?", ("e",) if i < 3 else (), "real_posts:calibration") for i in range(6)]
    tags = {"q0": ("long", "code"), "q1": ("long",), "q4": ("long",), "q2": ("code",), "q5": ("quote",)}
    masks = by_shape(questions, tags)
    assert list(masks) == ["long", "code", "quote"]  # most rows first, then by name
    assert masks["long"].tolist() == [True, True, False, False, True, False]
    assert masks["code"].tolist() == [True, False, True, False, False, False]
    # Each mask is what cross-validation counts for its tag: a tag's held-out rates are those of its rows.
    rng = np.random.default_rng(5)
    labels = np.array([1.0] * 3 + [0.0] * 3)
    features = np.column_stack([labels + rng.normal(scale=0.1, size=6)])
    rates = cross_validate(features, labels, np.ones(6, dtype=bool), [f"t{i}" for i in range(6)], (0,),
                           masks["code"], folds=3)
    assert np.isnan(rates["declined_out_of_scope"])  # "code" has no out-of-scope row


def test_shape_tags_are_read_per_row_and_a_malformed_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text('{"id": "p1", "question": "?", "expected": [], "shape": ["long", "code"]}\n'
                    '{"id": "p2", "question": "?", "expected": []}\n')
    assert shape_tags(path) == {"p1": ("long", "code"), "p2": ()}
    path.write_text('{"id": "p1", "question": "?", "expected": [], "shape": "long, code"}\n')
    with pytest.raises(DatasetError, match="shape"):
        shape_tags(path)


def test_cross_validation_can_judge_the_held_out_rows_read_another_way() -> None:
    """`evaluated`: the model and threshold fitted on the rows as asked, the held-out rows judged on
    another reading of them (eval.context_check: with a paragraph of context before each)."""
    rng = np.random.default_rng(4)
    labels = np.array([1.0] * 60 + [0.0] * 60)
    features = (labels + rng.normal(scale=0.4, size=120))[:, None]
    right = np.ones(120, dtype=bool)
    groups = [f"thread-{i // 4}" for i in range(120)]
    plain = Candidates(np.repeat(features[:, None, :], 2, axis=1), np.ones((120, 2), dtype=bool))
    as_fitted = cross_validate(features, labels, right, groups, (0,), candidates=plain)
    assert cross_validate(features, labels, right, groups, (0,), candidates=plain, evaluated=plain) == as_fitted
    # A reading that lowers the feature (context diluting it) is answered less and declined more.
    diluted = Candidates(plain.features - 0.5, plain.right)
    moved = cross_validate(features, labels, right, groups, (0,), candidates=plain, evaluated=diluted)
    assert moved["answered_right"] < as_fitted["answered_right"] - 0.2
    assert moved["declined_out_of_scope"] > as_fitted["declined_out_of_scope"]


def test_context_check_puts_seeded_context_around_the_question() -> None:
    from eval.context_check import load_contexts, with_context

    contexts = load_contexts()
    assert set(contexts["before"]) == {"personal", "setup"}
    # The development side questions, and twice six held-out ways of adding one (`held_out_after`, `_2`).
    held_out = {name for name in contexts["after"] if name.startswith("held out")}
    assert set(contexts["after"]) - held_out == {"side question"} and len(held_out) == 12
    assert {"held out: no opener", "held out 2: no opener"} <= held_out
    assert all(len(contexts["after"][name]) == 10 for name in held_out)
    assert all(len(s) >= 5 for sets in contexts.values() for s in sets.values())
    sentences = contexts["before"]["personal"]
    first, again = with_context(sentences, seed=1), with_context(sentences, seed=1)
    posts = [first("is KL divergence symmetric?") for _ in range(5)]
    assert posts == [again("is KL divergence symmetric?") for _ in range(5)]  # the same posts every run
    assert len(set(posts)) > 1  # but not the same context before every question
    for post in posts:
        context, question = post.split("\n\n")
        assert question == "is KL divergence symmetric?"
        assert 1 <= sum(sentence in context for sentence in sentences) <= 3
    side = contexts["after"]["side question"]
    question, after = with_context(side, after=True)("is KL divergence symmetric?").split("\n\n")
    assert question == "is KL divergence symmetric?" and after in side


def test_noise_goes_where_its_shape_says_and_the_reader_sets_it_aside(tmp_path) -> None:
    from bot.search.reading.focus import read_post
    from eval.context_check import load_noise, with_noise

    shapes = load_noise()
    assert len(shapes) >= 10 and all(len(blocks) >= 3 for _, blocks in shapes.values())
    post = "Backprop order\n\nWhy must the backward pass visit nodes in reverse topological order?"
    header = with_noise(["asked 2 days ago · viewed 40 times"], "top")(post)
    assert header.startswith("Backprop order\n\nasked 2 days ago")  # under the title, as a page puts it
    assert with_noise(["-- \nJane"], "bottom")(post) == post + "\n\n-- \nJane"
    assert with_noise(["Hi all,\n{question}\nThanks"], "around")(post).startswith("Hi all,\nBackprop order")
    # Every block of the repository's file, put around a plain question, leaves its question the focus,
    # or, in a copied chat, the focus of one of its messages (the retriever answers the best of them).
    for name, (place, blocks) in shapes.items():
        for block in blocks:
            noisy = read_post(with_noise([block], place)(post))
            focuses = [read_post(message).focus for message in noisy.messages] or [noisy.focus]
            assert any(focus.endswith("reverse topological order?") for focus in focuses), (name, block[:40])
    (tmp_path / "bad.json").write_text(json.dumps({"x": {"place": "around", "blocks": ["no slot"]}}))
    with pytest.raises(ValueError, match="question"):
        load_noise(tmp_path / "bad.json")


def test_typos_make_one_typing_error_in_a_long_word_and_real_misspellings_come_from_the_file() -> None:
    import random
    import re

    from bot.search.reading.spelling import osa_distance
    from eval.context_check import load_misspellings, misspell, with_misspellings, with_typos

    rng = random.Random(3)
    for word in ["gradient", "softmax", "divergence", "backpropagation"] * 25:
        typed = misspell(word, rng)
        assert typed[0] == word[0] and osa_distance(word, typed, limit=2) <= 1
    question = "Why is the softmax derivative a matrix and not a vector, in backpropagation?"
    typed = with_typos(1.0, seed=2)(question)
    long_words = re.findall(r"[A-Za-z]{5,}", question)
    changed = [w for w in long_words if w not in typed]
    assert len(changed) >= len(long_words) - 1  # nearly every long word mistyped (a doubled letter may read as one)
    assert with_typos(0.0)(question) == question and with_typos(1.0, seed=2)(question) == typed

    misspellings = load_misspellings()
    assert len(misspellings) >= 30 and sum(map(len, misspellings.values())) >= 100
    assert "sofmax" in misspellings["softmax"]
    every = with_misspellings(misspellings, 1.0)("The Softmax of the gradient, and the gradient again.")
    first, second = re.fullmatch(r"The (\w+) of the (\w+), and the (\w+) again\.", every).groups()[:2]
    assert first in misspellings["softmax"] and second in misspellings["gradient"]
    assert with_misspellings(misspellings, 0.0)(question) == question


def test_abbreviated_rows_shorten_the_listed_terms_longest_first() -> None:
    from eval.context_check import ABBREVIATED_FILE, load_misspellings, with_misspellings

    shortened = load_misspellings(ABBREVIATED_FILE, meant="long", typed="short")
    assert len(shortened) == 28 and shortened["cross-entropy"] == ["CE"]
    rewrite = with_misspellings(shortened, 1.0)
    assert rewrite("Is binary cross-entropy with a sigmoid the validation accuracy fix?") == (
        "Is BCE w/ a sigmoid the val acc fix?")  # "binary cross-entropy" before "cross-entropy"
    assert with_misspellings(shortened, 0.0)("the cross-entropy") == "the cross-entropy"


def test_closing_lines_end_the_post_and_name_no_topic() -> None:
    from bot.search.lexical import tokenize
    from eval.context_check import load_closers, with_closer

    details, closers = load_closers()
    assert len(details) == 60 and len(closers) == 60
    # Attached after any question, they must not name what a TA answer is about.
    topics = {"softmax", "sigmoid", "entropi", "kl", "adam", "gradient", "loss", "backprop", "layer", "accuraci",
              "optim", "nll", "log", "imag", "cnn", "pytorch", "tensor", "neural", "network", "model"}
    assert not [line for line in details + closers if set(tokenize([line])[0]) & topics]
    question = "Is NLL the same as cross-entropy?"
    ended = with_closer(["Any ideas?"], ["I've been stuck on this for a while."])(question)
    assert ended == "Is NLL the same as cross-entropy? I've been stuck on this for a while. Any ideas?"
    assert with_closer(["Thoughts?"])(question + "  ") == "Is NLL the same as cross-entropy? Thoughts?"


def test_where_a_question_comes_from_is_named_in_the_last_question_only() -> None:
    from eval.context_check import load_where_phrases, with_where_named

    phrases = load_where_phrases()
    assert {"in PyTorch", "a part of the course", "held out: own work", "held out 2: a tool"} <= set(phrases)
    post = "Is the KL divergence symmetric? My notes say so. Why is it not a distance?"
    named = with_where_named(phrases["in PyTorch"], seed=1)(post)
    assert named.startswith("Is the KL divergence symmetric? My notes say so. Why is it not a distance ")
    assert named.removesuffix("?").endswith(("in PyTorch", "in pytorch"))
    assert with_where_named(["in numpy"])("No question here.") == "No question here."


def test_new_entry_recall_never_fits_on_the_entry_it_scores() -> None:
    rng = np.random.default_rng(5)
    entries = ["a", "b", "c"]
    expected = [(entries[i % 3],) for i in range(90)] + [()] * 60
    labels = np.array([1.0] * 90 + [0.0] * 60)
    right = np.ones(150, dtype=bool)
    # A relative feature: in-scope rows sit higher whatever their entry.
    relative = labels + rng.normal(scale=0.3, size=150)
    # An identity feature per entry: 1 on that entry's rows only. Cross-validation, which sees every
    # entry in training, can lean on them; a fit without the entry cannot know its column.
    identity = np.array([[1.0 if row == (entry,) else 0.0 for entry in entries] for row in expected])
    features = np.column_stack([relative, identity])
    groups = [f"thread-{i}" for i in range(150)]

    generalises = new_entry_recall(features, labels, right, expected, (0,))
    assert set(generalises) == {"a", "b", "c"} and all(n == 30 for _, n in generalises.values())
    assert sum(r for r, _ in generalises.values()) / 90 > 0.9

    # Identity alone: perfect when every entry is fitted on, nothing for an entry left out.
    assert cross_validate(features, labels, right, groups, (1, 2, 3))["answered_right"] > 0.95
    assert all(r == 0 for r, _ in new_entry_recall(features, labels, right, expected, (1, 2, 3)).values())
    # A row expecting two entries is held out (and counted) for each of them.
    both = new_entry_recall(features, labels, right, [("a", "b"), *expected[1:]], (0,))
    assert both["a"][1] == 30 and both["b"][1] == 31


def test_wilson_interval_and_exact_mcnemar_against_scipy() -> None:
    from scipy.stats import binomtest

    from eval.metrics.intervals import sign_test, wilson

    for successes, n in ((0, 10), (5, 10), (104, 121), (121, 121), (78, 92)):
        low, high = wilson(successes, n)
        reference = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert (low, high) == pytest.approx((reference.low, reference.high), abs=1e-6)
    assert wilson(0, 0) == (0.0, 1.0)
    for fixed, broken in ((8, 10), (0, 6), (3, 6), (12, 2), (0, 0)):
        expected = binomtest(fixed, fixed + broken).pvalue if fixed + broken else 1.0
        assert sign_test(fixed, broken) == pytest.approx(expected)
    assert sign_test(0, 6) < 0.05 < sign_test(3, 6)


def test_compare_counts_fixed_and_broken_questions_per_set() -> None:
    from eval.compare import compare

    def report(*rows: tuple[str, str, bool, bool, float]) -> dict:
        return {"questions": [{"id": i, "split": split, "expected": ["log-base"] if in_scope else [],
                               "systems": {"tabot": {"abstained": abstained, "hit@1": hit if in_scope else None}}}
                              for i, split, in_scope, abstained, hit in rows]}

    before = report(("a", "real", True, False, 1.0), ("b", "real", True, True, 0.0), ("c", "real", False, False, 0.0),
                    ("d", "syn", False, True, 0.0), ("gone", "syn", True, False, 1.0))
    after = report(("a", "real", True, False, 0.0),  # now answered from the wrong entry: broken
                   ("b", "real", True, False, 1.0),  # now answered and right: fixed
                   ("c", "real", False, True, 0.0),  # now declined: fixed
                   ("d", "syn", False, True, 0.0), ("new", "syn", True, False, 1.0))  # unchanged; not in both
    rows = compare(before, after)
    assert rows["real"]["fixed"] == ["b", "c"] and rows["real"]["broken"] == ["a"]
    assert (rows["real"]["right_before"], rows["real"]["right_after"]) == (1, 2)
    assert rows["syn"] == {"n": 1, "right_before": 1, "right_after": 1, "fixed": [], "broken": [], "p": 1.0}
    assert rows["all"]["n"] == 4 and rows["all"]["p"] == pytest.approx(1.0)


def test_real_phrasing_rates_carry_their_interval() -> None:
    from eval.report import with_interval

    assert with_interval(104 / 121, 121) == "0.860 [0.79, 0.91]"
    assert with_interval(None, 121) == "n/a" and with_interval(0.5, 0) == "0.500"


def test_the_refit_rule_sets_its_threshold_on_the_rows_it_fits_only():
    # Fitted: in scope at 0.9 and 0.8, out of scope at 0.7 and 0.2, so the threshold lies between 0.7 and
    # 0.8. The rows left out (an out-of-scope post at 0.85, an in-scope one at 0.1) would move it if read.
    confidence = np.array([[0.9], [0.8], [0.7], [0.2], [0.85], [0.1]])
    labels = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    fitted = np.array([True, True, True, True, False, False])

    def identity(features, fitted_labels):
        assert len(fitted_labels) == 4  # fitted on the fitted rows alone
        return lambda x: x[..., 0]
    _, score, picked_right, threshold = refit_rule(confidence, labels, np.ones(6, dtype=bool), (0,), fitted,
                                                   model=identity)
    assert 0.7 < threshold < 0.8
    assert np.allclose(score, confidence[:, 0]) and picked_right.all()  # every row is scored


def test_learning_curve_fits_on_a_share_of_the_threads_and_scores_the_same_held_out_rows() -> None:
    from eval.calibrate.cross_validation import LEARNING_SEEDS, held_out, learning_curve

    rng = np.random.default_rng(11)
    labels = np.array([1.0] * 120 + [0.0] * 120)
    # Four features, three of them noise: a fit on a few rows is misled by the noise more often.
    features = np.column_stack([labels + rng.normal(scale=0.8, size=240), rng.normal(size=(240, 3))])
    right = np.ones(240, dtype=bool)
    groups = [f"thread-{i // 2}" for i in range(240)]
    curve = learning_curve(features, labels, right, groups, (0, 1, 2, 3), shares=(0.1, 1.0))
    assert [share for share, _ in curve] == [0.1, 1.0]
    # All the threads: cross-validation itself (with the curve's seeds).
    assert dict(curve)[1.0] == cross_validate(features, labels, right, groups, (0, 1, 2, 3), seeds=LEARNING_SEEDS)
    few, every = (rates["answered_right"] + rates["declined_out_of_scope"] for _, rates in curve)
    assert few < every
    # A share fits on fewer rows, never on a held-out one, and holds out the same folds.
    import eval.calibrate.cross_validation as module

    fitted_rows = []
    real_refit = module.refit_rule

    def spy(features, labels, right, columns, fitted, *rest):
        fitted_rows.append(fitted.copy())
        return real_refit(features, labels, right, columns, fitted, *rest)

    module.refit_rule = spy
    try:
        share_tests = [test for test, *_ in held_out(features, labels, right, groups, (0,), seeds=2, fit_share=0.5)]
        share_fitted, fitted_rows[:] = list(fitted_rows), []
        all_tests = [test for test, *_ in held_out(features, labels, right, groups, (0,), seeds=2)]
    finally:
        module.refit_rule = real_refit
    assert all((a == b).all() for a, b in zip(share_tests, all_tests, strict=True))
    assert all(not (fitted & test).any() for fitted, test in zip(share_fitted, share_tests, strict=True))
    assert all(0.3 < fitted.sum() / (~test).sum() < 0.7 for fitted, test in zip(share_fitted, share_tests, strict=True))
    assert all((fitted == ~test).all() for fitted, test in zip(fitted_rows, all_tests, strict=True))
