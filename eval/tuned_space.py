"""Would MiniLM's space, shaped by the course's own texts, separate better? Calibration splits only.

    python -m eval.tuned_space --tune kb [--epochs 1] [--lr 1e-5] [--keep DIR]
    python -m eval.tuned_space --tune kb+dev [--epochs 1] [--lr 1e-5]
    python -m eval.tuned_space --discriminant [--shrinkage 0.1 1 10]

The abstention model reads features off a fixed encoder, and every feature tried on it ends on one
curve (docs/real-phrasing.md). Two ways to put the boundary between what an entry answers and what it
does not into the sentence space itself, from texts staff write anyway (an entry's question and
aliases: what it answers; its near misses: what it does not):

- `--tune`: contrastive fine-tuning of the packaged MiniLM (torch, CPU): each anchor against its
  entry's question and answer, with a hard negative beside the batch's other entries (the
  multiple-negatives ranking loss). The anchors are the entries' questions and aliases, their hard
  negatives the entry's near misses; with `kb+dev` also the blind development sets' in-scope posts
  (their focus and prose as the retriever reads them), whose hard negatives are out-of-scope
  development posts that rank the entry first. The tuned model is written to a temporary folder (or
  `--keep DIR`), indexed in a temporary data dir, and the calibration rows are read again through it.
- `--discriminant`: per entry, a linear discriminant in today's sentence space between its question
  and aliases and its near misses (covariance shrunk toward a sphere by `--shrinkage`); its score for
  the focus and for the prose become two more features.

No calibration row is trained on, so cross-validation over them (`eval.calibrate.cross_validation.cross_validate`:
folds by thread, the refit rule) compares fairly; today's model is printed beside, from the same run,
with the figure for an entry left out of the fit. With `kb+dev` the development sets are spent: they
no longer measure anything blind. tabot never loads a tuned model; this measures whether one would
earn its place (and its 90 MB) before anyone builds it in.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.calibrate.fit import Candidates
from eval.calibrate.rows import CalibrationRows, calibration_rows, course_retriever, report_rates
from eval.datasets import DEVELOPMENT_SETS

if TYPE_CHECKING:
    import torch

    from bot.knowledge import Entry
    from bot.search.embeddings import MiniLM

# An entry as the tuning reads it: its question and the start of its answer (MiniLM reads 256 pieces).
DOCUMENT_CHARS = 600
# The multiple-negatives ranking loss's scale on cosines (sentence-transformers' default).
SCALE = 20.0


@dataclass(frozen=True)
class Triplet:
    anchor: str  # a question the entry answers
    positive: str  # the entry, as `entry_document` gives it
    negative: str  # a question next to it that it does not answer


def entry_document(entry: Entry) -> str:
    return f"{entry.question} {entry.answer[:DOCUMENT_CHARS]}"


def knowledge_triplets(entries: Iterable[Entry], rng: random.Random) -> list[Triplet]:
    """Each entry's question and aliases against the entry, each with one of its near misses (an
    entry without near misses gives none: its anchors would have no hard negative)."""
    return [Triplet(asked, entry_document(entry), rng.choice(entry.near_misses))
            for entry in entries if entry.near_misses
            for asked in (entry.question, *entry.aliases)]


def post_triplets(in_scope: Iterable[tuple[str, str]], out_of_scope: Mapping[str, list[str]],
                  entries: Mapping[str, Entry], rng: random.Random) -> list[Triplet]:
    """(text, expected entry) pairs against their entry, each with an out-of-scope text that ranks
    the entry first (`out_of_scope[entry]`) or, where there is none, one of its near misses."""
    triplets = []
    for text, entry_id in in_scope:
        entry = entries[entry_id]
        negatives = out_of_scope.get(entry_id) or list(entry.near_misses)
        if negatives:
            triplets.append(Triplet(text, entry_document(entry), rng.choice(negatives)))
    return triplets


def contrastive_loss(anchors: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor,
                     targets: torch.Tensor, scale: float = SCALE) -> torch.Tensor:
    """Multiple-negatives ranking loss: each anchor (unit rows) should be nearer its own positive
    (`targets` indexes the distinct `positives`) than any other positive or any batch negative."""
    import torch

    candidates = torch.cat([positives, negatives])
    return torch.nn.functional.cross_entropy(anchors @ candidates.T * scale, targets)


def tune(triplets: list[Triplet], out: Path, epochs: int, lr: float, batch: int = 16,
         seed: int = 0) -> list[float]:
    """The packaged MiniLM tuned on `triplets`, saved to `out`; the loss summed over each epoch."""
    import torch
    from sentence_transformers import SentenceTransformer

    from bot.search.torch_minilm import model_path

    rng = random.Random(seed)
    torch.manual_seed(seed)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(model_path(), out)
    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()

    def embed(texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(model(model.preprocess(texts))["sentence_embedding"], dim=-1)

    order, losses = list(triplets), []
    for _ in range(epochs):
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            distinct = sorted({t.positive for t in chunk})
            targets = torch.tensor([distinct.index(t.positive) for t in chunk])
            loss = contrastive_loss(embed([t.anchor for t in chunk]), embed(distinct),
                                    embed([t.negative for t in chunk]), targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item()
        losses.append(total)
    model.eval()
    model.save(str(out))
    return losses


def development_posts(rows: CalibrationRows) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """The development sets' posts as the retriever read them (`calibration_rows` with their `sets`):
    (focus or prose, first expected entry) for in-scope posts, and per entry the out-of-scope posts'
    texts that rank it first."""
    in_scope: list[tuple[str, str]] = []
    out_of_scope: dict[str, list[str]] = {}
    for row, post, entry_ids in zip(rows.questions, rows.posts, rows.entry_ids, strict=True):
        texts = list(dict.fromkeys([post.focus, post.prose]))
        if row.in_scope:
            in_scope += [(text, row.expected[0]) for text in texts]
        elif entry_ids:
            out_of_scope.setdefault(entry_ids[0], []).extend(texts)
    return in_scope, out_of_scope


def tuned_model(model_dir: Path) -> MiniLM:
    """The encoder in `model_dir` (a tuned copy of the packaged MiniLM), on torch."""
    from bot.search.embeddings import MiniLM, TorchEncoder

    return MiniLM(encoder=TorchEncoder(model_dir))


@dataclass(frozen=True)
class Discriminant:
    """A direction that tells an entry's own questions from its near misses, scaled so that their
    means score +1 and -1."""

    direction: np.ndarray
    middle: float
    half_gap: float

    def score(self, vectors: np.ndarray) -> np.ndarray:
        return (vectors @ self.direction - self.middle) / self.half_gap


def entry_discriminant(inside: np.ndarray, outside: np.ndarray, shrinkage: float) -> Discriminant:
    """Fisher's linear discriminant between two sets of vectors (rows), the pooled covariance
    shrunk toward `shrinkage` times its mean variance on the diagonal: some twenty texts a side in
    384 dimensions give a covariance of low rank, and a large shrinkage leaves the mean difference."""
    centred = np.vstack([inside - inside.mean(axis=0), outside - outside.mean(axis=0)])
    covariance = np.atleast_2d(np.cov(centred.T))
    dimension = covariance.shape[0]
    covariance = covariance + shrinkage * np.trace(covariance) / dimension * np.eye(dimension)
    direction = np.linalg.solve(covariance, inside.mean(axis=0) - outside.mean(axis=0))
    high, low = float((inside @ direction).mean()), float((outside @ direction).mean())
    return Discriminant(direction, (high + low) / 2, (high - low) / 2)


def discriminant_columns(rows: CalibrationRows, discriminants: Mapping[str, Discriminant]) -> np.ndarray:
    """Rows x candidates x 2: each candidate entry's discriminant score for the row's focus and
    prose, as the rows were read (`CalibrationRows.embedded`, `.entry_ids`)."""
    columns = np.zeros((*rows.candidates.features.shape[:2], 2))
    for i, ((focus, prose), entry_ids) in enumerate(zip(rows.embedded, rows.entry_ids, strict=True)):
        for j, entry_id in enumerate(entry_ids):
            columns[i, j] = discriminants[entry_id].score(np.stack([focus.vector, prose.vector]))
    return columns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tuned_space", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--tune", choices=("kb", "kb+dev"), help="fine-tune MiniLM on these texts")
    mode.add_argument("--discriminant", action="store_true", help="per-entry discriminants as two more features")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="write the tuned model here (default: a temp folder)")
    parser.add_argument("--shrinkage", type=float, nargs="+", default=[0.1, 1.0, 10.0])
    args = parser.parse_args(argv)
    from bot.config import Settings

    settings = Settings.from_env()
    rows, retriever = calibration_rows(settings)
    today = tuple(range(rows.candidates.features.shape[2]))
    report_rates("today's encoder", rows, rows.candidates, today)
    if args.discriminant:
        model = retriever.index.model
        sides = {e.id: (model.encode_array([e.question, *e.aliases]), model.encode_array(list(e.near_misses)))
                 for e in retriever.entries.values() if e.near_misses}
        for shrinkage in args.shrinkage:
            discriminants = {entry_id: entry_discriminant(inside, outside, shrinkage)
                             for entry_id, (inside, outside) in sides.items()}
            extra = discriminant_columns(rows, discriminants)
            both = Candidates(np.concatenate([rows.candidates.features, extra], axis=2), rows.candidates.right)
            for name, columns in (("focus", (len(today),)), ("prose", (len(today) + 1,)),
                                  ("both", (len(today), len(today) + 1))):
                report_rates(f"+ discriminant ({name}, shrinkage {shrinkage:g})", rows, both, today + columns)
        return 0
    rng = random.Random(args.seed)
    triplets = knowledge_triplets(retriever.entries.values(), rng)
    if args.tune == "kb+dev":
        development, _ = calibration_rows(settings, retriever=retriever, sets=DEVELOPMENT_SETS)
        in_scope, out_of_scope = development_posts(development)
        triplets += post_triplets(in_scope, out_of_scope, retriever.entries, rng)
    with tempfile.TemporaryDirectory(prefix="tabot-tuned-") as scratch:
        model_dir = args.keep or Path(scratch) / "model"
        losses = tune(triplets, model_dir, args.epochs, args.lr, seed=args.seed)
        print(f"tuned on {len(triplets)} triplets ({args.tune}), {args.epochs} epoch(s) at lr {args.lr:g}: "
              f"loss per epoch {', '.join(f'{loss:.2f}' for loss in losses)}")
        tuned_settings = settings.with_(data_dir=Path(scratch) / "data")
        tuned, _ = calibration_rows(tuned_settings,
                                    retriever=course_retriever(tuned_settings, tuned_model(model_dir)))
        report_rates(f"tuned ({args.tune})", tuned, tuned.candidates, today)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
