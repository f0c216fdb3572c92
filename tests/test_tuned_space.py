"""The measurement of a sentence space shaped by the course's own texts (eval/tuned_space.py)."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from bot.knowledge import Entry
from bot.search.embeddings import MiniLM, TorchEncoder, model_path
from bot.search.reading.focus import read_post
from bot.search.retrieve import Embedded
from eval.calibrate.fit import Candidates
from eval.calibrate.rows import CalibrationRows, course_retriever
from eval.tuned_space import (
    Discriminant,
    contrastive_loss,
    development_posts,
    discriminant_columns,
    entry_discriminant,
    entry_document,
    knowledge_triplets,
    post_triplets,
    tuned_model,
)

ENTRIES = {
    "kl": Entry(id="kl", question="Why is KL not symmetric?", answer="Because the log ratio is weighted by p.",
                aliases=("kl(p||q) vs kl(q||p)", "is kl a distance"),
                near_misses=("how do i estimate kl from samples",)),
    "adam": Entry(id="adam", question="Is Adagrad a momentum method?", answer="No, it adapts each step size.",
                  aliases=("is rmsprop momentum",), near_misses=("does adam need lr decay", "what is adam's epsilon")),
    "bare": Entry(id="bare", question="Why zero-pad round images?", answer="Zeros are what the padding adds."),
}


def test_each_question_an_entry_answers_is_an_anchor_for_it_with_its_own_near_miss() -> None:
    triplets = knowledge_triplets(ENTRIES.values(), random.Random(0))
    # An entry without near misses gives no anchor: it would have no hard negative.
    assert sorted(t.anchor for t in triplets) == sorted(["Why is KL not symmetric?", "kl(p||q) vs kl(q||p)",
                                                         "is kl a distance", "Is Adagrad a momentum method?",
                                                         "is rmsprop momentum"])
    for t in triplets:
        entry = next(e for e in ENTRIES.values() if t.anchor in (e.question, *e.aliases))
        assert t.positive == entry_document(entry) and t.negative in entry.near_misses


def test_a_post_takes_an_out_of_scope_post_near_its_entry_before_a_near_miss() -> None:
    out_of_scope = {"kl": ["how many bits is this kl"]}
    triplets = post_triplets([("why does kl(q||p) seek a mode", "kl"), ("is adagrad second order", "adam"),
                              ("what goes in the corners", "bare")], out_of_scope, ENTRIES, random.Random(0))
    by_anchor = {t.anchor: t for t in triplets}
    assert by_anchor["why does kl(q||p) seek a mode"].negative == "how many bits is this kl"
    assert by_anchor["is adagrad second order"].negative in ENTRIES["adam"].near_misses
    assert by_anchor["is adagrad second order"].positive == entry_document(ENTRIES["adam"])
    assert "what goes in the corners" not in by_anchor  # nothing to set against it


def test_the_loss_is_low_when_each_anchor_is_nearest_its_own_positive() -> None:
    eye = torch.eye(4)
    anchors, positives, negatives = eye[:2], eye[:2], eye[2:]
    right = contrastive_loss(anchors, positives, negatives, torch.tensor([0, 1]))
    swapped = contrastive_loss(anchors, positives, negatives, torch.tensor([1, 0]))
    assert right < 1e-6 < 10 < swapped
    # A hard negative on top of the anchor takes half of its positive's share: the loss is ln 2.
    on_top = contrastive_loss(anchors, positives, eye[:2], torch.tensor([0, 1]))
    assert float(on_top) == pytest.approx(np.log(2), abs=1e-6)


def test_the_discriminant_puts_each_side_at_its_sign() -> None:
    rng = np.random.default_rng(0)
    spread = np.diag([0.2, 3.0, 3.0])  # the sides differ along the first axis, where the spread is small
    inside = rng.normal(size=(30, 3)) @ spread + [1.0, 0.0, 0.0]
    outside = rng.normal(size=(30, 3)) @ spread - [1.0, 0.0, 0.0]
    tight = entry_discriminant(inside, outside, shrinkage=0.01)
    assert tight.score(inside).mean() == pytest.approx(1.0) and tight.score(outside).mean() == pytest.approx(-1.0)
    assert (tight.score(inside) > 0).mean() > 0.95 and (tight.score(outside) < 0).mean() > 0.95
    # Shrunk hard, the direction is the means' difference, whatever the covariance says.
    loose = entry_discriminant(inside, outside, shrinkage=1e6)
    difference = inside.mean(axis=0) - outside.mean(axis=0)
    cosine = loose.direction @ difference / np.linalg.norm(loose.direction) / np.linalg.norm(difference)
    assert cosine > 0.999


def test_each_candidate_is_scored_by_its_own_entrys_discriminant_on_the_vectors_read() -> None:
    def read(focus: list[float], prose: list[float]) -> tuple[Embedded, Embedded]:
        empty = np.zeros((0, 2), dtype=np.float32)
        return Embedded(np.array(focus), empty), Embedded(np.array(prose), empty)

    rows = CalibrationRows(questions=[], posts=[], embedded=[read([1, 0], [0, 1]), read([0, 2], [3, 0])],
                           entry_ids=[["x", "y"], ["y", "y"]], labels=np.zeros(2),
                           candidates=Candidates(np.zeros((2, 2, 8)), np.zeros((2, 2), dtype=bool)))
    by_entry = {"x": Discriminant(np.array([1.0, 0.0]), 0.0, 1.0), "y": Discriminant(np.array([0.0, 1.0]), 1.0, 2.0)}
    columns = discriminant_columns(rows, by_entry)
    # Row 0: x reads the first axis (focus 1, prose 0), y the second, less 1, over 2 (focus -0.5, prose 0).
    assert columns[0].tolist() == [[1.0, 0.0], [-0.5, 0.0]]
    assert columns[1].tolist() == [[0.5, -0.5], [0.5, -0.5]]  # the top entry repeated, as the rows pad
    assert rows.top == ["x", "y"]


def test_an_encoder_given_to_minilm_is_the_one_it_uses() -> None:
    class Fixed:
        name = "fixed"

        def encode(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), 384), dtype=np.float32)

    model = MiniLM(encoder=Fixed())  # type: ignore[arg-type]
    assert model.backend == "fixed" and model.encode_array(["a", "b"]).shape == (2, 384)
    assert model.texts_embedded == 2


def test_the_packaged_model_read_through_the_measurements_index_gives_the_bots_features(
        tabot, session_settings, tmp_path: Path) -> None:
    # The comparison swaps the encoder and nothing else: the untuned model, opened as a tuned one is
    # (`tuned_model`, torch) and indexed afresh, scores posts as the bot's own retriever (ONNX) does.
    retriever = course_retriever(session_settings.with_(data_dir=tmp_path), tuned_model(model_path()))
    assert isinstance(retriever.index.model._encoder, TorchEncoder)
    for question in ("why is kl divergence not symmetric", "Is Adagrad a second order method?",
                     "Hi all, in hw2 the NLL is written with ln. Does the log base change the optimum?"):
        ours, theirs = (features_of(r, question) for r in (tabot.retriever, retriever))
        assert [entry for entry, _ in ours] == [entry for entry, _ in theirs]
        assert np.allclose([f for _, f in ours], [f for _, f in theirs], atol=1e-3)


def features_of(retriever, question: str) -> list[tuple[str, tuple[float, ...]]]:
    post, embedded = retriever.read(read_post(question))
    return [(hit.entry_id, hit.features) for hit in retriever.search(post, embedded=embedded)]


def test_development_posts_are_the_rows_as_read_in_scope_to_their_entry_out_of_scope_to_their_first() -> None:
    from bot.search.reading.focus import Post
    from eval.datasets import Question

    def post(focus: str, prose: str) -> Post:
        return Post(text=prose, prose=prose, focus=focus)

    rows = CalibrationRows(
        questions=[Question("a", "?", ("kl", "adam"), "dev"), Question("b", "?", (), "dev"),
                   Question("c", "?", (), "dev"), Question("d", "?", ("adam",), "dev")],
        posts=[post("is kl symmetric?", "hi. is kl symmetric?"), post("kl from samples?", "kl from samples?"),
               post("exam date?", "exam date?"), post("adam?", "adam?")],
        embedded=[None] * 4, entry_ids=[["kl", "adam"], ["kl", "adam"], [], ["kl", "adam"]],
        labels=np.array([1.0, 0.0, 0.0, 1.0]),
        candidates=Candidates(np.zeros((4, 2, 8)), np.zeros((4, 2), dtype=bool)))
    in_scope, out_of_scope = development_posts(rows)
    # Focus and prose each once (the same text once), to the first expected entry, whatever ranked first.
    assert in_scope == [("is kl symmetric?", "kl"), ("hi. is kl symmetric?", "kl"), ("adam?", "adam")]
    # Out of scope: to the entry ranked first; a post that found nothing gives nothing.
    assert out_of_scope == {"kl": ["kl from samples?"]}
