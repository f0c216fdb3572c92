"""Does the bot decide a post the same when copying changed how it is written?

    python -m eval.copy_artifacts [--only NAME,...]

Real posts are often pasted, not typed: from a web page that hyphenates long words with invisible soft
hyphens and spaces with `&nbsp;`, from a chat that slips zero-width spaces in, from a PDF whose "fi"
and "fl" are ligature characters and whose lines break inside words with a hyphen, from a word
processor's typographic quotes, dashes and ellipses, from Wikipedia, whose formulas copy as their
images' alt text ("{\\displaystyle D_{\\text{KL}}(P\\parallel Q)}"), from a page MathJax or KaTeX rendered,
which copies a formula's symbols twice or three times, from a PDF, which copies them one by one, from
anything that turns a list's "-" into "•", from Markdown source that escapes `_` and `*`,
from a mail client that wraps lines at 72 characters, from Windows with its line ends; a phone adds
emoji, and a post typed fast runs its sentences together ("nan.Why"). A TA reads each the same as the
plain post. This asks every calibration and development row (never a test split) as written and again
with one kind of copy artifact at a time (`ARTIFACTS`, each drawn by a seeded generator so every run
reads the same posts), through the whole bot (`Tabot.ask`: the guard, the reader, the model), and
counts the rows whose decision (declined, or the entry answered from) changed: how many became right,
how many wrong.
A kind that changes decisions is one the bot does not yet read through.
"""

from __future__ import annotations

import argparse
import random
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eval.datasets import CALIBRATION_SETS, DEVELOPMENT_SETS, Question

Artifact = Callable[[str, random.Random], str]
DECLINED = "declined"
WRAP_WIDTH = 72  # where mail clients and plain-text archives wrap lines
_LONG_WORD = re.compile(r"[A-Za-z]{7,}")


def _in_long_words(text: str, rng: random.Random, share: float, mark: str, at: int) -> str:
    """`mark` put `at` letters into that share of the words of seven letters or more."""
    return _LONG_WORD.sub(lambda m: m[0][:at] + mark + m[0][at:] if rng.random() < share else m[0], text)


def soft_hyphens(text: str, rng: random.Random) -> str:
    """A page that hyphenates long words keeps U+00AD in them when copied."""
    return _in_long_words(text, rng, 0.5, "\u00ad", 3)


def zero_width_spaces(text: str, rng: random.Random) -> str:
    """A chat's or an editor's U+200B after some spaces, and a byte-order mark before the text."""
    return "\ufeff" + re.sub(" ", lambda m: " \u200b" if rng.random() < 0.15 else " ", text)


def zero_width_in_words(text: str, rng: random.Random) -> str:
    """U+200B inside words, where some sites put break opportunities."""
    return _in_long_words(text, rng, 0.2, "\u200b", 2)


def ligatures(text: str, rng: random.Random) -> str:
    """A PDF's ligature characters for ffi, fi, fl and ff (e.g. "deﬁne")."""
    return text.replace("ffi", "\ufb03").replace("fi", "\ufb01").replace("fl", "\ufb02").replace("ff", "\ufb00")


def non_breaking_spaces(text: str, rng: random.Random) -> str:
    """A web page's `&nbsp;`, copied as U+00A0: after every sentence's and clause's mark, and for some
    other spaces."""
    text = re.sub(r"(?<=[.!?,:]) ", "\u00a0", text)
    return re.sub(" ", lambda m: "\u00a0" if rng.random() < 0.1 else " ", text)


def windows_line_ends(text: str, rng: random.Random) -> str:
    """A post saved or pasted on Windows ends its lines with a carriage return and a line feed."""
    return text.replace("\n", "\r\n")


def typographic_quotes(text: str, rng: random.Random) -> str:
    """A word processor's right single quote for apostrophes and curly double quotes."""
    text = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)
    return re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)


