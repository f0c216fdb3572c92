"""Does what a student writes around a question change whether the bot answers it? The abstention model under context.

    python -m eval.context_check

Real posts open with who the student is and what they work on ("I'm a civil engineer taking my first
DL course; my capstone uses 5000 images I collected") and end with whatever else is on their mind
("Also, is the midterm open book?"). A TA answers the question the same either way, so the bot should
too: issue 11 asks for features that mean the same for a 10-word question and a 300-word post. This
reads every calibration question three more ways (`eval/datasets/context.json`, written for this
project): after one to three sentences about the student, after one to three about their setup
(about none of the TA answers' topics), and followed by a side question about the course's logistics.
It scores the held-out rows of the calibration cross-validation (`eval.calibrate.cross_validate`) as
asked plainly and as read each other way, by the model and threshold fitted on the plain rows of the
other folds. The closer the rates with context are to the plain ones, the less the model punishes what
surrounds a question.

Calibration rows only: it is a development measure, run before anything is chosen.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

from eval.calibrate import calibration_rows, cross_validate
from eval.datasets import DATASETS_DIR

CONTEXT_FILE = DATASETS_DIR / "context.json"


def load_contexts(path: Path = CONTEXT_FILE) -> dict[str, dict[str, list[str]]]:
    """{"before": {set name: sentences}, "after": {...}}: where each set's sentences go."""
    data = json.loads(path.read_text())
    return {place: {name: list(sentences) for name, sentences in data[place].items()} for place in ("before", "after")}


def with_context(sentences: list[str], seed: int = 0, after: bool = False) -> Callable[[str], str]:
    """A rewrite that puts one to three of `sentences` and a blank line before a question, or (`after`)
    one of them after it, drawn by a seeded generator so every run and every feature set reads the
    same posts."""
    rng = random.Random(seed)

    def rewrite(question: str) -> str:
        if after:
            return question + "\n\n" + rng.choice(sentences)
        return " ".join(rng.sample(sentences, rng.randint(1, 3))) + "\n\n" + question

    return rewrite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.context_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--contexts", type=Path, default=CONTEXT_FILE)
    args = parser.parse_args(argv)
    from bot.config import Settings  # the bot only when rows are made, as in eval.calibrate
    from bot.search.retrieve import Calibration

    settings = Settings.from_env()
    if args.data_dir:
        settings = settings.with_(data_dir=args.data_dir)
    plain, retriever = calibration_rows(settings)
    columns = tuple(range(len(Calibration.FEATURES)))
    readings = {"asked plainly": None}
    for place, sets in load_contexts(args.contexts).items():
        for name, sentences in sets.items():
            rewrite = with_context(sentences, after=place == "after")
            readings[f"{name} {place}"] = calibration_rows(settings, rewrite, retriever)[0].candidates
    for subset, scored in plain.subsets():
        for reading, evaluated in readings.items():
            rates = cross_validate(plain.features, plain.labels, plain.right, plain.groups, columns, scored,
                                   candidates=plain.candidates, evaluated=evaluated)
            print(f"{subset:22} {reading:21} answered and right {rates['answered_right']:.3f}   "
                  f"out of scope declined {rates['declined_out_of_scope']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
