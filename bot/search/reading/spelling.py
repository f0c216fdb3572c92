"""Misspelled words read as the knowledge base's words: "derivitive of the sofmax" as a TA reads it.

Real posts are typed fast: "backpropogation", "divergance", "loglikelihood". MiniLM cuts a word it
does not know into word pieces ("so", "##f", "##max"), whose meaning is not the word's, and BM25
finds no such term at all; so a misspelled key word can cost a post its answer.

A word is corrected only when nothing says it is spelled as meant: it is not an English word
(pyspellchecker's English word list, offline), not a word of the knowledge base, and not code
(digits, underscores, capitals inside). It is then read as the knowledge base word it is one edit
from (two for a word of `LONG_WORD` letters or more) - Damerau's four kinds of typing error: a
letter left out, added, changed, or two swapped - keeping its first letter, and not a word that
only adds or drops letters at the end ("adamw" is not "adam", "logits" not "logit"). A word that
two knowledge base words are equally near is left alone. A word that is two knowledge base words
typed together ("loglikelihood") is read as both.

Only towards the knowledge base (its entries' questions, aliases, answers, tags and near misses):
a misspelled word no TA answer uses changes little about which answer a post gets. Towards every
common English word too, 94 instead of 67 of 128 real misspellings (`eval/datasets/
real_misspellings.tsv`) were read as meant, but names the word list lacks were read as words
("mnist" as "moist", "cifar" as "cigar", "jupyter" as "jupiter") and the index took 3 s to build.

The same word list tells a post written in another language in the Latin alphabet ("¿Por qué la
divergencia KL no es simétrica?"), whose student should hear that the answers are English only
(`Speller.reads_as_other_language`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

from bot.search.lexical import FUNCTION_WORDS
from bot.search.reading.english_words import EnglishWords, english_words
from bot.search.reading.focus import Post

# A word of this many letters or more may be two edits from its correction; shorter ones one.
LONG_WORD = 9
# Shorter words are never corrected: one edit from too many words ("sgd", "relu", "mean").
MIN_WORD = 5
# Nor longer ones: no word a student means is that long, and a pasted run of letters would cost
# its length squared in keys.
MAX_WORD = 30
# Each half of two words typed as one ("loglikelihood") has at least this many letters.
MIN_PART = 3

# A post reads as another language (Spanish, French, German, ...) when at least this share of its
# words of three letters or more are neither English nor the knowledge base's, and it has this many
# such words at least. Measured on every dataset row and ten questions in six languages: the
# questions read 0.67-1.0, English rows at most 0.5 ("{{7*7}} ${jndi:ldap://...}"), short jargon
# ("dfs vs bfs backprop which is correct") 0.4.
OTHER_LANGUAGE_SHARE = 0.6
MIN_LANGUAGE_WORDS = 4
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]{3,}")

# A word as typed: letters only, not part of a name with digits, underscores or dots ("x.grad", "l2").
_WORD = re.compile(r"(?<![\w.])[A-Za-z]+(?!\w|\.\w)")
_LETTERS = re.compile(r"[a-z]+")


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two neighbours), or
    `limit + 1` once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _deletes(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` letters left out (SymSpell's index keys)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@dataclass(frozen=True)
class Speller:
    """The knowledge base's words, indexed to find the one a misspelled word was meant to be."""

    counts: Counter[str]  # each knowledge base word (lower case) and how often the entries use it
    # A word with letters left out -> the word it comes from, or the words (a tuple when several:
    # a set per key cost 185 MB and 2 s to build for a 15,000-word vocabulary, this 27 MB and 0.25 s).
    keys: dict[str, str | tuple[str, ...]]
    pairs: frozenset[tuple[str, str]]  # two words the knowledge base writes one after the other
    english: EnglishWords  # pyspellchecker's English list (`bot.search.reading.english_words`)

    @classmethod
    def of(cls, texts: Iterable[str], english: EnglishWords | None = None) -> Speller:
        """The speller for a knowledge base whose entries write `texts`; `english`: the English list as
        kept in a data folder (`english_words(data_dir)`), else worked out in this process."""
        counts: Counter[str] = Counter()
        pairs: set[tuple[str, str]] = set()
        for text in texts:
            words = _LETTERS.findall(text.lower())
            counts.update(words)
            pairs.update(pairwise(words))
        keys: dict[str, str | tuple[str, ...]] = {}
        for word in counts:
            if len(word) >= MIN_WORD and word not in FUNCTION_WORDS:
                # SymSpell: a typed word and a word within n edits share a key with at most n letters
                # left out of each. Two edits only for a typed word of LONG_WORD letters, so only a word
                # of two letters fewer or more needs keys two deep.
                for key in _deletes(word, 2 if len(word) >= LONG_WORD - 2 else 1):
                    found = keys.get(key)
                    keys[key] = word if found is None else (*found, word) if isinstance(found, tuple) else (found, word)
        return cls(counts, keys, frozenset(pairs), english if english is not None else english_words())

    def _near(self, key: str) -> tuple[str, ...]:
        found = self.keys.get(key, ())
        return (found,) if isinstance(found, str) else found

    def correction(self, word: str) -> str | None:
        """What the knowledge base means by `word` (lower case), or None to leave it as typed."""
        # English before the keys: most words of a post are, and one lookup costs less than a word's keys.
        if not MIN_WORD <= len(word) <= MAX_WORD or word in self.counts or word in self.english:
            return None
        limit = 2 if len(word) >= LONG_WORD else 1
        scored = []
        for candidate in {c for key in _deletes(word, limit) for c in self._near(key)}:
            if candidate[0] != word[0] or candidate.startswith(word) or word.startswith(candidate):
                continue
            if (distance := osa_distance(word, candidate, limit)) <= limit:
                scored.append((distance, -self.counts[candidate], candidate))
        scored.sort()
        if scored and (len(scored) == 1 or scored[0][:2] != scored[1][:2]):
            return scored[0][2]
        return self._split(word)

    def reads_as_other_language(self, text: str) -> bool:
        """Whether `text` (a post's prose, as typed) is written mostly in a language other than English
        in the Latin alphabet: MiniLM and the answers are English, and the student should hear so.
        (Other scripts are told by `bot.answering.guard`.)"""
        words = [w.lower() for w in _LATIN_WORD.findall(text)]
        if len(words) < MIN_LANGUAGE_WORDS:
            return False
        # Each distinct word looked up once, the knowledge base's words first (a set; the list's lookup
        # costs about 2 µs).
        known = {w: w in self.counts or w in self.english for w in set(words)}
        foreign = sum(not known[w] for w in words)
        return foreign >= OTHER_LANGUAGE_SHARE * len(words)

    def _split(self, word: str) -> str | None:
        """"loglikelihood" -> "log likelihood": two words the knowledge base writes one after the other
        ("log-likelihood"), typed as one. Not "tensorflow": no answer writes "tensor flow"."""
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            if (word[:cut], word[cut:]) in self.pairs:
                return f"{word[:cut]} {word[cut:]}"
        return None

    def correct(self, text: str, read: dict[str, tuple[str, str]] | None = None,
                seen: dict[str, str | None] | None = None) -> str:
        """`text` with each misspelled word replaced by its correction (a capital kept); each is added
        to `read` (lower case -> (as first typed, as read)) when given. `seen` keeps each word's
        correction across calls: a post repeats its words, and its focus is part of its prose."""
        seen = {} if seen is None else seen

        def fix(match: re.Match[str]) -> str:
            word = match.group()
            if not (word.islower() or word[1:].islower()):  # "CELoss", "NLL": a name, not a typo
                return word
            lower = word.lower()
            if lower not in seen:
                seen[lower] = self.correction(lower)
            corrected = seen[lower]
            if corrected is None:
                return word
            if read is not None:
                read.setdefault(lower, (word, corrected))
            return corrected.capitalize() if word[0].isupper() else corrected
        return _WORD.sub(fix, text)

    def correct_post(self, post: Post) -> Post:
        """The post with its prose, focus, title and questions corrected (the same words in each, so
        the focus is still found inside the prose), and what was read otherwise in `Post.read_words`.
        Its text stays as the student wrote it."""
        read: dict[str, tuple[str, str]] = {}
        seen: dict[str, str | None] = {}
        prose, title = self.correct(post.prose, read, seen), self.correct(post.title, read, seen)
        if not read:
            return post
        return replace(post, prose=prose, title=title, focus=self.correct(post.focus, seen=seen),
                       questions=tuple(self.correct(q, seen=seen) for q in post.questions),
                       read_words=tuple(read.values()))
