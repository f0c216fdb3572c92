"""A span of a text read in that text's context, from the encoder pass over the whole text.

A long post is searched twice: by its question (the focus) and by all of its prose. Encoding the
focus on its own doubled the encoder's work for every long post, and the focus is nearly always a
span of the prose (372 of the 374 test posts whose focus is not their whole prose). Instead, the
prose goes through MiniLM once and the focus is pooled from the hidden states of its own word
pieces there: the mean over the tokens inside the span (sentence-transformers' mean pooling,
restricted to the span) and its content pieces for semantic coverage.

The focus then means "these words, as this post uses them", not "these words alone". Measured by
the calibration splits' cross-validation (`python -m eval.calibrate --cross-validate`, each way):
answered and right 0.935 -> 0.936, out of scope declined 0.863 -> 0.876, and the focus's cosine,
worth nothing beside the prose's when encoded alone (weight -0.06), became a feature the fit uses.

A span the encoder never saw (past the truncation at `max_seq_length` word pieces) or that is not
in the text gives None: the caller encodes it on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from bot.search.token_match import content_rows

# A text's unit vector, its content word pieces, and, for a span read inside a text, which of the
# text's own content pieces those are (None otherwise): the span's pieces are rows of the text's, so
# what is matched against the text's pieces need not be matched again for the span's.
Read = tuple[np.ndarray, np.ndarray, np.ndarray | None]


class ReadsInContext(Protocol):
    """Both MiniLM backends, and any sentence-transformers model as `TorchEncoder` loads it."""

    def encode(self, texts: list[str]) -> np.ndarray | list[list[float]]: ...

    def encode_with_pieces(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def encode_in_context(self, text: str, span: str) -> tuple[np.ndarray, np.ndarray, Read | None]: ...


def focus_and_prose(encoder: ReadsInContext, focus: str, prose: str) -> tuple[Read, Read]:
    """A post's focus and prose as they are searched: the prose through the encoder once, the focus
    read inside it; a focus that pass never reached is encoded alone (a second pass)."""
    if focus == prose:
        vectors, pieces = encoder.encode_with_pieces([prose])
        # One object for both: callers that see the focus *is* the prose search and match it once.
        read = (vectors[0], pieces[0], None)
        return read, read
    vector, pieces, inside = encoder.encode_in_context(prose, focus)
    if inside is None:
        vectors, alone = encoder.encode_with_pieces([focus])
        inside = (vectors[0], alone[0], None)
    return inside, (vector, pieces, None)


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling (padding excluded) followed by L2 normalisation: a batch
    of hidden states (texts x tokens x dimension) to one unit vector per text."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def span_positions(offsets: Sequence[tuple[int, int]], special: Sequence[int], text: str,
                   span: str) -> list[int] | None:
    """Token positions of `span`'s last occurrence in `text` (the focus is the post's last question);
    None when it does not occur, or when its end lies past the tokens the encoder read.

    A span of several lines is several spans read together, each after the one before it, the last
    one at its last occurrence: a post's title (its first line) and its question (`Post.read_as`).
    The text searched (a post's prose) is one line, so a newline never belongs to a span."""
    *leading, last = span.split("\n")
    positions: list[int] = []
    after = 0
    for piece in leading:
        start = text.find(piece, after)
        found = _positions(offsets, special, text, start, piece)
        if found is None:
            return None
        positions += found
        after = start + len(piece)
    start = text.rfind(last)
    found = _positions(offsets, special, text, start if start >= after else -1, last)
    return None if found is None else sorted(set(positions) | set(found))


def _positions(offsets: Sequence[tuple[int, int]], special: Sequence[int], text: str, start: int,
               span: str) -> list[int] | None:
    """Token positions of `span` found at `start` (-1: not found), if the encoder read all of it."""
    if start < 0 or not span.strip():
        return None
    end = start + len(span)
    inside = [i for i, (a, b) in enumerate(offsets) if not special[i] and b > a and a >= start and b <= end]
    last_read = max((b for i, (_, b) in enumerate(offsets) if not special[i]), default=0)
    if not inside or last_read < len(text[:end].rstrip()):
        return None
    return inside


def read_span(hidden: np.ndarray, ids: np.ndarray, offsets: Sequence[tuple[int, int]], special: Sequence[int],
              text: str, span: str, content_mask: np.ndarray) -> Read | None:
    """`span`'s unit vector and content word pieces, from `text`'s unpadded hidden states (one row per
    token), and which of `text`'s content pieces (`content_rows` of all its tokens) they are."""
    positions = span_positions(offsets, special, text, span)
    if positions is None:
        return None
    rows = hidden[positions]
    vector = mean_pool_normalise(rows[None], np.ones((1, len(rows)), dtype=np.int64))[0].astype(np.float32)
    is_content = content_mask[ids[: len(hidden)]]
    piece_of_token = np.cumsum(is_content) - 1  # a content token's row among the text's content pieces
    within = piece_of_token[positions][is_content[positions]].astype(np.int64)
    return vector, content_rows(rows, ids[positions], content_mask), within
