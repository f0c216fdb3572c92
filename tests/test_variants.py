"""eval.variants: the seams it swaps, and the figures it prints, on data small enough to work by hand."""

import csv
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import Entry
from bot.search.reading import abbreviations
from bot.search.reading.abbreviations import Abbreviations, as_searched
from bot.search.reading.focus import Post
from eval.calibrate.cross_validation import cross_validate
from eval.calibrate.fit import Candidates, logistic_model
from eval.calibrate.rows import CalibrationRows
from eval.datasets import Question
from eval.variants.features import (
    RarityWeights,
    crux_near_miss,
    idf_focus_coverage,
    idf_near_miss,
    prose_near_miss,
    soft_maximum,
    weighted_agreements,
    with_density,
)
from eval.variants.models import (
    averaged,
    conformal_rule,
    other_classifiers,
    overall_rule,
    per_entry_rule,
    sklearn_model,
    threshold_rule_rates,
)
from eval.variants.readings import (
    SYNONYMS_FILE,
    chunkings,
    code_words,
    glossary,
    synonym_pairs,
    towards_the_answers,
    with_code_words,
)
from eval.variants.scoring import development_rates, picked, refit, rows_where, with_column, without_column
from eval.variants.staff import knowledge_grown, misses_for_staff, staff_additions, term_of, written_additions


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
    from bot.search.chunks import entry_chunks

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


def test_code_words_are_the_pasted_codes_identifiers_split_into_words():
    post = ("My loss never goes down, here is the code:\n\n```python\nimport torch\n"
            "loss = F.nll_loss(torch.log2(probs), y)\ncriterion = nn.CrossEntropyLoss()\n```\n\n"
            "    for x in range(3): total += x\n\nWhat am I doing wrong with the softmax?")
    assert code_words(post) == ["loss", "nll", "log2", "probs", "criterion", "cross", "entropy", "total"]
    # Keywords, plumbing and the student's own sentences are not code words.
    assert not {"import", "torch", "for", "range", "softmax", "doing", "wrong"} & set(code_words(post))
    assert code_words("Why is the KL divergence asymmetric? I used `kl_div` for it.") == []  # inline code is prose


def test_code_words_are_read_before_the_prose_and_the_focus_stays_in_it():
    from bot.search.reading.focus import read_post

    post = read_post("Same data, two runs:\n\n```\nloss = -np.log2(p[y]).mean()\n```\n\n"
                     "Will we end up with the same weights?")
    read = with_code_words(post)
    assert read.prose == "loss log2 mean. " + post.prose
    assert read.focus == post.focus and read.focus in read.prose
    # Only the answers' terms, when asked: here "log2" is one, "loss" and "mean" are not.
    assert with_code_words(post, frozenset({"log2"})).prose == "log2. " + post.prose
    assert with_code_words(post, frozenset({"softmax"})) == post  # nothing to add: the post as it was


def test_today_s_rule_in_the_threshold_loop_gives_cross_validation_s_rates():
    rng = np.random.default_rng(3)
    labels = (rng.uniform(size=60) < 0.5).astype(float)
    scores = np.clip(labels[:, None] * 0.3 + rng.uniform(size=(60, 2)) * 0.7, 0.0, 1.0)  # overlapping, two candidates
    right = rng.uniform(size=(60, 2)) < 0.8
    rows = rows_of(["real_posts:calibration"] * 40 + ["calibration"] * 20, labels.tolist(), scores.tolist(),
                   right.tolist())
    rates = threshold_rule_rates(rows, overall_rule, (0,), seeds=3)
    for subset, scored in rows.subsets():
        expected = cross_validate(rows.features, rows.labels, rows.right, rows.groups, (0,), scored, seeds=3,
                                  candidates=rows.candidates)
        assert rates[subset] == pytest.approx((expected["answered_right"], expected["declined_out_of_scope"]))


