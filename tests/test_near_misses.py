"""Near misses (bot.search.near_misses): kept on disk by text, and what they do to a post's confidence."""

from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import Entry
from bot.search.near_misses import NearMisses, NearMissStore
from bot.search.retrieve import Calibration, near_miss_margin


class CountingEncoder:
    """Unit vectors from the text's hash, and a record of every text it was asked to encode."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """As `encode_with_pieces`: a vector per text, and one piece per character (its own vector)."""
        self.asked += texts
        rows = np.stack([self.unit(t) for t in texts])
        return rows, [np.stack([self.unit(ch) for ch in t]) for t in texts]

    @staticmethod
    def unit(text: str) -> np.ndarray:
        row = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(384)
        return (row / np.linalg.norm(row)).astype(np.float32)


def entry(entry_id: str, *near_misses: str) -> Entry:
    return Entry(id=entry_id, question="q?", answer="a.", near_misses=near_misses)


def test_the_store_encodes_each_text_once_and_holds_exactly_the_current_set(tmp_path: Path) -> None:
    store, encode = NearMissStore(tmp_path / "near_misses" / "c.npz"), CountingEncoder()
    first = store.sync([entry("a", "x", "y"), entry("b", "y", "z")], encode)
    assert first.texts == ("x", "y", "z") and encode.asked == ["x", "y", "z"]  # "y", listed twice, once
    again = NearMissStore(tmp_path / "near_misses" / "c.npz").sync([entry("a", "x", "y"), entry("b", "y", "z")], encode)
    assert encode.asked == ["x", "y", "z"] and np.array_equal(again.vectors, first.vectors)  # a restart reads
    # ... the pieces too, to the float16 they are stored in, the same as the first sync gave.
    assert [len(p) for p in again.pieces] == [1, 1, 1]
    assert all(np.array_equal(a, b) for a, b in zip(again.pieces, first.pieces, strict=True))
    assert np.allclose(first.pieces[1][0], CountingEncoder.unit("y"), atol=2e-3)
    edited = store.sync([entry("a", "x"), entry("b", "w")], encode)
    assert edited.texts == ("w", "x") and encode.asked[3:] == ["w"]
    assert np.array_equal(edited.vectors[1], first.vectors[0])
    assert store.sync([entry("a", "x"), entry("b", "w")], encode).texts == ("w", "x") and len(encode.asked) == 4
    emptied = store.sync([entry("a")], encode)
    assert emptied.texts == () and emptied.closest(first.vectors[0]) is None
    np.savez(tmp_path / "near_misses" / "c.npz", texts=np.array(["x"]), vectors=first.vectors[:1])  # before pieces
    assert len(store.sync([entry("a", "x")], encode).pieces) == 1 and encode.asked[-1] == "x"
    (tmp_path / "near_misses" / "c.npz").write_bytes(b"not an npz")  # unreadable: encoded again, not a crash
    assert store.sync([entry("a", "x")], encode).texts == ("x",) and encode.asked[-1] == "x"


def test_closest_is_the_best_cosine_and_the_margin_is_a_hinge_against_the_entry() -> None:
    unit = np.eye(3, dtype=np.float32)
    near = NearMisses(("a", "b"), unit[:2])
    assert near.closest(unit[1]) == 1.0 and near.closest(unit[2]) == 0.0
    assert NearMisses().closest(unit[0]) is None
    assert near_miss_margin(None, 0.3) == 0.0  # no near misses listed: nothing changes
    assert near_miss_margin(0.6, 0.7) == 0.0  # the question is nearer the entry than any near miss
    assert near_miss_margin(0.8, 0.5) == pytest.approx(0.3)
    model = Calibration(w_focus=4.0, w_near_miss=-10.0, bias=-2.0)
    assert model.confidence(1.0, 0.0, 0.0, near_miss=0.3) < 0.5 < model.confidence(1.0, 0.0, 0.0)


def test_agreement_is_the_mean_best_f1_among_the_near_misses_nearest_the_question() -> None:
    """Word by word, only the NEAREST_NEAR_MISSES nearest the question's sentence vector are matched,
    and the agreement is the mean of the AGREEING_TEXTS best of them (`best_agreement`)."""
    from bot.search.near_misses import NEAREST_NEAR_MISSES
    from bot.search.token_match import AGREEING_TEXTS, Texts, best_agreement

    rng = np.random.default_rng(0)
    count = NEAREST_NEAR_MISSES + 4
    vectors = rng.standard_normal((count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    raw = rng.standard_normal((count, 3, 384)).astype(np.float32)
    pieces = tuple(raw / np.linalg.norm(raw, axis=2, keepdims=True))  # unit rows, as content pieces are
    near = NearMisses(tuple(f"n{i}" for i in range(count)), vectors, pieces)
    question = pieces[-1]  # agrees fully (F1 1) with the last near miss only

    def mean_of_best(indices) -> float:
        single = sorted((best_agreement(question, Texts.of([pieces[i]])) for i in indices), reverse=True)
        return float(np.mean(single[:AGREEING_TEXTS]))

    nearest_own = np.argsort(-(vectors @ vectors[-1]))[:NEAREST_NEAR_MISSES]
    assert best_agreement(question, Texts.of(list(pieces)), best=1) == pytest.approx(1.0)
    assert near.agreement(vectors[-1], question) == pytest.approx(mean_of_best(nearest_own))
    assert 1 / AGREEING_TEXTS <= near.agreement(vectors[-1], question) < 1.0  # itself among the best, not alone
    far = -vectors[-1]  # ... and the farthest from this vector: not matched
    nearest_far = np.argsort(-(vectors @ far))[:NEAREST_NEAR_MISSES]
    assert count - 1 not in nearest_far
    assert near.agreement(far, question) == pytest.approx(mean_of_best(nearest_far))
    assert near.agreement(far, question) < near.agreement(vectors[-1], question)
    assert NearMisses().agreement(vectors[0], question) == 0.0


def test_the_nearest_near_misses_are_matched_as_if_stacked_for_the_post() -> None:
    """The nearest near misses' pieces are gathered from all of them stacked once: the same texts and
    rows as stacking them anew for each post (`Texts.of`), whatever their lengths, with a near miss of
    stop words only (no pieces) left out as `Texts.of` leaves it out; and the same agreement (up to the
    last bits a product may round differently in another memory order)."""
    from bot.search.near_misses import NEAREST_NEAR_MISSES
    from bot.search.token_match import Texts, best_agreement

    rng = np.random.default_rng(1)
    count = NEAREST_NEAR_MISSES + 8
    vectors = rng.standard_normal((count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pieces = [rng.standard_normal((int(rng.integers(1, 12)), 384)).astype(np.float32) for _ in range(count)]
    pieces[3] = np.empty((0, 384), dtype=np.float32)
    near = NearMisses(tuple(f"n{i}" for i in range(count)), vectors, tuple(pieces))
    question = rng.standard_normal((5, 384)).astype(np.float32)
    for vector in (vectors[3], vectors[10], -vectors[3]):
        nearest = near.nearest(vector)
        stacked = Texts.of([pieces[i] for i in nearest])
        gathered = near._texts(nearest)
        assert gathered.kept == stacked.kept and np.array_equal(gathered.starts, stacked.starts)
        assert np.array_equal(gathered.rows, stacked.rows)
        assert near.agreement(vector, question) == pytest.approx(best_agreement(question, stacked), rel=1e-6)
    assert 3 in near.nearest(vectors[3]) and len(near._texts(near.nearest(vectors[3]))) == NEAREST_NEAR_MISSES - 1


def test_listed_near_misses_are_declined_and_the_entries_own_questions_still_answered(tabot) -> None:
    """The lever staff get: a question listed as a near miss, asked as written, is declined (202 of the
    204 seed near misses since the twenty-first session averaged the best few agreements, 203 since the
    twentieth session's; 99 of 99 before, since they are also read word
    by word, 95 before that, 58 before they were listed), while every question and alias of an entry
    is still answered from it (181 of 181)."""
    near_misses = [n for e in tabot.entries.values() for n in e.near_misses]
    declined = sum(not tabot.ask(n).entry_ids for n in near_misses)
    assert declined >= 0.9 * len(near_misses)
    hits = tabot.retriever.search(near_misses[0], k=3)
    assert all(h.near_miss == pytest.approx(max(0.0, 1.0 - h.dense), abs=2e-3) for h in hits)
    own = [(e.id, q) for e in tabot.entries.values() for q in (e.question, *e.aliases)]
    assert [q for entry_id, q in own if tabot.ask(q).entry_ids[:1] != [entry_id]] == []