def typographic_dashes(text: str, rng: random.Random) -> str:
    """A word processor's dashes between words and its ellipsis, and a typeset formula's minus sign:
    "loss — why", "wait…", "−log p". (An HTML comment's or a command line's "--" is not between words.)"""
    text = text.replace(" -- ", " \u2014 ").replace(" - ", " \u2013 ")
    text = text.replace("...", "\u2026")
    return re.sub(r"(?<=[\s(=\[{,^])-(?=[\w(.])", "\u2212", text)


def run_together_sentences(text: str, rng: random.Random) -> str:
    """No space after a sentence's mark, as a post typed fast or a copy that ran two lines together
    writes it: "the loss is nan.Why does it"."""
    return re.sub(r"(?<=[a-z][.?!]) (?=[A-Z])", "", text)


def markdown_escapes(text: str, rng: random.Random) -> str:
    """Markdown source as an editor saves it: `F.nll\\_loss`, `2\\*x`."""
    return text.replace("_", "\\_").replace("*", "\\*")


_SENTENCE_END = re.compile(r"(?<=[.!?])(?= |\n|$)")
EMOJI = ("\U0001f64f", "\U0001f605", "\U0001f914", "\U0001f62d", "\U0001f44d")


def emoji(text: str, rng: random.Random) -> str:
    """An emoji after some sentences and at the end, as a chat or a phone adds them (🙏, 😅, 🤔)."""
    text = _SENTENCE_END.sub(lambda m: " " + rng.choice(EMOJI) if rng.random() < 0.3 else "", text)
    return text + " " + rng.choice(EMOJI)


_LIST_ITEM = re.compile(r"^([ \t]*)[-*+](?= )", re.MULTILINE)


def bullets(text: str, rng: random.Random) -> str:
    """A list's items as a word processor, a slide or a rendered page copies them: "•" in place of the
    "-" or "*" typed in Markdown, "◦" under another item."""
    return _LIST_ITEM.sub(lambda m: m[1] + ("◦" if m[1] else "•"), text)


# A formula in a post: display ($$...$$, \[...\]) or inline ($...$, \(...\)) LaTeX.
_LATEX_SPAN = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\$([^$\n]+?)\$|\\\((.+?)\\\)", re.S)


def _tex_of(span: re.Match[str]) -> str:
    """The TeX inside a `_LATEX_SPAN`, whichever of its delimiters it has."""
    return next(group for group in span.groups() if group is not None).strip()


def wikipedia_formulas(text: str, rng: random.Random) -> str:
    """Each LaTeX formula as it comes out of a Wikipedia page copied in a browser: the formula image's alt
    text, "{\\displaystyle D_{\\text{KL}}(P\\parallel Q)}", without the dollars a student would type."""
    return _LATEX_SPAN.sub(lambda m: "{\\displaystyle " + _tex_of(m) + "}", text)


# What a browser shows for some LaTeX commands; the rest show nothing of their own (`\\frac`, `\\left`, `\\mathrm`).
_GLYPHS = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "eta": "η",
           "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "phi": "ϕ", "omega": "ω",
           "Sigma": "Σ", "Delta": "Δ", "sum": "∑", "prod": "∏", "int": "∫", "partial": "∂", "nabla": "∇",
           "infty": "∞", "cdot": "⋅", "times": "×", "odot": "⊙", "mid": "∣", "parallel": "∥", "|": "∥",
           "leftarrow": "←", "rightarrow": "→", "to": "→", "neq": "≠", "ne": "≠", "le": "≤", "leq": "≤", "ge": "≥",
           "geq": "≥", "approx": "≈", "sim": "∼", "in": "∈", "log": "log", "ln": "ln", "exp": "exp", "max": "max",
           "min": "min", "arg": "arg", "sqrt": "√"}
_COMMAND = re.compile(r"\\([A-Za-z]+|\|)|\\[,;:! ]|[{}^_ ]")


def _rendered(tex: str) -> str:
    """A formula as a page's MathML or rendered glyphs copy it: the symbols in a row, without the layout
    ("\\frac{e^{x_0}}{Z}" reads "ex0Z")."""
    return _COMMAND.sub(lambda m: _GLYPHS.get(m[1], "") if m[1] else "", tex)


