"""The course or the post read otherwise, each in its own temporary index (a seam swapped for the
length of one reading).

- `chunks`: windows of two or three consecutive answer sentences as more chunks, the whole answer as
  one more chunk, or no question-and-answer chunk.
- `lexical-weight`: how often the ranking's first entry, and the entry the bot answers from (the most
  confident of three candidates under today's calibration), is an expected one.
- `synonyms`: a list of term pairs (`eval/datasets/synonyms.tsv`, written by a helper who saw no part
  of the project) added to the abbreviations' glossary, so a post's "relative entropy" is read as the
  "KL divergence" the answers write; optionally without the pairs whose term has a second meaning, or
  only towards a form the TA answers themselves (question and answer) write.
- `code`: the words of the code a post pastes (fenced blocks and the code lines the prose leaves out,
  `bot.search.reading.prose`), its identifiers split into words, read before the prose: all of them, or only
  those the TA answers use (question, answer, aliases). A TA reads the `np.log2` above "will we end up
  with the same weights?".
"""

from __future__ import annotations

import csv
import dataclasses
import keyword
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

import numpy as np

from eval.calibrate.rows import course_retriever
from eval.datasets import DATASETS_DIR
from eval.variants.scoring import read_both

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.knowledge import Entry
    from bot.search.chunks import Chunk
    from bot.search.reading.focus import Post


def chunkings() -> dict[str, Callable[[Entry], list[Chunk]]]:
    """The other ways `chunks` cuts an entry, each built on today's `entry_chunks` (taken here, before any
    of them stands in for it)."""
    from bot.search.chunks import Chunk, entry_chunks

    def windows(width: int) -> Callable[[Entry], list[Chunk]]:
        def chunks(entry: Entry) -> list[Chunk]:
            said = entry.sentences
            runs = [" ".join(said[i:i + width]) for i in range(len(said) - width + 1)] if len(said) > width else []
            return entry_chunks(entry) + [Chunk(f"{entry.id}::window{width}::{i}", entry.id, "sentence", text)
                                          for i, text in enumerate(runs)]
        return chunks

    return {
        "two-sentence windows": windows(2),
        "three-sentence windows": windows(3),
        "the whole answer as a chunk": lambda entry: [*entry_chunks(entry), Chunk(f"{entry.id}::answer", entry.id,
                                                                                  "sentence", entry.answer)],
        "no question-and-answer chunk": lambda entry: [c for c in entry_chunks(entry) if c.kind != "qa"],
    }


