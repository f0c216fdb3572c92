"""A field's abbreviations read in the knowledge base's words: "CE loss" as the TA answers write it.

Students abbreviate what they type often: "is CE just NLL after a log softmax?", "my val acc is
stuck", "why reverse topo sort for backprop?". A TA reads them without a pause; MiniLM does not:
"what is CE loss" lies 0.51 from "what is cross-entropy loss" by cosine, "acc" 0.22 from
"accuracy", "BPC" 0.08 from "bits per character" (the same "what is ..." frame on both sides), and
BM25 finds no shared term at all. With the terms of every calibration row shortened as a helper who
had read real posts shortened them (`python -m eval.context_check --abbreviated 1`), held-out answered
and right fell from 0.964 to 0.931; with this reading, from 0.970 to 0.963.

So each pair of `GLOSSARY` (the field's common abbreviations, not this course's topics) is read in
the form the knowledge base uses: when its entries (questions, answers, aliases, tags, near misses)
write one form at least `PREFERRED_RATIO` times as often as the other, and at least once, a post's
other form is read as that one. The answers write "cross-entropy" 57 times and "CE" 3, so "CE" is
read as "cross-entropy"; they write "KL" 56 times and "Kullback-Leibler" never, so that is read as
"KL". A pair the knowledge base uses both ways about as often ("NLL" and "negative log-likelihood",
"LR" and "learning rate") or not at all is left as typed: either form already meets its own. When
staff add answers, the directions are worked out again at the next index.

The staff's lines are read the same way (`Abbreviations.searched`, `as_searched`): aliases and near
misses are written as students write ("binary ce", "the kld term"), and a post read as "KL divergence"
no longer agreed word by word with a near miss that says "kld". The index holds every entry as
searched; students are shown, and the support check reads, the entry as written.

Left out on purpose: abbreviations with a common second meaning in these posts ("prob" is also a
homework problem, "dist" a distance, "MAP" a metric and a word, "pdf" a file), and any name inside
code (`nn.CrossEntropyLoss`, `ce_loss`, a backticked `CE`: a word joined to letters, digits,
underscores, dots or backticks is not read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.knowledge import Entry
from bot.search.reading.focus import Post
from bot.search.reading.held_words import HeldWords

# (short form, long form): how students shorten a term, and the term. Each is matched as whole words,
# any case, a hyphen or space between a long form's words, and an "s" after either for a plural.
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("BCE", "binary cross-entropy"),
    ("CCE", "categorical cross-entropy"),
    ("CE", "cross-entropy"),
    ("xent", "cross-entropy"),
    ("NLL", "negative log-likelihood"),
    ("KLD", "KL divergence"),
    ("KL", "Kullback-Leibler"),
    ("MLE", "maximum likelihood estimation"),
    ("MSE", "mean squared error"),
    ("LR", "learning rate"),
    ("SGD", "stochastic gradient descent"),
    ("GD", "gradient descent"),
    ("BN", "batch norm"),
    ("batch norm", "batch normalization"),
    ("BFS", "breadth-first search"),
    ("DFS", "depth-first search"),
    ("DAG", "directed acyclic graph"),
    ("topo sort", "topological sort"),
    ("topo order", "topological order"),
    ("FD", "finite differences"),
    ("autodiff", "automatic differentiation"),
    ("backprop", "backpropagation"),
    ("BPC", "bits per character"),
    ("CNN", "convolutional neural network"),
    ("RNN", "recurrent neural network"),
    ("MLP", "multilayer perceptron"),
    ("NN", "neural network"),
    ("ReLU", "rectified linear unit"),
    ("EMA", "exponential moving average"),
    ("acc", "accuracy"),
    ("val", "validation"),
    ("grad", "gradient"),
    ("deriv", "derivative"),
    ("params", "parameters"),
    ("hyperparams", "hyperparameters"),
    ("img", "image"),
    ("aug", "augmentation"),
    ("seg", "segmentation"),
    ("pred", "prediction"),
    ("wrt", "with respect to"),
    ("w.r.t.", "with respect to"),
)

# A form is read as the other when the knowledge base writes the other this many times as often (and
# at least once). Three keeps a pair the answers use both ways, as "NLL" (11) and "negative
# log-likelihood" (10) are, as typed.
PREFERRED_RATIO = 3


def _pattern(form: str) -> str:
    """A form as typed: whole words, any case, a space or hyphen (or nothing, between two words of one
    term: "cross entropy", "crossentropy") where the form has either, an optional plural "s"."""
    words = [re.escape(word) for word in re.split(r"[- ]", form)]
    return r"[- ]?".join(words) + r"s?"


# Not inside a name in code: no letter, digit, underscore, dot or backtick right before or after.
_BEFORE, _AFTER = r"(?<![\w.`])", r"(?![\w`]|\.\w)"


@dataclass(frozen=True)
class Reading:
    """One direction of a glossary pair: a form the knowledge base does not use, read as one it does."""

    held_words: HeldWords  # the form as typed, with the words every match of it holds
    typed: str  # the form, as the glossary writes it
    used: str  # the form the knowledge base uses

    @property
    def pattern(self) -> re.Pattern[str]:
        return self.held_words.pattern

    def spell(self, match: re.Match[str]) -> str:
        """The form the knowledge base uses for `match`, a plural for a plural ("CNNs", "grads"; not
        "params", which is its form as written)."""
        plural = not re.fullmatch(_pattern(self.typed).removesuffix("s?"), match.group(), re.IGNORECASE)
        return self.used + "s" if plural and not self.used.endswith("s") else self.used


@dataclass(frozen=True)
class Abbreviations:
    """The glossary's directions for one knowledge base."""

    readings: tuple[Reading, ...]

    @classmethod
    def of(cls, texts: Iterable[str]) -> Abbreviations:
        """The directions for a knowledge base whose entries write `texts`."""
        # Each form is counted only in the texts that hold its words (`HeldWords`): most of the 82 forms
        # appear in a few of the 437 texts or none, and a search with a lookbehind at every position of
        # all of them took 0.11-0.16 s of every start-up; so, 0.03 s (the nine seed answers, the same
        # directions). Text by text: the lookbehind at a text's start sees what it sees after a newline.
        texts = list(texts)
        lowered = [text.lower() if text.isascii() else None for text in texts]

        def count(held: HeldWords) -> int:
            return sum(len(held.pattern.findall(text)) for text, low in zip(texts, lowered, strict=True)
                       if low is None or held.holds(low))

        readings = []
        for short, long in GLOSSARY:
            forms = {form: HeldWords(re.compile(_BEFORE + _pattern(form) + _AFTER, re.IGNORECASE))
                     for form in (short, long)}
            counts = {form: count(held) for form, held in forms.items()}
            for typed, used in ((short, long), (long, short)):
                if counts[used] >= max(1, PREFERRED_RATIO * counts[typed]):
                    readings.append(Reading(forms[typed], typed, used))
        return cls(tuple(readings))

    @classmethod
    def of_entries(cls, entries: Iterable[Entry]) -> Abbreviations:
        """The directions for these entries: what their questions, answers, aliases, tags and near
        misses write."""
        return cls.of(text for entry in entries
                      for text in (entry.question, entry.answer, *entry.aliases, *entry.tags, *entry.near_misses))

    def searched(self, entry: Entry) -> Entry:
        """The entry as the index holds it, read as posts are: an alias or a near miss that writes "ce"
        where the answers write "cross-entropy" is matched as "cross-entropy" too, so a post and the
        staff's lines meet in one form. What students are shown (`Entry.answer`, quoted) is the entry
        as written, never this."""
        read = self.read
        return replace(entry, question=read(entry.question), answer=read(entry.answer),
                       aliases=tuple(map(read, entry.aliases)), near_misses=tuple(map(read, entry.near_misses)),
                       tags=tuple(map(read, entry.tags)), sentences=tuple(map(read, entry.sentences)))

    def read(self, text: str, read: dict[str, tuple[str, str]] | None = None) -> str:
        """`text` with each form the knowledge base does not use read as the one it does; each is added
        to `read` (lower case -> (as first typed, as read)) when given."""
        # Most texts hold none of the forms: a substring test skips a reading that cannot match. Reading
        # a post's prose, title, focus and questions took 0.36 ms running every pattern and takes 0.07
        # ms so (the 988 test questions, median of 5 passes), read alike. Only for ASCII text
        # (`bot.search.reading.held_words`), lowered once for all the readings.
        lowered = text.lower() if text.isascii() else None
        for reading in self.readings:
            if lowered is not None and not reading.held_words.holds(lowered):
                continue

            def spell(match: re.Match[str], reading: Reading = reading) -> str:
                spelled = reading.spell(match)
                if read is not None:
                    read.setdefault(match.group().lower(), (match.group(), spelled))
                return spelled
            spelled = reading.pattern.sub(spell, text)
            if spelled != text:
                text, lowered = spelled, spelled.lower() if spelled.isascii() else None
        return text

    def read_post(self, post: Post) -> Post:
        """The post with its prose, focus, title and questions read alike (so the focus is still a span
        of the prose), and what was read otherwise in `Post.spelled_out`. Its text stays as typed."""
        if not self.readings:
            return post
        read: dict[str, tuple[str, str]] = {}
        prose, title = self.read(post.prose, read), self.read(post.title, read)
        if not read:
            return post
        return replace(post, prose=prose, title=title, focus=self.read(post.focus),
                       questions=tuple(self.read(q) for q in post.questions),
                       spelled_out=tuple(read.values()))


def as_searched(entries: Iterable[Entry]) -> list[Entry]:
    """`entries` as the index holds them: each read in the forms its knowledge base writes
    (`Abbreviations.searched`)."""
    return list(_read_entries(tuple(entries))[1])


def abbreviations_of(entries: Iterable[Entry]) -> Abbreviations:
    """The directions for these entries (`Abbreviations.of_entries`)."""
    return _read_entries(tuple(entries))[0]


# The index build and the retriever both need them for the same entries at start-up and at every
# re-index: worked out once (about 0.1 s for the nine answers), not once each.
@lru_cache(maxsize=2)
def _read_entries(entries: tuple[Entry, ...]) -> tuple[Abbreviations, tuple[Entry, ...]]:
    abbreviations = Abbreviations.of_entries(entries)
    return abbreviations, tuple(map(abbreviations.searched, entries))