def mathjax_formulas(text: str, rng: random.Random) -> str:
    """Each LaTeX formula as it comes out of a page rendered by MathJax (a Stack Exchange site, a course's
    notes) copied in a browser: its symbols in a row, twice, once from the glyphs and once from the
    hidden MathML kept for screen readers ("(P,<)(P,<)", "A⊆PA⊆P")."""
    return _LATEX_SPAN.sub(lambda m: 2 * _rendered(_tex_of(m)), text)


_GLYPH_OR_WORD = re.compile(r"\\(?:log|ln|exp|max|min|arg)(?![A-Za-z])|\\[A-Za-z]+|\\.|[{}^_ ]|[A-Za-z]+|\d+|.", re.S)


def pdf_formulas(text: str, rng: random.Random) -> str:
    """Each LaTeX formula as a PDF (slides, a paper, typeset notes) copies it: its glyphs one by one with
    spaces between them, sub- and superscripts in line, the layout lost ("E = − ∑ j t j log o j")."""
    def copied(match: re.Match[str]) -> str:
        tex = _tex_of(match)
        glyphs = (_rendered(piece[0]).replace("-", "−") for piece in _GLYPH_OR_WORD.finditer(tex))
        return " ".join(glyph for glyph in glyphs if glyph.strip())
    return _LATEX_SPAN.sub(copied, text)


def katex_formulas(text: str, rng: random.Random) -> str:
    """Each LaTeX formula as it comes out of a page rendered by KaTeX copied in a browser: three times, from
    its hidden MathML, its TeX annotation and its glyphs ("A0(x0,y0) A_0 (x_0, y_0) A0(x0,y0)")."""
    def copied(match: re.Match[str]) -> str:
        tex = _tex_of(match)
        return f"{_rendered(tex)} {tex} {_rendered(tex)}"
    return _LATEX_SPAN.sub(copied, text)


_CUSTOM_EMOJI, _ANIMATED_EMOJI = "<:thonk:123456789012345678>", "<a:pray:823456789012345678>"
_ROLE_MENTION = "<@&923456789012345678>"


def discord_markup(text: str, rng: random.Random) -> str:
    """A message as the Discord bot receives it: the course role mentioned first, custom emoji after some
    sentences and an animated one at the end, as Discord's raw markup writes them (`<:thonk:1234...>`).
    Only the Discord front end receives this: ask with `--as-discord-reads` to read it as that front end does."""
    text = _SENTENCE_END.sub(lambda m: " " + _CUSTOM_EMOJI if rng.random() < 0.3 else "", text)
    return f"{_ROLE_MENTION} {text} {_ANIMATED_EMOJI}"


# A mail client breaks a line between words, never inside one or at a hyphen, and sends no blank at a break.
_WRAPPER = textwrap.TextWrapper(WRAP_WIDTH, break_long_words=False, break_on_hyphens=False, expand_tabs=False,
                                replace_whitespace=False)


def wrapped_lines(text: str, rng: random.Random) -> str:
    """Every line longer than WRAP_WIDTH broken between words, as a mail client or a plain-text archive
    sends it."""
    return "\n".join(_WRAPPER.fill(line) if len(line) > WRAP_WIDTH else line for line in text.split("\n"))


TYPESET_WIDTH = 64  # a page's column of text, in characters
_TYPESET_CUT = 3  # a hyphen leaves at least this many letters on either line


def typeset_lines(text: str, rng: random.Random) -> str:
    """Lines broken at TYPESET_WIDTH as a typeset page (a PDF, a paper) breaks them: between words, and
    inside a long word that would straddle the break, with a hyphen ("backpropa-" over "gating")."""
    broken = []
    for line in text.split("\n"):
        if len(line) <= TYPESET_WIDTH:
            broken.append(line)
            continue
        current = ""
        for word in line.split(" "):
            room = TYPESET_WIDTH - len(current) - 2  # letters of `word` that fit before the hyphen
            if not current or len(current) + 1 + len(word) <= TYPESET_WIDTH:
                current = f"{current} {word}" if current else word
            elif word.isalpha() and room >= _TYPESET_CUT and len(word) - room >= _TYPESET_CUT:
                broken.append(f"{current} {word[:room]}-")
                current = word[room:]
            else:
                broken.append(current)
                current = word
        broken.append(current)
    return "\n".join(broken)


