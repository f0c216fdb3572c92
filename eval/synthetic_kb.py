"""A synthetic knowledge base of valid entries, to measure tabot at a course's scale (thousands of
TA answers) when the committed one has nine.

    python -m eval.synthetic_kb --entries 2000 --out /tmp/kb     # 2,000 synthetic + the 9 real entries

Entries are shaped like the real ones: a student question, a few staff aliases, tags, a TA answer of
three to six sentences, and one or two claims that are verbatim spans of it (no demo, so no demo
module is needed). The text is drawn from deep-learning vocabulary by seeded templates, so every run
with the same seed writes the same files, and every file passes `bot.knowledge.load_entries`. By
default the nine real entries are copied in too, so the committed questions still have their answers
among the thousands.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from bot.config import Settings

CONCEPTS = (
    "batch normalization", "layer normalization", "dropout", "weight decay", "the learning rate", "momentum",
    "the Adam optimizer", "gradient clipping", "early stopping", "data augmentation", "label smoothing",
    "the ReLU activation", "the GELU activation", "the tanh activation", "residual connections",
    "attention heads", "positional encodings", "the softmax temperature", "beam search", "teacher forcing",
    "max pooling", "strided convolutions", "dilated convolutions", "the receptive field", "skip connections",
    "the vanishing gradient", "exploding gradients", "weight initialization", "Xavier initialization",
    "He initialization", "the validation split", "cross-validation", "the confusion matrix", "precision",
    "recall", "the F1 score", "the ROC curve", "class imbalance", "focal loss", "the hinge loss",
    "mean squared error", "the KL term", "the evidence lower bound", "the reparameterization trick",
    "the latent space", "mode collapse", "the discriminator", "the generator", "the replay buffer",
    "the discount factor", "policy gradients", "the value function", "word embeddings", "tokenization",
    "the vocabulary size", "gradient accumulation", "mixed precision", "the batch size", "warm-up steps",
    "cosine annealing", "the optimizer state", "model ensembling", "knowledge distillation", "pruning",
    "quantization", "transfer learning", "fine-tuning", "frozen layers", "the embedding dimension",
)
EFFECTS = (
    "reduces overfitting", "speeds up convergence", "stabilises training", "changes the effective step size",
    "makes the loss surface smoother", "adds noise to the gradient estimate", "changes the scale of activations",
    "biases the estimate towards zero", "needs more memory", "lowers the variance of the updates",
    "makes the model less sensitive to initialization", "interacts with the batch size",
    "matters more for deep networks", "rarely helps on small datasets", "shifts the decision threshold",
)
SETTINGS = (
    "on the homework's MNIST model", "in a transformer", "in a small CNN", "with very small batches",
    "at test time", "during the first epochs", "when the data is noisy", "in a recurrent network",
    "for the final project", "with a pretrained backbone", "on imbalanced classes", "on the quiz question",
)
OPENERS = ("Why does", "How does", "When does", "Is it true that", "Does", "In what sense does")
ALIAS_FORMS = ("{a} vs {b}", "does {a} help {s}", "{a} {e}?", "why {a} {s}", "{a} and {b} together",
               "is {a} needed {s}", "what {a} does {s}")
SENTENCES = (
    "In practice, {a} {e} {s}.",
    "The short answer is that {a} {e}, but only {s}.",
    "Think of {a} as a knob: turning it up by {k}x {e}.",
    "Compared with {b}, {a} {e} {s}.",
    "A common mistake is to assume that {a} always {e}; on the homework it moved accuracy by {p} points.",
    "If you combine {a} with {b}, remember that {b} {f}.",
    "The lecture {n} notes show that {a} {e} {s}, which is why we used it in assignment {m}.",
    "You can check this yourself: train for {n} epochs once with {a} and once without, and compare the curves.",
    "This is also why {b} {f} {s}.",
    "So for the exam, the point to remember is that {a} {e}, as in question {m}.",
    "With a learning rate of 0.00{m} and batches of {k}0 the difference was about {p} % on the validation set.",
)


def _entry(number: int, rng: random.Random) -> tuple[str, str]:
    """(entry id, file text) of synthetic entry `number`."""
    a, b = rng.sample(CONCEPTS, 2)
    e, f = rng.sample(EFFECTS, 2)
    s = rng.choice(SETTINGS)
    words = {"a": a, "b": b, "e": e, "f": f, "s": s, "k": rng.randint(2, 9), "m": rng.randint(1, 9),
             "n": rng.randint(3, 40), "p": rng.randint(1, 15)}
    slug = "-".join(w for w in a.lower().replace("-", " ").split() if w.isalpha() and w != "the")[:40].strip("-")
    entry_id = f"syn-{number:05d}-{slug}"
    question = f"{rng.choice(OPENERS)} {a} {rng.choice(('really ', ''))}{e} {s}? I compared it with {b}."
    aliases = sorted({form.format(**words) for form in rng.sample(ALIAS_FORMS, rng.randint(2, 3))})
    sentences = [template.format(**words) for template in rng.sample(SENTENCES, rng.randint(3, 6))]
    answer = " ".join(sentences)
    claims = [sentences[0]] + ([sentences[-1]] if len(sentences) > 3 and rng.random() < 0.5 else [])
    lines = ["---", f"id: {entry_id}", f"question: {_quoted(question)}", "source: synthetic (eval/synthetic_kb.py)",
             f"tags: [{', '.join(sorted({a.split()[-1], b.split()[-1]}))}]", "aliases:"]
    lines += [f"  - {_quoted(alias)}" for alias in aliases]
    lines.append("claims:")
    lines += [f"  - text: {_quoted(claim)}\n    demo: none" for claim in claims]
    lines += ["---", answer, ""]
    return entry_id, "\n".join(lines)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_kb(directory: Path, entries: int, seed: int = 0, with_real: bool = True) -> int:
    """Write `entries` synthetic entries (plus the real ones unless told not to) into `directory`;
    returns how many entry files it holds."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for number in range(1, entries + 1):
        entry_id, text = _entry(number, rng)
        (directory / f"{entry_id}.md").write_text(text, encoding="utf-8")
    if with_real:
        for path in sorted(Settings().knowledge_dir.glob("*.md")):
            if path.name.lower() != "readme.md":
                shutil.copyfile(path, directory / path.name)
    return sum(1 for p in directory.glob("*.md") if p.name.lower() != "readme.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.synthetic_kb", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-real", action="store_true", help="leave out the nine real entries")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    count = write_kb(args.out, args.entries, args.seed, with_real=not args.no_real)
    print(f"wrote {count} entries to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
