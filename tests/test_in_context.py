"""`bot.search.in_context`: which tokens are a span's, on hand-made token offsets (no model)."""

import numpy as np

from bot.search.in_context import read_span, span_positions
from bot.search.token_match import content_rows

TEXT = "Hi all. Why is KL asymmetric? Why is KL asymmetric?"
# [CLS] hi all . why is kl asym ##metric ? why is kl asym ##metric ? [SEP], as character offsets
WORDS = [(0, 2), (3, 6), (6, 7), (8, 11), (12, 14), (15, 17), (18, 22), (22, 28), (28, 29),
         (30, 33), (34, 36), (37, 39), (40, 44), (44, 50), (50, 51)]
OFFSETS = [(0, 0), *WORDS, (0, 0)]
SPECIAL = [1] + [0] * len(WORDS) + [1]


def test_a_span_is_its_last_occurrence_and_never_a_special_token() -> None:
    # The focus is the post's last question: when it occurs twice, the last one is read.
    assert span_positions(OFFSETS, SPECIAL, TEXT, "Why is KL asymmetric?") == list(range(10, 16))
    assert span_positions(OFFSETS, SPECIAL, TEXT, "Hi all.") == [1, 2, 3]


def test_a_span_not_in_the_text_or_past_the_truncation_is_none() -> None:
    assert span_positions(OFFSETS, SPECIAL, TEXT, "Why is Adam adaptive?") is None
    assert span_positions(OFFSETS, SPECIAL, TEXT, "   ") is None
    # The encoder stopped inside the second question: its first occurrence is not read in its place.
    offsets, special = [*OFFSETS[:12], (0, 0)], [*SPECIAL[:12], 1]
    assert span_positions(offsets, special, TEXT, "Why is KL asymmetric?") is None
    assert span_positions(offsets, special, TEXT, "Hi all.") == [1, 2, 3]


def test_read_span_mean_pools_the_spans_rows_and_keeps_its_content_pieces() -> None:
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(len(OFFSETS), 8)).astype(np.float32)
    ids = np.arange(len(OFFSETS))
    content = np.zeros(len(OFFSETS), dtype=bool)
    content[[2, 7, 13, 14]] = True  # two content pieces before the span, two inside it
    vector, pieces, within = read_span(hidden, ids, OFFSETS, SPECIAL, TEXT, "Why is KL asymmetric?", content)
    want = hidden[10:16].mean(axis=0)
    assert np.allclose(vector, want / np.linalg.norm(want), atol=1e-6)
    assert np.allclose(pieces, hidden[[13, 14]] / np.linalg.norm(hidden[[13, 14]], axis=1, keepdims=True), atol=1e-6)
    # ... which are the third and fourth of the whole text's content pieces (tokens 2, 7, 13, 14).
    assert within.tolist() == [2, 3]
    assert np.array_equal(content_rows(hidden, ids, content)[within], pieces)
    assert read_span(hidden, ids, OFFSETS, SPECIAL, TEXT, "not there", content) is None


def test_a_span_of_two_lines_is_both_spans_read_together_in_order() -> None:
    # A post's title and its question (`Post.read_as`): the first at its first occurrence after the
    # start, the question at its last occurrence.
    assert span_positions(OFFSETS, SPECIAL, TEXT, "Hi all.\nWhy is KL asymmetric?") == [1, 2, 3, *range(10, 16)]
    assert span_positions(OFFSETS, SPECIAL, TEXT, "Hi there.\nWhy is KL asymmetric?") is None
    assert span_positions(OFFSETS, SPECIAL, TEXT, "Why is KL asymmetric?\nHi all.") is None  # out of order