ARTIFACTS: dict[str, Artifact] = {
    "soft hyphens": soft_hyphens,
    "zero-width spaces": zero_width_spaces,
    "zero-width spaces in words": zero_width_in_words,
    "ligatures": ligatures,
    "typographic quotes": typographic_quotes,
    "markdown escapes": markdown_escapes,
    "lines wrapped at 72": wrapped_lines,
    "a typeset page's lines": typeset_lines,
    "non-breaking spaces": non_breaking_spaces,
    "Windows line ends": windows_line_ends,
    "typographic dashes": typographic_dashes,
    "sentences run together": run_together_sentences,
    "formulas copied from Wikipedia": wikipedia_formulas,
    "formulas copied from a MathJax page": mathjax_formulas,
    "formulas copied from a KaTeX page": katex_formulas,
    "formulas copied from a PDF": pdf_formulas,
    "bullets": bullets,
    "emoji": emoji,
    "Discord's markup": discord_markup,
}


@dataclass
class Changes:
    """What one artifact did to the rows' decisions."""

    rows: int = 0  # rows read
    rewritten: int = 0  # rows whose text the artifact changed (the rest are not asked again)
    changed: int = 0  # ... whose decision changed
    now_right: int = 0  # ... from a wrong decision to a right one
    now_wrong: int = 0  # ... from a right decision to a wrong one


def right(question: Question, decision: str) -> bool:
    """In scope: answered from an expected entry; out of scope: declined."""
    return decision in question.expected if question.expected else decision == DECLINED


def compare(decide: Callable[[str], str], questions: Sequence[Question], artifacts: dict[str, Artifact],
            seed: int = 7) -> tuple[int, dict[str, Changes]]:
    """How many `questions` `decide` gets right as written, and per artifact what it changed."""
    plain = {q.id: decide(q.question) for q in questions}
    changes = {}
    for name, artifact in artifacts.items():
        rng, found = random.Random(seed), Changes(rows=len(questions))
        for q in questions:
            text = artifact(q.question, rng)
            if text == q.question:
                continue
            found.rewritten += 1
            decision = decide(text)
            if decision != plain[q.id]:
                found.changed += 1
                before, after = right(q, plain[q.id]), right(q, decision)
                found.now_right += after and not before
                found.now_wrong += before and not after
        changes[name] = found
    return sum(right(q, plain[q.id]) for q in questions), changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.copy_artifacts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(ARTIFACTS),
                        help=f"comma-separated artifacts (default: all of {', '.join(ARTIFACTS)})")
    parser.add_argument("--as-discord-reads", action="store_true",
                        help="read every text as the Discord front end does first (bot.faces.discord.text.as_read)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only.split(",") if name not in ARTIFACTS]
    if unknown:
        parser.error(f"unknown artifact {unknown[0]!r}; known: {', '.join(ARTIFACTS)}")
    from bot.config import Settings  # the bot only when asked, as in eval.calibrate
    from bot.service import Tabot
    from eval.datasets import load_question_sets

    tabot = Tabot.start(Settings.from_env())
    questions = load_question_sets(list(CALIBRATION_SETS) + list(DEVELOPMENT_SETS), known_entries=set(tabot.entries))

    read: Callable[[str], str] = str  # each text as written
    if args.as_discord_reads:
        from bot.faces.discord.text import as_read
        read = as_read

    def decide(text: str) -> str:
        answer = tabot.ask(read(text))
        return DECLINED if answer.abstained or not answer.entry_ids else answer.entry_ids[0]

    good, changes = compare(decide, questions, {name: ARTIFACTS[name] for name in args.only.split(",")})
    print(f"{len(questions)} calibration and development rows, {good} decided right as written")
    for name, found in changes.items():
        print(f"{name:36} rewritten {found.rewritten:5}   decision changed {found.changed:3}   "
              f"now right {found.now_right:3}   now wrong {found.now_wrong:3}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
