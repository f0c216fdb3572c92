"""Does what a student writes around a question change whether the bot answers it? The abstention model under context.

    python -m eval.context_check

Real posts open with who the student is and what they work on ("I'm a civil engineer taking my first
DL course; my capstone uses 5000 images I collected") and end with whatever else is on their mind
("Also, is the midterm open book?"). A TA answers the question the same either way, so the bot should
too: issue 11 asks for features that mean the same for a 10-word question and a 300-word post. This
reads every calibration question three more ways (`eval/datasets/context.json`, written for this
project): after one to three sentences about the student, after one to three about their setup
(about none of the TA answers' topics), and followed by a side question about the course's logistics.
It scores the held-out rows of the calibration cross-validation (`eval.calibrate.cross_validation.cross_validate`) as
asked plainly and as read each other way, by the model and threshold fitted on the plain rows of the
other folds. The closer the rates with context are to the plain ones, the less the model punishes what
surrounds a question.

With `--noise` it reads them instead with what a post copied as it is carries besides the student's
words (`eval/datasets/noise.json`: page furniture, a pasted training log or traceback, an environment
block, an issue form, an image line, an edit, a signature), one shape at a time. The reader
(`bot.search.reading.focus`) is meant to set all of it aside, so a shape that moves the rates is one it misses.

With `--where` it reads them instead with where they come from named in their last question: a
framework ("... in PyTorch?"), a part of the course ("... in lecture 5?"), their own work, data or
source, or themselves ("... as a beginner?"), as students write them (`eval/datasets/where_phrases.json`:
sets written while the reader was built, and sets held out from it). A TA answers the idea either
way; the reader (`bot.search.reading.where_asked`) is meant to set them aside.
With `--typos RATE` it reads them instead misspelled, twice: that share of their words of five letters
or more mistyped by a seeded generator (one typing error each: a letter left out, doubled, hit beside
its key, or two swapped), and that share of the words `eval/datasets/real_misspellings.tsv` lists typed
as one of the ways real posts misspelled them. The reader (`bot.search.reading.spelling`) is meant to read
them as meant.

With `--abbreviated RATE` it reads them instead with that share of the terms `eval/datasets/
abbreviated_forms.tsv` lists shortened as students shorten them ("CE", "val acc", "grads", "w/"; the
forms a helper used most after reading real posts, written down without seeing the reader's glossary).
The reader (`bot.search.reading.abbreviations`) is meant to read them in the knowledge base's words.

With `--closers` it reads them instead ended by a closing line that asks nothing of its own ("Any
ideas?", "What am I missing?"), directly or after a sentence about the student's situation ("I've been
stuck on this for two days."), as real posts end (`eval/datasets/closers.json`, written by a helper
who saw neither the reader nor any eval row). The question is no longer the post's last; the reader
(`bot.search.reading.focus`) is meant to find it.

Calibration rows only: it is a development measure, run before anything is chosen.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from eval.calibrate.cross_validation import cross_validate
from eval.calibrate.rows import calibration_rows
from eval.datasets import DATASETS_DIR

CONTEXT_FILE = DATASETS_DIR / "context.json"
NOISE_FILE = DATASETS_DIR / "noise.json"
MISSPELLINGS_FILE = DATASETS_DIR / "real_misspellings.tsv"
ABBREVIATED_FILE = DATASETS_DIR / "abbreviated_forms.tsv"
NOISE_PLACES = ("top", "bottom", "around")


def load_contexts(path: Path = CONTEXT_FILE) -> dict[str, dict[str, list[str]]]:
    """{"before": {set name: sentences}, "after": {...}}: where each set's sentences go. The held-out
    side questions (`held_out_after`, `held_out_after_2`, each with the address its shape follows) go
    after, named "held out: ..." and "held out 2: ..."."""
    data = json.loads(path.read_text(encoding="utf-8"))
    contexts = {place: {name: list(sentences) for name, sentences in data[place].items()}
                for place in ("before", "after")}
    for key in sorted(key for key in data if key.startswith("held_out_after")):
        label = "held out" + key.removeprefix("held_out_after").replace("_", " ")
        contexts["after"].update({f"{label}: {name}": [row["text"] for row in rows]
                                  for name, rows in data[key].items() if not name.startswith("_")})
    return contexts


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


def load_noise(path: Path = NOISE_FILE) -> dict[str, tuple[str, list[str]]]:
    """{shape: (place, blocks)}: each shape's blocks and where they go (`NOISE_PLACES`)."""
    data = json.loads(path.read_text())
    shapes = {name: (spec["place"], list(spec["blocks"])) for name, spec in data.items() if not name.startswith("_")}
    for name, (place, blocks) in shapes.items():
        if place not in NOISE_PLACES or not blocks:
            raise ValueError(f"{path}: shape {name!r} needs blocks and a place among {NOISE_PLACES}")
        if place == "around" and not all("{question}" in block for block in blocks):
            raise ValueError(f"{path}: every block of {name!r} needs a {{question}} to put the post in")
    return shapes


