"""MiniLM on ONNX Runtime: the query path and the index build, without torch.

The `.onnx` file is exported once from the sha256-verified sentence-transformers model
(`bot.search.onnx_export`, which needs torch that one time) into `DATA_DIR/models/`, next to a
copy of the model's tokenizer and a manifest holding the source weights' sha256, the sha256 of
both files, and the sequence length the sentence-transformers config truncates at.

Opening it checks, in this order, that the manifest names the expected source weights, that both
files still hash to what the manifest says, and that a fixed probe set (short, long past the
truncation limit, code, formula, non-ASCII; run as one padded batch) embeds to within cosine
`PROBE_MIN_COSINE` of the sentence-transformers vectors committed in `minilm_probes.json`. Any
failure raises `OnnxUnusable` with the reason; the caller rebuilds or falls back to torch.

Encoding is what sentence-transformers does for this model (modules.json: Transformer -> mean
Pooling -> Normalize): word-piece tokens truncated at `max_seq_length`, the transformer's
`last_hidden_state`, mean over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import mmap
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from bot.search.in_context import Read, mean_pool_normalise, read_span
from bot.search.token_match import content_piece_mask, content_rows

PROBES_FILE = Path(__file__).with_name("minilm_probes.json")
PROBE_MIN_COSINE = 0.99999
ONNX_NAME = "all-MiniLM-L6-v2.onnx"
TOKENIZER_NAME = "all-MiniLM-L6-v2.tokenizer.json"
MANIFEST_NAME = "all-MiniLM-L6-v2.onnx.json"
DIMENSION = 384
# Length-sorted batches of this size keep padding small without making the matrices tiny.
BATCH_SIZE = 32


class OnnxUnusable(Exception):
    """The exported model is missing, stale, tampered with or disagrees with the reference."""

    def __init__(self, reason: str, missing: bool = False) -> None:
        super().__init__(reason)
        self.missing = missing


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


def file_sha256(path: Path) -> str:
    """The file's sha256, hashed in one call over a read-only mapping of it: hashlib then lets go of
    the GIL for the whole 86 MB model. Read in chunks it takes the GIL back for each one, and with
    start-up's main thread busy each take is a wait (measured: 57 ms alone, 350 ms beside a busy
    thread; 78 ms mapped)."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:  # mmap cannot map an empty file
            return hashlib.sha256().hexdigest()
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return hashlib.sha256(view).hexdigest()


def probe_reference() -> tuple[list[str], np.ndarray]:
    """The committed probe texts and their sentence-transformers vectors."""
    data = json.loads(PROBES_FILE.read_text(encoding="utf-8"))
    return list(data["texts"]), np.asarray(data["vectors"], dtype=np.float32)


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest row-wise cosine similarity between two stacks of vectors."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.min(np.sum(a * b, axis=1)))