def test_a_threshold_per_entry_moves_towards_each_entry_s_own_as_shrinking_fades():
    # Entry a's rows part at 0.3, entry b's at 0.7; together the F1-best threshold lies between.
    confidence = np.array([0.1, 0.2, 0.4, 0.5, 0.6, 0.65, 0.8, 0.9])
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=float)
    entries = np.array(["a"] * 4 + ["b"] * 4)
    overall = overall_rule(confidence, labels, entries)(np.array(["a"]))[0]
    loose = per_entry_rule(0.0)(confidence, labels, entries)(np.array(["a", "b", "new"]))
    assert 0.2 < loose[0] < 0.4 and 0.65 < loose[1] < 0.8 and loose[2] == overall
    tight = per_entry_rule(1e6)(confidence, labels, entries)(np.array(["a", "b"]))
    assert tight == pytest.approx([overall, overall], abs=1e-4)


def test_a_conformal_bound_declines_the_promised_share_of_the_fitted_out_of_scope_rows():
    confidence = np.concatenate([np.arange(1, 21) / 21, [0.99]])  # 20 out of scope 0.048 .. 0.952, one in scope
    labels = np.array([0.0] * 20 + [1.0])
    entries = np.array(["e"] * 21)
    # (20 + 1) * 0.9 = 18.9: just above the 19th lowest (19/21), so 19 of 20 are declined (not the 18 that
    # 20 * 0.9 would give: the bound counts the new post too).
    threshold = conformal_rule(0.10)(confidence, labels, entries)(np.array(["e"]))[0]
    assert 19 / 21 < threshold < 20 / 21
    assert np.sum(confidence[labels == 0] < threshold) == 19
    # Too few rows for the promise: above all of them.
    assert conformal_rule(0.01)(confidence, labels, entries)(np.array(["e"]))[0] > 20 / 21


def test_staff_add_each_miss_once_and_nothing_for_what_the_bot_got_right():
    rows = rows_of(["a"] * 5, [1, 1, 1, 0, 0], [[0.9, 0.1]] * 5, [[True, False]] * 5)
    said = ("right", "declined", "wrong entry", "answered", "declined")
    rows.posts[:] = [Post(text=text, prose=text, focus=text) for text in said]
    answered = np.array([True, False, True, True, False])
    picked_right = np.array([True, False, False, False, False])
    additions = staff_additions(rows, answered, np.array(["e", "e", "f", "f", "e"]), picked_right)
    # In scope and missed (declined, or answered from another entry): an alias of its entry ("e");
    # out of scope and answered: a near miss of the entry that answered ("f"); the rest nothing.
    assert additions == {"e": (("declined", "wrong entry"), ()), "f": ((), ("answered",))}
    # What the writers read: the same misses, each whole post with what the bot did.
    rows.questions[:] = [Question(f"q{i}", f"post {i}", ("e",) if i < 3 else (), "a") for i in range(5)]
    assert misses_for_staff(rows, answered, np.array(["e", "e", "f", "f", "e"]), picked_right) == [
        {"post": "post 1", "what the bot did": "in scope, declined", "TA's entry": ["e"], "answered from": None},
        {"post": "post 2", "what the bot did": "in scope, answered from another entry", "TA's entry": ["e"],
         "answered from": "f"},
        {"post": "post 3", "what the bot did": "out of scope, answered", "TA's entry": None, "answered from": "f"}]


def test_the_grown_knowledge_base_holds_the_additions_only_inside_the_block():
    from bot import knowledge
    from bot.config import Settings

    folder = Settings().knowledge_dir
    before = {entry.id: entry for entry in knowledge.load_entries(folder)}
    with knowledge_grown({"log-base": (("ln or log2 in my loss",), ("which base does sklearn use",))}):
        grown = {entry.id: entry for entry in knowledge.load_entries(folder)}
    assert grown["log-base"].aliases == (*before["log-base"].aliases, "ln or log2 in my loss")
    assert grown["log-base"].near_misses == (*before["log-base"].near_misses, "which base does sklearn use")
    assert {entry_id: grown[entry_id] for entry_id in grown if entry_id != "log-base"} == {
        entry_id: before[entry_id] for entry_id in before if entry_id != "log-base"}
    assert {entry.id: entry for entry in knowledge.load_entries(folder)} == before