# A post opens with its title when its first paragraph is one line of at most this many words.
TITLE_WORDS = 20


def with_noise(blocks: list[str], place: str, seed: int = 0) -> Callable[[str], str]:
    """A rewrite that puts one of `blocks`, drawn by a seeded generator, at the top of the post (`top`:
    under its title line if it opens with one, where a page puts its header), below it (`bottom`), or
    around it (`around`: the block's {question} is the post)."""
    rng = random.Random(seed)

    def rewrite(question: str) -> str:
        block = rng.choice(blocks)
        if place == "around":
            return block.replace("{question}", question)
        if place == "bottom":
            return question + "\n\n" + block
        first, _, body = question.partition("\n\n")
        if body and "\n" not in first.strip() and len(first.split()) <= TITLE_WORDS:
            return first + "\n\n" + block + "\n\n" + body
        return block + "\n\n" + question

    return rewrite


# Each letter's neighbours on a QWERTY keyboard: a finger that slips hits one of them.
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    letter: "".join(row[j] for r, row in enumerate(_KEYBOARD_ROWS) for j in range(len(row))
                    if abs(r - i) <= 1 and abs(j - (k + (i - r) * 0.5)) <= 1 and row[j] != letter)
    for i, keys in enumerate(_KEYBOARD_ROWS) for k, letter in enumerate(keys)}
_TYPED_WORD = re.compile(r"(?<![\w.-])[A-Za-z]{5,}(?![\w-])")


def misspell(word: str, rng: random.Random) -> str:
    """`word` with one typing error (Damerau's four kinds, one each in four): a letter left out,
    doubled, hit beside its key, or two letters swapped; never the first letter, which people
    rarely get wrong."""
    i = rng.randrange(1, len(word))
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        neighbours = _NEIGHBOURS.get(word[i].lower())
        return word[:i] + rng.choice(neighbours) + word[i + 1:] if neighbours else word
    j = i if i + 1 < len(word) else i - 1  # letters j and j + 1 swap; j is never the first letter
    return word[:j] + word[j + 1] + word[j] + word[j + 2:] if j >= 1 else word


def with_typos(rate: float, seed: int = 0) -> Callable[[str], str]:
    """A rewrite that misspells each word of five letters or more with probability `rate`."""
    rng = random.Random(seed)

    def rewrite(question: str) -> str:
        return _TYPED_WORD.sub(lambda m: misspell(m.group(), rng) if rng.random() < rate else m.group(), question)

    return rewrite


