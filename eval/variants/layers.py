"""Word pieces from an earlier layer of MiniLM: every feature read word by word, from another layer.

BERTScore (Zhang et al., 2020) matches tokens by their hidden states and, per model, picks the layer
that agrees best with human judgement, often one below the last: the last layer of a sentence encoder
is trained for the mean of its tokens, not for each token alone. Today every word-by-word feature (the
two semantic coverages, the near miss word by word) reads the last layer's pieces. `LayeredPieces`
(`TorchEncoder` with its `token_states` from two layers) keeps the sentence vectors (and the focus's
vector read inside the post) from the last layer and takes the pieces, the entries' and near misses'
alike, from `layer`; `python -m eval.variants layers` reads
the course and the rows so, in a temporary index, and scores them against today's. It runs on torch
(sentence-transformers' model, asked for every layer's hidden states): with the last layer it makes
exactly today's decisions on every calibration and development row.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.search.torch_minilm import TorchEncoder
from eval.calibrate.rows import CalibrationRows, course_retriever
from eval.variants.scoring import read_both

if TYPE_CHECKING:
    from bot.config import Settings

LAYERS = (5, 4, 3)  # of MiniLM-L6's six; 6 is today's


class LayeredPieces(TorchEncoder):
    """MiniLM on torch, its sentence vectors from the last layer and its word pieces from `layer`."""

    def __init__(self, layer: int, path: Path | None = None) -> None:
        super().__init__(path)
        self.layer = layer
        self.name = f"torch, pieces from layer {layer}"

    def token_states(self, features: Any) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's hidden states for the vectors, `layer`'s for the word pieces."""
        import torch

        with torch.no_grad():
            states = self.model[0].auto_model(**features, output_hidden_states=True).hidden_states
        return states[-1][0].numpy(), states[self.layer][0].numpy()


def read_with_layer(settings: Settings, layer: int) -> tuple[CalibrationRows, CalibrationRows]:
    """The calibration and development rows read with `LayeredPieces(layer)`, in a temporary index."""
    from bot.search.embeddings import MiniLM

    with tempfile.TemporaryDirectory(prefix=f"tabot-layer{layer}-") as scratch:
        local = settings.with_(data_dir=Path(scratch), embed_backend="torch")
        model = MiniLM(encoder=LayeredPieces(layer), data_dir=Path(scratch))
        return read_both(local, course_retriever(local, model))
