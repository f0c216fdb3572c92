"""Export the sentence-transformers MiniLM to ONNX, once per data dir (the one step that needs torch).

    python -m bot.search.onnx_export --write-probes   # refresh bot/search/minilm_probes.json (maintainers)

The legacy TorchScript exporter (`torch.onnx.export(..., opset_version=17, dynamo=False)`, which
needs the `onnx` package) traces a wrapper whose `forward(ids, mask, token_type_ids)` returns the
transformer's `last_hidden_state`; pooling and normalisation stay in numpy
(`bot.search.onnx_minilm`). The trace input is a padded batch, so the attention mask is a real
input of the graph and not a constant. Before the files are moved into place, the exported model
must reproduce the live sentence-transformers vectors of the probe set and of a padded batch of
mixed lengths to cosine `PROBE_MIN_COSINE`; otherwise nothing is written.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from bot.search.onnx_minilm import (
    MANIFEST_NAME,
    ONNX_NAME,
    PROBE_MIN_COSINE,
    PROBES_FILE,
    TOKENIZER_NAME,
    OnnxEncoder,
    OnnxUnusable,
    file_sha256,
    min_cosine,
    open_verified,
)

OPSET = 17
# Fixed probe texts: a short query, a real-shaped long post (past the 256-token limit, so truncation
# must agree), code, a formula, non-ASCII text and a single character.
PROBE_TEXTS = (
    "which log base",
    "why is KL divergence not symmetric",
    "Hi all! Quick question about hw2. " + "I read the Adam paper and tried momentum, RMSprop and Adagrad. " * 20
    + "Are adaptive optimizers second order methods?",
    "def softmax(x):\n    e = np.exp(x - x.max())\n    return e / e.sum()",
    r"\(\frac{\delta}{\delta(x)}(ln(x))= \frac{1}{x}\)",
    "Größe der Lernrate — ¿por qué? 学习率 🤔",
    "a",
)


@contextmanager
def _export_lock(directory: Path) -> Iterator[None]:
    """One exporter per data dir at a time (a chat and an `tabot index` may start together)."""
    with (directory / ".export.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wrapper(transformer: Any) -> Any:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, ids: Any, mask: Any, token_type_ids: Any) -> Any:
            return self.transformer(input_ids=ids, attention_mask=mask, token_type_ids=token_type_ids).last_hidden_state

    return LastHiddenState().eval()


def export(model: Any, directory: Path, source_dir: Path, source_sha256: str) -> OnnxEncoder:
    """Export `model` (a loaded, verified SentenceTransformer) into `directory`; return it opened and verified."""
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    with _export_lock(directory):
        with suppress(OnnxUnusable):  # another process finished the same export while we waited
            return open_verified(directory, source_sha256)
        started = time.perf_counter()
        features = model.preprocess(["a padded example", "a longer example so that the first row needs padding"])
        example = (features["input_ids"], features["attention_mask"], features["token_type_ids"])
        axes = {0: "batch", 1: "tokens"}
        tmp_onnx = directory / f".{ONNX_NAME}.{os.getpid()}.tmp"
        tmp_tokenizer = directory / f".{TOKENIZER_NAME}.{os.getpid()}.tmp"
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes
                torch.onnx.export(_wrapper(model[0].auto_model), example, str(tmp_onnx),
                                  input_names=["input_ids", "attention_mask", "token_type_ids"],
                                  output_names=["last_hidden_state"],
                                  dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                                "last_hidden_state": axes},
                                  opset_version=OPSET, dynamo=False)
            shutil.copyfile(source_dir / "tokenizer.json", tmp_tokenizer)
            encoder = OnnxEncoder(tmp_onnx, tmp_tokenizer, int(model.max_seq_length))
            texts = list(PROBE_TEXTS)  # mixed lengths in one call: a padded batch on both sides
            live = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            agreement = min_cosine(encoder.encode(texts), live)
            if not agreement >= PROBE_MIN_COSINE:
                raise OnnxUnusable(f"the exported model disagrees with sentence-transformers (min cosine {agreement})")
            manifest = {
                "model": "all-MiniLM-L6-v2", "source_sha256": source_sha256,
                "onnx_sha256": file_sha256(tmp_onnx), "tokenizer_sha256": file_sha256(tmp_tokenizer),
                "max_seq_length": int(model.max_seq_length), "opset": OPSET,
                "torch": torch.__version__, "probe_min_cosine": agreement,
                "export_seconds": round(time.perf_counter() - started, 2),
            }
            os.replace(tmp_onnx, directory / ONNX_NAME)
            os.replace(tmp_tokenizer, directory / TOKENIZER_NAME)
            tmp_manifest = directory / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
            tmp_manifest.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            os.replace(tmp_manifest, directory / MANIFEST_NAME)  # last: its presence means "complete"
        finally:
            tmp_onnx.unlink(missing_ok=True)
            tmp_tokenizer.unlink(missing_ok=True)
        return open_verified(directory, source_sha256)


def write_probes(model: Any, path: Path = PROBES_FILE) -> None:
    """Store sentence-transformers' vectors of PROBE_TEXTS: the reference every load is checked against."""
    vectors = model.encode(list(PROBE_TEXTS), normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    data = {"model": "all-MiniLM-L6-v2", "made_with": "sentence-transformers, normalize_embeddings=True",
            "texts": list(PROBE_TEXTS), "vectors": np.round(vectors.astype(np.float64), 7).tolist()}
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.search.onnx_export", description=__doc__.splitlines()[0])
    parser.add_argument("--write-probes", action="store_true", help=f"rewrite {PROBES_FILE.name}")
    args = parser.parse_args(argv)
    from bot.search.torch_minilm import TorchEncoder

    if args.write_probes:
        write_probes(TorchEncoder().model)
        print(f"wrote {PROBES_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