def test_staff_s_written_lines_are_read_per_entry_and_an_unknown_entry_is_refused(tmp_path: Path):
    path = tmp_path / "term1.json"
    path.write_text('{"log-base": {"aliases": ["ln or log2 in my loss"]}, '
                    '"kl-asymmetry": {"near_misses": ["kl between two gaussians"]}}')
    assert written_additions(path, {"log-base", "kl-asymmetry", "backprop-order"}) == {
        "log-base": (("ln or log2 in my loss",), ()), "kl-asymmetry": ((), ("kl between two gaussians",))}
    with pytest.raises(ValueError, match="kl-asymmetry"):
        written_additions(path, {"log-base"})


@pytest.mark.parametrize("term", [1, 2])
def test_the_committed_staff_lines_name_real_entries_and_add_what_the_knowledge_base_lacks(term: int):
    from bot.config import Settings
    from bot.knowledge import load_entries
    from eval.datasets import DATASETS_DIR

    entries = {entry.id: entry for entry in load_entries(Settings().knowledge_dir)}
    additions = written_additions(DATASETS_DIR / f"staff_written_term{term}.json", set(entries))
    assert sum(len(aliases) + len(near) for aliases, near in additions.values()) >= 20
    for entry_id, (aliases, near_misses) in additions.items():
        assert not set(aliases) & set(entries[entry_id].aliases)
        assert not set(near_misses) & set(entries[entry_id].near_misses)


def test_a_thread_s_posts_fall_in_one_term_and_both_terms_are_used():
    questions = [Question(f"q{i}", "?", (), "dev", source=f"https://example.org/t{i % 7}") for i in range(70)]
    terms = {}
    for question in questions:
        terms.setdefault(question.source, set()).add(term_of(question))
    assert all(len(seen) == 1 for seen in terms.values())
    assert {term for seen in terms.values() for term in seen} == {0, 1}
    kept = rows_where(rows_of(["a", "b", "c"], [1, 0, 1], [[0.9, 0.1], [0.2, 0.3], [0.5, 0.6]],
                              [[True, False]] * 3), np.array([True, False, True]))
    assert [q.split for q in kept.questions] == ["a", "c"] and kept.candidates.features.shape == (2, 2, 1)


def test_the_entry_picked_is_the_most_confident_candidate_s():
    rows = rows_of(["a", "a"], [1, 0], [[0.2, 0.7], [0.6, 0.1]], [[False, True], [False, False]])

    def identity(features, labels):
        return lambda x: x[..., 0]
    confidence, right, entries = picked(identity(None, None), rows, (0,))
    assert confidence.tolist() == [0.7, 0.6] and right.tolist() == [True, False]
    assert entries.tolist() == ["f", "e"]  # each row's candidates are ["e", "f"]


def test_the_soft_maximum_runs_from_the_largest_cosine_to_their_mean():
    cosines = np.array([[0.9, 0.1, 0.2], [0.3, 0.3, 0.3]])
    assert soft_maximum(cosines, 1e-4) == pytest.approx([0.9, 0.3], abs=1e-3)
    assert soft_maximum(cosines, 1e4) == pytest.approx([0.4, 0.3], abs=1e-3)
    between = soft_maximum(cosines, 0.1)[0]
    assert 0.4 < between < 0.9  # a single far-off text counts for less than the best one


