"""`tabot gaps` at 50,000 logged questions: how long staff wait for their topics.

    .venv/bin/python -m eval.bench.gaps [--rows 50000] [--distinct 20000] [--json]

A real question log (SQLite) in a temporary data folder is filled with `--rows` declined questions
from 2,000 students over 90 days; then `tabot gaps --json` runs as a subprocess (the real command:
start-up, reading the log, clustering, ranking, JSON) and is timed end to end.

What is embedded, said plainly: 600 base questions (60 topics no entry covers x 10 phrasings) are
embedded with the real MiniLM; the `--distinct` texts are base questions with a variant suffix, and
their vectors, base vector + small noise (cosine ~0.95 to the base), are put in the log's vector
cache, as an earlier `tabot gaps` run would have left them. So the timed run is the steady state, where
only new questions are embedded; the cold cost of embedding is measured separately on 1,000 of the
texts and reported as texts/second (a first run over N new texts adds about N / that rate).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.config import PROJECT_ROOT, Settings
from bot.pseudonyms import load_salt
from bot.question_log import QuestionLog

TOPICS = ["positional encodings in transformers", "dropout at test time", "batch normalization at inference",
          "learning rate warmup", "weight decay versus L2 regularization", "vanishing gradients in RNNs",
          "LSTM forget gates", "attention heads", "residual connections", "layer normalization",
          "gradient clipping", "Xavier initialization", "He initialization", "early stopping",
          "data augmentation for images", "transfer learning and fine-tuning", "contrastive learning",
          "variational autoencoders", "GAN mode collapse", "diffusion models", "beam search decoding",
          "word2vec negative sampling", "tokenization with BPE", "convolution padding and stride",
          "max pooling versus average pooling", "receptive fields", "dilated convolutions",
          "1x1 convolutions", "depthwise separable convolutions", "U-Net skip connections",
          "object detection anchors", "non-maximum suppression", "IoU loss", "focal loss",
          "class imbalance", "label noise", "mixed precision training", "gradient accumulation",
          "distributed data parallel", "the lottery ticket hypothesis", "pruning networks",
          "knowledge distillation", "quantization", "the bias-variance tradeoff", "double descent",
          "cross-validation for neural nets", "hyperparameter search", "Bayesian optimization",
          "Monte Carlo dropout", "ensembles", "graph neural networks", "message passing",
          "reinforcement learning policy gradients", "Q-learning", "the REINFORCE baseline",
          "actor-critic methods", "reward shaping", "teacher forcing", "exposure bias",
          "perplexity of language models"]
FORMS = ["what is {t}?", "can someone explain {t}", "how does {t} work in practice",
         "i don't get {t}, help", "why do we use {t}", "is {t} covered in the exam?",
         "what's the intuition behind {t}", "when should i care about {t}", "{t} - any good resources?",
         "confused about {t} in lecture 7"]
START = datetime(2026, 9, 1, tzinfo=UTC)


def fill_log(settings: Settings, rows: int, distinct: int, seed: int = 0) -> dict[str, float]:
    """Write `rows` declined questions (over `distinct` texts) and cache their vectors; returns timings."""
    from bot.search.embeddings import shared_model

    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    model = shared_model()
    model.adopt(settings)
    base = [form.format(t=topic) for topic in TOPICS for form in FORMS]
    started = time.perf_counter()
    base_vectors = model.encode_array(base)
    embed_base = time.perf_counter() - started
    texts, vectors = [], {}
    for i in range(distinct):
        k = i % len(base)
        text = base[k] if i < len(base) else f"{base[k]} (variant {i})"
        vector = base_vectors[k] + noise.normal(0, 0.013, base_vectors.shape[1]).astype(np.float32)
        vectors[text] = vector / np.linalg.norm(vector)
        texts.append(text)
    log = QuestionLog(settings.question_log_db, load_salt(settings.data_dir))
    log.store_vectors(vectors)
    conn = log._open()  # one transaction for 50,000 rows: `record` opens a connection per row, as a chat does
    with conn:
        conn.executemany(
            "INSERT INTO questions (created_at, surface, user_hash, question, answered, confidence, entries,"
            " latency_ms)"
            " VALUES (?, ?, ?, ?, 0, ?, '[]', ?)",
            [((START + timedelta(minutes=rng.randrange(90 * 24 * 60))).isoformat(timespec="seconds"),
              rng.choice(("web", "discord", "cli")), log.pseudonym(f"student-{rng.randrange(2000)}"),
              rng.choice(texts), round(rng.random() * 0.3, 4), 20.0) for _ in range(rows)])
    conn.close()
    sample = [f"{t} (cold {i})" for i, t in enumerate(rng.sample(texts, min(1000, len(texts))))]
    started = time.perf_counter()
    model.encode_array(sample)
    cold = time.perf_counter() - started
    return {"embed_base_s": embed_base, "cold_texts_per_s": len(sample) / cold}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--distinct", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tabot-bench-gaps-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        # The ONNX MiniLM export is made once per data dir; reuse the project's if there is one.
        project_models = PROJECT_ROOT / ".tabot" / "models"
        if project_models.is_dir():
            os.symlink(project_models, Path(tmp) / "models")
        filled = fill_log(settings, args.rows, args.distinct)
        env = {**os.environ, "TABOT_DATA_DIR": tmp}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bot", "gaps", "--json"], env=env, capture_output=True,
                              text=True, check=True, cwd=PROJECT_ROOT)
        wall = time.perf_counter() - started
        out = json.loads(done.stdout)
    result = {"rows": args.rows, "distinct": out["distinct"], "topics": len(out["topics"]),
              "embedded_in_run": out["embedded"], "command_s": round(wall, 2),
              "inside_s": out["seconds"], "cold_embedding_texts_per_s": round(filled["cold_texts_per_s"], 1),
              "top_topic": out["topics"][0]["representatives"][0] if out["topics"] else None,
              "top_students": out["topics"][0]["students"] if out["topics"] else 0}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"tabot gaps --json over {args.rows:,} logged questions ({out['distinct']:,} distinct, vectors cached): "
              f"{wall:.1f} s end to end (inside: {result['inside_s']}); {result['topics']} topics; "
              f"cold embedding {result['cold_embedding_texts_per_s']} texts/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