def length_batches(lengths: list[int], size: int = BATCH_SIZE, slack: float = 1.25) -> list[list[int]]:
    """Indices grouped into batches of similar token length (shortest first): a batch closes at `size`
    rows or when the next text is more than `slack` times (+8 tokens) longer than its first, so padding
    stays a small share of the work even when a short query and a long post arrive together."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        current = batches[-1] if batches else None
        if current is None or len(current) >= size or lengths[i] > slack * lengths[current[0]] + 8:
            batches.append([i])
        else:
            current.append(i)
    return batches


class OnnxEncoder:
    """MiniLM as an ONNX Runtime session plus a `tokenizers` tokenizer."""

    name = "onnx"

    def __init__(self, onnx_path: Path, tokenizer_path: Path, max_seq_length: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        # Idle pool threads would otherwise spin after each run, taking a core from the web server,
        # Chroma and BM25 on a 2-core machine. Spinning only while a run lasts
        # (`session.force_spinning_stop`) made a lone query faster (p50 3.68 -> 2.65 ms, same CPU
        # between questions) but `tabot ask --batch` answers slower (median 6.7 -> 13.8 ms, with the
        # question log on): spinning wins on an idle machine and loses as soon as anything else
        # wants a core, which on two cores is most of the time. So: never spin.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # tokenizer.json ships with truncation at 128 and fixed padding; sentence-transformers truncates at
        # the model config's max_seq_length (special tokens included) and pads per batch, and so do we.
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.no_padding()
        self.max_seq_length = max_seq_length
        self.content_mask = content_piece_mask(self.tokenizer.get_vocab())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors, one row per text, in the order given."""
        return self._run(texts, with_pieces=False)[0]

    def encode_with_pieces(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode`, plus each text's content word pieces in context (`bot.search.token_match`)."""
        return self._run(texts, with_pieces=True)

    def encode_in_context(self, text: str, span: str) -> tuple[np.ndarray, np.ndarray, Read | None]:
        """`text`'s vector and pieces, and `span`'s read inside it (`bot.search.in_context`), in one pass."""
        encoding = self.tokenizer.encode(text)
        ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = self.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                          "token_type_ids": np.asarray([encoding.type_ids])})[0]
        return (mean_pool_normalise(hidden, mask)[0], content_rows(hidden[0], ids[0], self.content_mask),
                read_span(hidden[0], ids[0], encoding.offsets, encoding.special_tokens_mask, text, span,
                          self.content_mask))

    def _run(self, texts: list[str], with_pieces: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        pieces: list[np.ndarray] = [np.empty((0, DIMENSION), dtype=np.float32)] * len(texts)
        if not texts:
            return out, pieces
        encodings = self.tokenizer.encode_batch(texts)
        for rows in length_batches([len(e.ids) for e in encodings]):
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
                types[row, :n] = encodings[i].type_ids
            hidden = self.session.run(["last_hidden_state"],
                                      {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            out[rows] = mean_pool_normalise(hidden, mask)
            if with_pieces:
                for row, i in enumerate(rows):
                    pieces[i] = content_rows(hidden[row], np.asarray(encodings[i].ids), self.content_mask)
        return out, pieces


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    if not path.is_file() or not (directory / ONNX_NAME).is_file():
        raise OnnxUnusable(f"no exported model in {directory}", missing=True)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except ValueError as error:
        raise OnnxUnusable(f"its manifest {path.name} is unreadable ({error})") from None
    return manifest


def open_verified(directory: Path, source_sha256: str) -> OnnxEncoder:
    """The exported model in `directory`, after every check in the module docstring."""
    manifest = read_manifest(directory)
    if manifest.get("source_sha256") != source_sha256:
        raise OnnxUnusable("it was exported from other weights than the packaged MiniLM")
    for name, key in ((ONNX_NAME, "onnx_sha256"), (TOKENIZER_NAME, "tokenizer_sha256")):
        path = directory / name
        if not path.is_file():
            raise OnnxUnusable(f"{name} is missing")
        if file_sha256(path) != manifest.get(key):
            raise OnnxUnusable(f"{name} does not match the sha256 recorded at export")
    try:
        encoder = OnnxEncoder(directory / ONNX_NAME, directory / TOKENIZER_NAME, int(manifest["max_seq_length"]))
    except Exception as error:  # a file ONNX Runtime or tokenizers cannot parse
        raise OnnxUnusable(f"it cannot be loaded ({error.__class__.__name__}: {str(error)[:120]})") from None
    check_probes(encoder)
    return encoder


# `open_early` -> `opened_early`: per models directory, the source sha256 asked for and the outcome.
_EARLY: dict[Path, tuple[str, Future[OnnxEncoder]]] = {}
_EARLY_LOCK = threading.Lock()
_EARLY_THREADS: list[threading.Thread] = []
# How long exit waits for an opening nobody collected (a command that failed after starting it).
EXIT_WAIT_S = 30.0


@atexit.register
def _finish_early_openings() -> None:
    """Let an early opening end before the interpreter does. Its thread is a daemon (a hung load must
    not hold the process forever), and a daemon stopped inside ONNX Runtime's session set-up aborts the
    process ("terminate called without an active exception", exit code 134): seen when a command
    failed, or a test ended, within the ~0.4 s of an opening nobody waited for."""
    for thread in list(_EARLY_THREADS):
        thread.join(timeout=EXIT_WAIT_S)


def open_early(directory: Path, source_sha256: str) -> None:
    """Start `open_verified(directory, source_sha256)` in a background thread, for `opened_early`.

    A command that will answer calls this before its imports: reading, checking and loading the
    model (~0.4 s, much of it outside the GIL: the mapped sha256, ONNX Runtime's loading, the
    probes) then runs beside them on the second core instead of after them. Measured: `tabot ask`
    1.29 -> 1.14 s on two idle cores; with one core busy elsewhere, the same either way."""
    with _EARLY_LOCK:
        if directory in _EARLY:
            return
        outcome: Future[OnnxEncoder] = Future()
        _EARLY[directory] = (source_sha256, outcome)

    def run() -> None:
        try:
            outcome.set_result(open_verified(directory, source_sha256))
        except BaseException as error:  # raised again where the encoder is collected
            outcome.set_exception(error)

    thread = threading.Thread(target=run, name="minilm-open-early", daemon=True)
    _EARLY_THREADS.append(thread)
    thread.start()


def opened_early(directory: Path, source_sha256: str) -> OnnxEncoder | None:
    """What `open_early` opened for `directory` (waiting for it; raising what `open_verified` raised
    there), handed out once; None when nothing was started for it, or for other weights."""
    with _EARLY_LOCK:
        started = _EARLY.pop(directory, None)
    if started is None or started[0] != source_sha256:
        return None
    return started[1].result()


def check_probes(encoder: OnnxEncoder) -> float:
    """Min cosine of the encoder's probe vectors to the sentence-transformers reference; raises below the bar."""
    texts, reference = probe_reference()
    agreement = min_cosine(encoder.encode(texts), reference)
    if not agreement >= PROBE_MIN_COSINE:  # `not >=` so that NaN fails too
        raise OnnxUnusable(f"its probe vectors differ from sentence-transformers (min cosine {agreement:.6f}"
                           f" < {PROBE_MIN_COSINE})")
    return agreement
