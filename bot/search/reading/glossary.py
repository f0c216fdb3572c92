"""A post written in Chinese, read through a glossary of the course's terms.

MiniLM and the TA answers are English: a post written mostly in another script cannot be matched as
it stands, and the student hears so (`bot.answering.guard`). But a student who writes in Chinese names
the course's ideas in terms a dictionary holds (交叉熵 is cross-entropy, 反向传播 is backpropagation,
以2为底 is base 2), and often mixes English in ("softmax 和 sigmoid 在二分类时等价吗？"). Read word for
word in English, such a post says what it asks well enough for the reader and the model: "sigmoid
softmax binary classification equivalent ?". `Glossary.english_reading` replaces each Chinese term the
glossary holds by its English, longest first, drops the Chinese it does not hold (particles, names:
MiniLM cannot read them either), and turns full-width punctuation into English, so the post reader
finds its sentences and its question. Only a post written mostly in Chinese is read so: an English post
with a Chinese phrase in it is read as it is.

The glossary (`zh_glossary.tsv`) is a dictionary of the course's concepts, the deep-learning words
around them and the words a question is asked with, written from the nine answers' English by someone
who saw no student post (docs/real-phrasing.md, forty-first session); nothing in it is keyed to a
question. The answer says the post was read so and quotes what was searched, so a student can tell
when the reading missed (`bot.answering.compose`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).with_name("zh_glossary.tsv")
# A post whose words are at least this share in a script other than Latin is "mostly" in it. Counted in
# words, so a thread's Latin header or an English term does not hide a Chinese post and a Chinese name does
# not flag an English one: a run of Latin (or Cyrillic, Arabic, ...) letters is a word, a Chinese, Japanese
# or Korean character half of one (their words run one to three characters, unspaced). Greek and
# mathematical letters are formula symbols (σ, θ, 𝑥), not another language.
OTHER_SCRIPT_SHARE = 0.3
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_FULL_WIDTH = str.maketrans({"，": ", ", "。": ". ", "？": "? ", "！": "! ", "：": ": ", "；": "; ", "、": ", ",
                             "（": " (", "）": ") ", "“": ' "', "”": '" ', "‘": " '", "’": "' ", "《": ' "', "》": '" ',
                             "【": " [", "】": "] ", "～": "~", "　": " "})
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_MARK = re.compile(r"[ \t]+([?!.,;:])")


def _script(ch: str) -> str:
    """"latin" (with formula letters), "cjk" or "other" for a letter; "" for anything else."""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    if name.startswith(("LATIN", "GREEK", "MATHEMATICAL")):
        return "latin"
    return "cjk" if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")) else "other"


def mostly_other_script(text: str) -> bool:
    """Whether at least OTHER_SCRIPT_SHARE of the text's words are in a script other than Latin."""
    if text.isascii():  # every ASCII letter is Latin; the per-letter scan below cost ~0.4 ms a question
        return False
    latin = other = 0.0
    for script, run in itertools.groupby(text, key=_script):
        if script == "latin":
            latin += 1
        elif script == "cjk":
            other += len(list(run)) / 2
        elif script == "other":
            other += 1
    return latin + other >= 1.5 and other >= OTHER_SCRIPT_SHARE * (latin + other)


class Glossary:
    """Chinese terms and their English, read longest first."""

    def __init__(self, pairs: dict[str, str]) -> None:
        self.pairs = pairs
        self.longest = max((len(term) for term in pairs), default=0)
        # Terms with a Latin letter or a digit in them ("KL散度", "以2为底") span a run of Chinese characters'
        # edge: they are read first, longest first, wherever they stand.
        mixed = sorted((term for term in pairs if not _HAN_RUN.fullmatch(term)), key=len, reverse=True)
        self._mixed = re.compile("|".join(map(re.escape, mixed))) if mixed else None

    @classmethod
    def load(cls, path: Path = GLOSSARY_FILE) -> Glossary:
        return _loaded(path)

    def english_reading(self, text: str) -> str | None:
        """`text` read in English when it is written mostly in Chinese (see the module's docstring), else
        None: each held term in its English, the rest of its Chinese dropped, its punctuation English;
        its Latin words, code, numbers and line breaks as they were. None too when nothing is left to read."""
        if not _HAN_RUN.search(text) or not mostly_other_script(text):
            return None
        if self._mixed is not None:
            text = self._mixed.sub(lambda term: f" {self.pairs[term.group()]} ", text)
        read = _HAN_RUN.sub(lambda run: self._read(run.group()), text).translate(_FULL_WIDTH)
        lines = (_SPACE_BEFORE_MARK.sub(r"\1", _SPACES.sub(" ", line)).strip() for line in read.split("\n"))
        # A line left with no word (a greeting the glossary does not hold, "老师好，") is a paragraph break.
        reading = "\n".join(line if any(ch.isalnum() for ch in line) else "" for line in lines)
        return reading if any(ch.isalpha() for ch in reading) else None  # nothing held: read as typed

    def _read(self, run: str) -> str:
        """A run of Chinese characters as the English of the terms it holds, found longest first."""
        words: list[str] = []
        i = 0
        while i < len(run):
            for size in range(min(self.longest, len(run) - i), 0, -1):
                english = self.pairs.get(run[i:i + size])
                if english is not None:
                    words.append(english)
                    i += size
                    break
            else:
                i += 1
        return f" {' '.join(words)} " if words else " "


@lru_cache(maxsize=4)
def _loaded(path: Path) -> Glossary:
    pairs: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number == 1 or not line.strip():  # the header, "zh<TAB>en"
            continue
        chinese, english = (field.strip() for field in line.split("\t"))
        pairs[chinese] = english
    return Glossary(pairs)