def test_density_features_follow_today_s_the_same_for_every_candidate():
    from bot.search.retrieve import Embedded

    rows = rows_of(["a", "a"], [1, 0], [[0.9, 0.1], [0.2, 0.3]], [[True, False]] * 2)
    unit = np.eye(3, dtype=np.float32)
    # Post 0's prose is asked-like (axis 0), post 1's near-miss-like (axis 1); both focuses on axis 2.
    rows.embedded[:] = [(Embedded(unit[2], np.zeros((0, 3))), Embedded(unit[0], np.zeros((0, 3)))),
                        (Embedded(unit[2], np.zeros((0, 3))), Embedded(unit[1], np.zeros((0, 3))))]
    asked, near = unit[[0]], unit[[1]]
    grown = with_density(rows, asked, near, 0.05, difference=True)
    features = grown.candidates.features
    assert features.shape == (2, 2, 3) and np.array_equal(features[:, :, 0], rows.candidates.features[:, :, 0])
    assert np.array_equal(features[:, 0, 1:], features[:, 1, 1:])
    assert features[0, 0, 1] == pytest.approx(1.0) and features[1, 0, 1] == pytest.approx(-1.0)  # prose
    assert features[:, 0, 2] == pytest.approx([0.0, 0.0])  # focus: as far from both
    both = with_density(rows, asked, near, 0.05, difference=False).candidates.features
    assert both.shape == (2, 2, 5) and both[0, 0, 1:3] == pytest.approx([1.0, 0.0])


def test_a_column_goes_after_today_s_features_or_in_place_of_one():
    rows = rows_of(["a", "a"], [1, 0], [[0.9, 0.1], [0.2, 0.3]], [[True, False]] * 2)
    column = np.array([[5.0, 6.0], [7.0, 8.0]])
    beside, in_place = with_column(rows, column), with_column(rows, column, 0)
    assert beside.candidates.features.shape == (2, 2, 2) and beside.candidates.features[1, 0].tolist() == [0.2, 7.0]
    assert in_place.candidates.features[:, :, 0].tolist() == column.tolist()
    assert rows.candidates.features[1, 0, 0] == 0.2  # the rows given are not changed


def test_a_feature_left_out_is_gone_from_every_candidate_and_the_rest_keep_their_order():
    rows = with_column(rows_of(["a", "a"], [1, 0], [[0.9, 0.1], [0.2, 0.3]], [[True, False]] * 2),
                       np.array([[5.0, 6.0], [7.0, 8.0]]))
    first_gone, second_gone = without_column(rows, 0), without_column(rows, 1)
    assert first_gone.candidates.features.tolist() == [[[5.0], [6.0]], [[7.0], [8.0]]]
    assert second_gone.candidates.features.tolist() == [[[0.9], [0.1]], [[0.2], [0.3]]]
    assert rows.candidates.features.shape == (2, 2, 2)  # the rows given are not changed


def test_the_prose_near_miss_reads_a_long_post_s_prose_and_keeps_a_one_liner_s_own_value():
    from types import SimpleNamespace

    from bot.search.pieces import EntryPieces
    from bot.search.retrieve import Calibration, Embedded
    from bot.search.token_match import Texts, best_agreement

    unit = np.eye(4, dtype=np.float32)
    asked = Texts.of([unit[[0, 1]], unit[[2]]])  # the entry's two own questions, by their pieces
    near = Texts.of([unit[[0, 3]], unit[[1]]])  # the near misses nearest the post
    index = SimpleNamespace(near_misses=SimpleNamespace(nearest_texts=lambda vector: near),
                            entry_pieces=lambda entry_id: EntryPieces(unit, asked))
    one_line = Embedded(unit[0], unit[[0, 1]])
    long_post = (Embedded(unit[0], unit[[0]]), Embedded(unit[1], unit[[0, 3]]))
    features = np.zeros((2, 1, len(Calibration.FEATURES)))
    eighth = Calibration.FEATURES.index("near_miss_words")
    features[:, 0, eighth] = [-0.4, -0.3]
    rows = CalibrationRows([Question(f"q{i}", "?", ("e",), "a") for i in range(2)], [None, None],
                           [(one_line, one_line), long_post], [["e"], ["e"]], np.array([1.0, 1.0]),
                           Candidates(features, np.array([[True], [True]])))
    retriever = SimpleNamespace(index=index)
    column, held = prose_near_miss(rows, retriever), prose_near_miss(rows, retriever, held=True)
    assert column[0, 0] == held[0, 0] == -0.4  # a one-line question is its own prose: the eighth feature as it is
    # The prose holds the first near miss whole and agrees with it exactly; of the entry's first question
    # it holds one piece of two, and it holds nothing of the second.
    assert column[1, 0] == pytest.approx(best_agreement(unit[[0, 3]], near) - best_agreement(unit[[0, 3]], asked))
    assert held[1, 0] == pytest.approx((1.0 + 0.0) / 2 - (0.5 + 0.0) / 2)
    assert column[1, 0] != -0.3