def load_misspellings(path: Path = MISSPELLINGS_FILE, meant: str = "intended",
                      typed: str = "misspelled") -> dict[str, list[str]]:
    """{word as meant: its misspellings seen in real posts} (one row each, with the post's address); with
    `meant="long", typed="short"`, {term: how students shorten it} (`abbreviated_forms.tsv`)."""
    found: dict[str, list[str]] = {}
    with path.open(newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            found.setdefault(row[meant].lower(), []).append(row[typed])
    return found


def with_misspellings(misspellings: dict[str, list[str]], rate: float, seed: int = 0) -> Callable[[str], str]:
    """A rewrite that types each word of `misspellings` (a word or two, as meant) as one of the ways real
    posts misspelled it, with probability `rate`."""
    rng = random.Random(seed)
    meant = re.compile(r"\b(" + "|".join(sorted(map(re.escape, misspellings), key=len, reverse=True)) + r")\b",
                       re.IGNORECASE)

    def rewrite(question: str) -> str:
        return meant.sub(lambda m: rng.choice(misspellings[m.group().lower()]) if rng.random() < rate else m.group(),
                         question)

    return rewrite


CLOSERS_FILE = DATASETS_DIR / "closers.json"


def load_closers(path: Path = CLOSERS_FILE) -> tuple[list[str], list[str]]:
    """(details, closers) of `closers.json`: sentences about the student's situation that follow a
    question, and closing lines that ask nothing of their own (each with the address its shape follows)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [row["text"] for row in data["details"]], [row["text"] for row in data["closers"]]


def with_closer(closers: list[str], details: list[str] | None = None, seed: int = 0) -> Callable[[str], str]:
    """A rewrite that ends the post with one of `closers` ("Any ideas?"), after one of `details` ("I've
    been stuck on this for two days.") when given, drawn by a seeded generator: the question is then
    no longer the post's last sentence, and the last one names nothing."""
    rng = random.Random(seed)

    def rewrite(question: str) -> str:
        detail = f" {rng.choice(details)}" if details else ""
        return f"{question.rstrip()}{detail} {rng.choice(closers)}"

    return rewrite


WHERE_FILE = DATASETS_DIR / "where_phrases.json"


def load_where_phrases(path: Path = WHERE_FILE) -> dict[str, list[str]]:
    """The phrase sets of `where_phrases.json` by name, the held-out ones named "held out: ..." and
    "held out 2: ..." (`held_out`, `held_out_2`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    sets = dict(data["development"])
    for key in sorted(key for key in data if key.startswith("held_out")):
        label = key.replace("_", " ")
        sets.update({f"{label}: {name}": [row["phrase"] for row in rows] for name, rows in data[key].items()})
    return sets


def with_where_named(phrases: list[str], seed: int = 0) -> Callable[[str], str]:
    """A rewrite that puts one of `phrases`, drawn by a seeded generator, before the post's last
    question mark (a post that asks nothing out loud is left as it is)."""
    rng = random.Random(seed)

    def rewrite(question: str) -> str:
        end = question.rfind("?")
        return question if end < 0 else f"{question[:end].rstrip()} {rng.choice(phrases)}{question[end:]}"

    return rewrite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.context_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--contexts", type=Path, default=CONTEXT_FILE)
    parser.add_argument("--noise", nargs="?", type=Path, const=NOISE_FILE, default=None,
                        help=f"read the questions with copied-page noise instead (default file: {NOISE_FILE.name})")
    parser.add_argument("--where", action="store_true",
                        help="read the questions with where they come from (a framework, a part of the course, "
                             "the student's setting) named in their last question instead")
    parser.add_argument("--typos", type=float, default=None, metavar="RATE",
                        help="read the questions with this share of their long words misspelled instead")
    parser.add_argument("--abbreviated", type=float, default=None, metavar="RATE",
                        help=f"read the questions with this share of the terms {ABBREVIATED_FILE.name} lists "
                             "shortened as students shorten them instead")
    parser.add_argument("--closers", nargs="?", type=Path, const=CLOSERS_FILE, default=None,
                        help="read the questions ended by a vague closing line instead, with and without a sentence "
                             f"about the student's situation before it (default file: {CLOSERS_FILE.name})")
    args = parser.parse_args(argv)
    from bot.config import Settings  # the bot only when rows are made, as in eval.calibrate
    from bot.search.retrieve import Calibration

    settings = Settings.from_env()
    if args.data_dir:
        settings = settings.with_(data_dir=args.data_dir)
    plain, retriever = calibration_rows(settings)
    columns = tuple(range(len(Calibration.FEATURES)))
    if args.typos is not None:
        rewrites = {f"typos {args.typos:g}": with_typos(args.typos),
                    f"real misspellings {args.typos:g}": with_misspellings(load_misspellings(), args.typos)}
    elif args.abbreviated is not None:
        shortened = load_misspellings(ABBREVIATED_FILE, meant="long", typed="short")
        rewrites = {f"abbreviated {args.abbreviated:g}": with_misspellings(shortened, args.abbreviated)}
    elif args.closers:
        details, closers = load_closers(args.closers)
        rewrites = {"a closing line": with_closer(closers),
                    "a detail, then a closing line": with_closer(closers, details)}
    elif args.where:
        rewrites = {name: with_where_named(phrases) for name, phrases in load_where_phrases().items()}
    elif args.noise:
        rewrites = {name: with_noise(blocks, place) for name, (place, blocks) in load_noise(args.noise).items()}
    else:
        rewrites = {f"{name} {place}": with_context(sentences, after=place == "after")
                    for place, sets in load_contexts(args.contexts).items() for name, sentences in sets.items()}
    readings = {"asked plainly": None}
    for reading, rewrite in rewrites.items():
        readings[reading] = calibration_rows(settings, rewrite, retriever)[0].candidates
    for subset, scored in plain.subsets():
        for reading, evaluated in readings.items():
            rates = cross_validate(plain.features, plain.labels, plain.right, plain.groups, columns, scored,
                                   candidates=plain.candidates, evaluated=evaluated)
            print(f"{subset:22} {reading:38} answered and right {rates['answered_right']:.3f}   "
                  f"out of scope declined {rates['declined_out_of_scope']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
