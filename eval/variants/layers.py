"""Word pieces from an earlier layer of MiniLM: every feature read word by word, from another layer.

BERTScore (Zhang et al., 2020) matches tokens by their hidden states and, per model, picks the layer
that agrees best with human judgement, often one below the last: the last layer of a sentence encoder
is trained for the mean of its tokens, not for each token alone. Today every word-by-word feature (the
two semantic coverages, the near miss word by word) reads the last layer's pieces. `LayeredPieces`
keeps the sentence vectors (and the focus's vector read inside the post) from the last layer and takes
the pieces, the entries' and near misses' alike, from `layer`; `python -m eval.variants layers` reads
the course and the rows so, in a temporary index, and scores them against today's. It runs on torch
(sentence-transformers' model, asked for every layer's hidden states): with the last layer it makes
exactly today's decisions on every calibration and development row.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.search.in_context import Read, mean_pool_normalise, read_span
from bot.search.token_match import content_rows
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

    def _last_and_layer(self, features: Any) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.no_grad():
            states = self.model[0].auto_model(**features, output_hidden_states=True).hidden_states
        return states[-1][0].numpy(), states[self.layer][0].numpy()

    def encode_with_pieces(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        pieces = []
        for text in texts:  # one at a time, as TorchEncoder does: no padding to strip
            features = self.model.preprocess([text])
            _, layer = self._last_and_layer(features)
            pieces.append(content_rows(layer, features["input_ids"][0].numpy(), self.content_mask))
        return self.encode(texts), pieces

    def encode_in_context(self, text: str, span: str) -> tuple[np.ndarray, np.ndarray, Read | None]:
        features = self.model.tokenizer([text], truncation="longest_first", max_length=self.model.max_seq_length,
                                        return_tensors="pt", return_offsets_mapping=True,
                                        return_special_tokens_mask=True)
        offsets = [tuple(pair) for pair in features.pop("offset_mapping")[0].tolist()]
        special = features.pop("special_tokens_mask")[0].tolist()
        last, layer = self._last_and_layer(features)
        ids = features["input_ids"][0].numpy()
        mask = np.ones((1, len(ids)), dtype=np.int64)
        in_last = read_span(last, ids, offsets, special, text, span, self.content_mask)
        in_layer = read_span(layer, ids, offsets, special, text, span, self.content_mask)
        inside = None if in_last is None or in_layer is None else (in_last[0], in_layer[1], in_layer[2])
        return mean_pool_normalise(last[None], mask)[0], content_rows(layer, ids, self.content_mask), inside


def read_with_layer(settings: Settings, layer: int) -> tuple[CalibrationRows, CalibrationRows]:
    """The calibration and development rows read with `LayeredPieces(layer)`, in a temporary index."""
    from bot.search.embeddings import MiniLM

    with tempfile.TemporaryDirectory(prefix=f"tabot-layer{layer}-") as scratch:
        local = settings.with_(data_dir=Path(scratch), embed_backend="torch")
        model = MiniLM(encoder=LayeredPieces(layer), data_dir=Path(scratch))
        return read_both(local, course_retriever(local, model))