def test_the_crux_is_the_word_a_near_miss_says_and_the_entry_does_not():
    from types import SimpleNamespace

    from bot.search.pieces import EntryPieces
    from bot.search.retrieve import Calibration, Embedded
    from bot.search.token_match import Texts

    unit = np.eye(5, dtype=np.float32)
    # Words: 0 "kl", 1 "divergence", 2 "symmetric", 3 "infinite", 4 a word only the answer says.
    asked = Texts.of([unit[[0, 1, 2]]])  # "why is kl divergence not symmetric"
    near = Texts.of([unit[[0, 3]]])  # "can kl be infinite"
    index = SimpleNamespace(near_misses=SimpleNamespace(nearest_texts=lambda vector: near),
                            entry_pieces=lambda entry_id: EntryPieces(unit[[0, 1, 2, 4]], asked))
    partly = (0.6 * unit[3] + 0.8 * unit[4]).astype(np.float32)  # "infinite" said half in the answer's word
    posts = [Embedded(unit[0], unit[[0, 1, 3]]),  # "can kl divergence be infinite?"
             Embedded(unit[0], unit[[0, 1, 2]]),  # "is kl divergence symmetric?": no word leans away
             Embedded(unit[0], np.stack([unit[0], partly]))]
    features = np.zeros((3, 1, len(Calibration.FEATURES)))
    rows = CalibrationRows([Question(f"q{i}", "?", ("e",), "a") for i in range(3)], [None] * 3,
                           [(post, post) for post in posts], [["e"]] * 3, np.ones(3),
                           Candidates(features, np.ones((3, 1), dtype=bool)))
    retriever = SimpleNamespace(index=index)
    asked_one = crux_near_miss(rows, retriever, "asked", 1)
    assert asked_one[:, 0] == pytest.approx([1.0, 0.0, 0.6])  # "infinite": 1 to the near miss, 0 to the entry
    # Two pieces: the crux and the next furthest ("kl", 1 on both sides); every piece of the entry counted,
    # the answer's word 4 takes back what the partly-said word leaned.
    assert crux_near_miss(rows, retriever, "asked", 2)[:, 0] == pytest.approx([0.5, 0.0, 0.3])
    assert crux_near_miss(rows, retriever, "all", 1)[:, 0] == pytest.approx([1.0, 0.0, 0.0])


def test_a_word_every_course_text_says_weighs_nothing_and_one_none_says_weighs_most():
    unit = np.eye(4, dtype=np.float32)
    # Three texts: every one says word 0, one says word 1, none says word 3 (word 2 sits at 0.6 to word 1).
    near_one = (0.6 * unit[1] + 0.8 * unit[2]).astype(np.float32)
    weigh = RarityWeights([unit[[0, 1]], unit[[0]], unit[[0]]], same_word=0.7)
    weights = weigh(np.stack([unit[0], unit[1], near_one, unit[3]]))
    assert weights == pytest.approx([np.log(4 / 4), np.log(4 / 2), np.log(4 / 1), np.log(4 / 1)])
    # Counted softly: at a lower bar the piece near word 1 is word 1.
    assert RarityWeights([unit[[0, 1]], unit[[0]], unit[[0]]], same_word=0.5)(near_one[None])[0] == pytest.approx(
        np.log(4 / 2))


