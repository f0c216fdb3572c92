"""Text handling for the support scorer: fold LaTeX/Unicode variants together, find math
expressions, and tokenise into stemmed tokens that remember negators, numbers and clause breaks.

Split from bot/answering/support.py so the scorer module holds the alignment arithmetic and the verdict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import Stemmer

# --------------------------------------------------------------------------- normalisation

_LATEX_KEEP_ARG = re.compile(r"\\(?:mathbb|mathcal|mathrm|mathbf|text|operatorname|boldsymbol)\s*\{([^{}]*)\}")
_LATEX_FRAC = re.compile(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_SYMBOLS = {"\\times": "x", "\\cdot": "*", "\\in": " in ", "\\|": "||", "\\mid": "|", "\\left": "",
                  "\\right": "", "\\log": "log", "\\ln": "ln", "\\exp": "exp"}
_UNICODE = {"‖": "||", "∥": "||", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": " - ",
            "−": "-", "×": "x", "…": "...", "∈": " in "}


def normalise(text: str) -> str:
    """Lower-case text with LaTeX delimiters and Unicode look-alikes folded to one ASCII form."""
    text = unicodedata.normalize("NFKC", text)
    for old, new in _UNICODE.items():
        text = text.replace(old, new)
    text = re.sub(r"\\[()\[\]]", " ", text)  # \( \) \[ \] math delimiters
    text = text.replace("$", " ")
    text = _LATEX_FRAC.sub(r"(\1)/(\2)", text)
    text = _LATEX_KEEP_ARG.sub(r"\1", text)
    # A command ends where its letters end: \in must not eat the start of \infty.
    text = re.sub(r"\\\||\\[a-zA-Z]+", lambda m: _LATEX_SYMBOLS.get(m.group(0), m.group(0)), text)
    text = re.sub(r"\\([a-zA-Z]+)", r"\1", text)  # \delta -> delta
    text = text.replace("{", "").replace("}", "")
    # "p | q" / "p||q" / "p ||q": one spelling of the divergence bar.
    text = re.sub(r"\s*\|\|?\s*", "||", text)
    return re.sub(r"\s+", " ", text).strip().lower()


# An identifier glued to a parenthesised argument list: kl(p||q), ln(x), l(x, w, b, y).
MATH_PATTERN = re.compile(r"\b[a-z][a-z0-9_]*\((?:[^()]|\([^()]*\)){1,40}\)")


# ----------------------------------------------------------------------------- tokenising

NEGATORS = frozenset({"not", "no", "never", "neither", "nor", "n't", "none", "nothing", "cannot", "without"})
STOPWORDS = frozenset("""
a an the and or but if then else of to in on at by for with from as into onto about over under
is are was were be been being am do does did doing have has had having will would shall should can
could may might must it its it's this that these those there here they them their theirs we us our
you your yours i me my he she his her him which who whom whose what when where why how than so such
also just very too much many more most some any each every all both either one's s let let's
e.g eg i.e ie etc via per really actually quite rather pretty something someone thing things get got
""".split())
# "one" is left out: "one view", "one way", "one mode" are not counts.
_NUMBER_WORDS = {"zero": "0", "zeros": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                 "seven": "7", "eight": "8", "nine": "9", "ten": "10", "hundred": "100", "half": "0.5"}
_TOKEN = re.compile(r"\x00\d+\x00|n't|[a-z]+(?:'[a-z]+)?|\d+(?:\.\d+)?|[.,;:!?()]")
_CLAUSE_BREAK = frozenset(".,;:!?()")
# Words that start a new clause: a negation before them does not reach past them.
_SCOPE_BREAK = frozenset({"because", "since", "whereas", "although", "though", "while", "but", "so", "which",
                          "therefore", "otherwise", "when", "if"})
_STEMMER = Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """Snowball stem after folding American -iz- into the TA's British -is- (minimize -> minimis)."""
    if not word.isalpha():
        return word
    return _STEMMER.stemWord(word.replace("iz", "is"))


@dataclass(frozen=True)
class Token:
    text: str  # stemmed word, a math expression, a number, a negator, or clause punctuation
    kind: str  # "word" | "math" | "number" | "neg" | "break"


def tokenize(text: str) -> list[Token]:
    """Tokens of `text`: math expressions kept whole, contractions split, stopwords dropped."""
    norm = normalise(text)
    maths: list[str] = []

    def park(match: re.Match[str]) -> str:
        maths.append(re.sub(r"\s+", "", match.group(0)))
        return f" \x00{len(maths) - 1}\x00 "

    norm = MATH_PATTERN.sub(park, norm)
    norm = norm.replace("can't", "can n't").replace("won't", "will n't")
    norm = re.sub(r"([a-z])n't\b", r"\1 n't", norm)
    norm = norm.replace(" - ", " ; ")  # a spaced dash separates clauses
    norm = norm.replace("-", " ")  # second-order == second order
    out: list[Token] = []
    for raw in _TOKEN.findall(norm):
        if raw.startswith("\x00"):
            out.append(Token(maths[int(raw.strip("\x00"))], "math"))
        elif raw in _CLAUSE_BREAK or raw in _SCOPE_BREAK:
            out.append(Token(raw, "break"))
        elif raw in NEGATORS:
            out.append(Token("not", "neg"))
        elif raw[0].isdigit():
            out.append(Token(_canonical_number(raw), "number"))
        elif raw in _NUMBER_WORDS:
            out.append(Token(_NUMBER_WORDS[raw], "number"))
        elif raw not in STOPWORDS and raw.split("'")[0] not in STOPWORDS:
            out.append(Token(stem(raw.split("'")[0]), "word"))
    return out


def _canonical_number(raw: str) -> str:
    value = float(raw)
    return str(int(value)) if value.is_integer() else str(value)


def content(tokens: Sequence[Token]) -> list[str]:
    """The tokens that carry meaning for overlap: words, math, numbers and negators ("not").

    Negators are content so that "not first order" and "first order" differ in their pairs.
    """
    return [t.text for t in tokens if t.kind in ("word", "math", "number", "neg")]