@contextmanager
def glossary(pairs: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """The abbreviations' glossary with `pairs` added, for the length of the block. The directions are
    worked out once per knowledge base and cached (`bot.search.reading.abbreviations._read_entries`), so the
    cache is emptied on the way in and out."""
    from bot.search.reading import abbreviations

    abbreviations._read_entries.cache_clear()
    try:
        with mock.patch.object(abbreviations, "GLOSSARY", abbreviations.GLOSSARY + pairs):
            yield
    finally:
        abbreviations._read_entries.cache_clear()


SYNONYMS_FILE = DATASETS_DIR / "synonyms.tsv"


def synonym_pairs(path: Path, without_second_meanings: bool = False) -> tuple[tuple[str, str], ...]:
    """The (term, canonical) pairs of a synonyms file (tab-separated: term, canonical, source,
    second_meaning); without the pairs whose term has a second meaning, if asked."""
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple((row["term"].strip(), row["canonical"].strip()) for row in csv.DictReader(handle, delimiter="\t")
                     if not (without_second_meanings and (row["second_meaning"] or "").strip()))


def towards_the_answers(pairs: tuple[tuple[str, str], ...], entries: list[Entry]) -> tuple[tuple[str, str], ...]:
    """The pairs the glossary's rule would read towards a form the TA answers (question and answer) write,
    not only their aliases, tags or near misses."""
    from bot.search.reading import abbreviations

    with mock.patch.object(abbreviations, "GLOSSARY", pairs):
        readings = abbreviations.Abbreviations.of(text for entry in entries for text in (entry.question, entry.answer))
    kept = {(reading.typed, reading.used) for reading in readings.readings}
    return tuple(pair for pair in pairs if pair in kept or pair[::-1] in kept)


def ranking_firsts(settings: Settings, weights: tuple[float, ...]) -> None:
    """For each lexical weight: of the in-scope calibration and development rows, how many the ranking's
    first entry is right for, and how many the entry the bot answers from (its most confident candidate,
    under today's calibration) is."""
    from bot.search import retrieve

    calibration = retrieve.Calibration.load()
    with tempfile.TemporaryDirectory(prefix="tabot-variant-") as scratch:
        in_scratch = settings.with_(data_dir=Path(scratch))
        retriever = course_retriever(in_scratch)  # the weight orders the candidates; the index does not change
        by_weight = {}
        for weight in weights:
            with mock.patch.object(retrieve, "LEXICAL_WEIGHT", weight):
                by_weight[weight] = read_both(in_scratch, retriever)
    for weight, (rows, development) in by_weight.items():
        for name, read in (("calibration", rows), ("development", development)):
            in_scope = read.labels == 1
            first = read.candidates.right[:, 0]
            confidence = np.apply_along_axis(lambda f: calibration.confidence(*f), 2, read.candidates.features)
            answers_from = read.candidates.right[np.arange(len(read.labels)), confidence.argmax(axis=1)]
            print(f"lexical weight {weight:<5g} {name:12} in scope {int(in_scope.sum())}: ranking's first right "
                  f"{int(np.sum(in_scope & first))}, "
                  f"the entry answered from right {int(np.sum(in_scope & answers_from))}")


# Words of code that name no idea: Python's keywords and builtins, array plumbing, a traceback's paths.
CODE_PLUMBING = frozenset(keyword.kwlist) | {
    "self", "np", "torch", "nn", "print", "range", "len", "shape", "numpy", "true", "false", "none", "int",
    "float", "str", "list", "dict", "tensor", "item", "append", "zeros", "ones", "size", "dim", "axis", "array",
    "data", "model", "args", "kwargs", "init", "super", "forward", "file", "line", "site", "packages", "lib",
    "python", "usr", "local", "home", "py", "cuda", "device", "cpu", "dtype", "float32", "traceback", "recent",
    "call", "last", "module", "main", "most", "the", "and", "for", "out", "var", "val", "tmp"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An identifier's words: snake_case and camelCase apart ("nll_loss", "CrossEntropyLoss").
_IDENTIFIER_PARTS = re.compile(r"_+|(?<=[a-z0-9])(?=[A-Z])")
# At most this many code words are read, the first ones: a pasted file is not a question.
CODE_WORDS = 16


def code_words(text: str) -> list[str]:
    """The words of the code `text` pastes, in order and once each: fenced blocks and the lines the prose
    leaves out as code (`bot.search.reading.prose`), identifiers split into words, lower-cased, without
    CODE_PLUMBING and words of fewer than three letters unless they hold a digit ("log2")."""
    from bot.search.reading.prose import _FENCE, _is_code  # the prose's own reading of what is code

    code = [match.group(0).strip("`~") for match in _FENCE.finditer(text)]
    code += [line for line in _FENCE.sub("\n", text).splitlines() if _is_code(line)]
    words = [part.lower() for identifier in _IDENTIFIER.findall("\n".join(code))
             for part in _IDENTIFIER_PARTS.split(identifier)]
    return list(dict.fromkeys(word for word in words if (len(word) >= 3 or any(c.isdigit() for c in word))
                              and not word.isdigit() and word not in CODE_PLUMBING))


def with_code_words(post: Post, terms: frozenset[str] | None = None) -> Post:
    """The post with its code's words (`code_words`, at most CODE_WORDS) read as a sentence before its
    prose; with `terms`, only the words whose stem is one of them (the TA answers' terms). The focus is
    unchanged, and still a span of the prose."""
    from bot.search.lexical import tokenize

    words = code_words(post.text)
    if terms is not None:
        words = [word for word, stems in zip(words, tokenize(words), strict=True) if set(stems) & terms]
    return dataclasses.replace(post, prose=f"{' '.join(words[:CODE_WORDS])}. {post.prose}") if words else post


@contextmanager
def code_read_as_words(terms: frozenset[str] | None = None) -> Iterator[None]:
    """Every post the retriever reads, read `with_code_words`, for the length of the block."""
    from bot.search.retrieve import HybridRetriever

    read_aside = HybridRetriever._read_aside
    with mock.patch.object(HybridRetriever, "_read_aside",
                           lambda retriever, post: with_code_words(read_aside(retriever, post), terms)):
        yield


def answers_terms(entries: list[Entry]) -> frozenset[str]:
    """The stemmed terms of the TA answers' questions, answers and aliases."""
    from bot.search.lexical import tokenize

    return frozenset(term for terms in tokenize([text for entry in entries
                                                  for text in (entry.question, entry.answer, *entry.aliases)])
                     for term in terms)