def test_weighted_agreements_with_equal_weights_are_today_s_and_rare_words_move_them():
    from bot.search.token_match import Texts, agreements

    rng = np.random.default_rng(0)
    pieces = rng.normal(size=(9, 6)).astype(np.float32)
    pieces /= np.linalg.norm(pieces, axis=1, keepdims=True)
    question, texts = pieces[:3], Texts.of([pieces[3:5], pieces[5:6], pieces[6:9]])
    same = weighted_agreements(question, np.ones(3), texts, np.ones(len(texts.rows)))
    assert same == pytest.approx(agreements(question, texts), abs=1e-6)
    # The question = a shared word (0) and a rare one (1); text A says only the shared word, text B only the rare one.
    unit = np.eye(3, dtype=np.float32)
    two = Texts.of([unit[[0]], unit[[1]]])
    plain = weighted_agreements(unit[[0, 1]], np.ones(2), two, np.ones(2))
    weighed = weighted_agreements(unit[[0, 1]], np.array([0.1, 2.0]), two, np.array([0.1, 2.0]))
    assert plain[0] == pytest.approx(plain[1]) == pytest.approx(2 / 3)
    assert weighed[1] > plain[1] and weighed[0] < plain[0]  # the text that says the rare word agrees more


def test_the_idf_columns_with_equal_weights_are_today_s_features():
    from types import SimpleNamespace

    from bot.search.pieces import EntryPieces
    from bot.search.retrieve import COVERAGE_PSEUDO_TERMS, Calibration, Embedded
    from bot.search.token_match import Texts, best_agreement, semantic_coverage

    unit = np.eye(4, dtype=np.float32)
    asked = Texts.of([unit[[0, 1]], unit[[2]]])
    near = Texts.of([unit[[0, 3]], unit[[1]]])
    index = SimpleNamespace(near_misses=SimpleNamespace(nearest_texts=lambda vector: near),
                            entry_pieces=lambda entry_id: EntryPieces(unit[[0, 1, 2]], asked))
    focus = Embedded(unit[0], unit[[0, 3]])
    features = np.zeros((1, 1, len(Calibration.FEATURES)))
    rows = CalibrationRows([Question("q0", "?", ("e",), "a")], [None], [(focus, focus)], [["e"]], np.array([1.0]),
                           Candidates(features, np.array([[True]])))
    retriever = SimpleNamespace(index=index)

    class Equal:
        def __call__(self, pieces):
            return np.ones(len(pieces))

    near_miss = idf_near_miss(rows, retriever, Equal())
    assert near_miss[0, 0] == pytest.approx(best_agreement(focus.pieces, near) - best_agreement(focus.pieces, asked))
    coverage = idf_focus_coverage(rows, retriever, Equal())
    assert coverage[0, 0] == pytest.approx(semantic_coverage(focus.pieces, unit[[0, 1, 2]], COVERAGE_PSEUDO_TERMS))
    # Word 3, which the entry does not hold, weighing more pulls the coverage down.
    class RareThree:
        def __call__(self, pieces):
            return np.where(pieces[:, 3] > 0.5, 3.0, 1.0)

    assert idf_focus_coverage(rows, retriever, RareThree())[0, 0] < coverage[0, 0]


def test_a_column_is_scored_beside_today_s_features_and_in_place_of_its_own(monkeypatch):
    from eval.variants import scoring

    rows = rows_of(["a", "a"], [1, 0], [[0.9, 0.1], [0.2, 0.3]], [[True, False]] * 2)
    column, development_column = np.array([[5.0, 6.0], [7.0, 8.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])
    scored = []
    today = object()  # today's decisions, handed on to each variant to be scored against
    monkeypatch.setattr(scoring, "report_variant", lambda name, grown, development, against=None: scored.append(
        (name, grown.candidates.features.tolist(), development.candidates.features.tolist(), against)))
    monkeypatch.setattr(scoring, "report_curves", lambda name, grown, development: None)
    scoring.report_beside_and_in_place("x", rows, rows, column, development_column, 0, today)
    assert [name for name, _, _, _ in scored] == ["x beside", "x in place"]
    assert scored[0][1][1][0] == [0.2, 7.0] and scored[0][2][1][0] == [0.2, 3.0]  # each set gets its own column
    assert scored[1][1][1][0] == [7.0] and scored[1][2][1][0] == [3.0]
    assert all(against is today for _, _, _, against in scored)
