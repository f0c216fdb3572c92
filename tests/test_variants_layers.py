"""eval.variants.layers: word pieces from an earlier MiniLM layer, sentence vectors from the last."""

import numpy as np
import pytest

from bot.search.embeddings import TorchEncoder
from eval.variants.layers import LayeredPieces

POST = "I read the Adam paper twice. Why is Adagrad not a momentum method? Thanks in advance!"
FOCUS = "Why is Adagrad not a momentum method?"


@pytest.fixture(scope="module")
def reference() -> TorchEncoder:
    return TorchEncoder()


@pytest.fixture(scope="module")
def last() -> LayeredPieces:
    return LayeredPieces(6)


@pytest.fixture(scope="module")
def third() -> LayeredPieces:
    return LayeredPieces(3)


def test_the_last_layer_reads_exactly_as_today(reference: TorchEncoder, last: LayeredPieces):
    vectors, pieces = reference.encode_with_pieces([POST, FOCUS])
    own_vectors, own_pieces = last.encode_with_pieces([POST, FOCUS])
    assert np.allclose(vectors, own_vectors, atol=1e-6)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(pieces, own_pieces, strict=True))
    vector, post_pieces, inside = reference.encode_in_context(POST, FOCUS)
    own_vector, own_post_pieces, own_inside = last.encode_in_context(POST, FOCUS)
    assert np.allclose(vector, own_vector, atol=1e-5) and np.allclose(post_pieces, own_post_pieces, atol=1e-5)
    assert np.allclose(inside[0], own_inside[0], atol=1e-5) and np.allclose(inside[1], own_inside[1], atol=1e-5)
    assert inside[2].tolist() == own_inside[2].tolist()


def test_an_earlier_layer_changes_the_pieces_and_keeps_the_sentence_vectors(reference: TorchEncoder,
                                                                          third: LayeredPieces):
    vector, pieces, inside = reference.encode_in_context(POST, FOCUS)
    own_vector, own_pieces, own_inside = third.encode_in_context(POST, FOCUS)
    assert np.allclose(vector, own_vector, atol=1e-5) and np.allclose(inside[0], own_inside[0], atol=1e-5)
    assert own_pieces.shape == pieces.shape and own_inside[2].tolist() == inside[2].tolist()
    assert np.allclose(np.linalg.norm(own_pieces, axis=1), 1.0, atol=1e-5)  # still unit pieces
    assert np.abs(own_pieces - pieces).max() > 0.1  # but another layer's
    _, alone = third.encode_with_pieces([FOCUS])
    assert np.abs(alone[0] - reference.encode_with_pieces([FOCUS])[1][0]).max() > 0.1
