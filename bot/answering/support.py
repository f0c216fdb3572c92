"""Faithfulness (support) scorer: is one sentence supported by a cited TA answer?

No LLM and no NLI model exist offline here, so this is lexical, but it is built to catch what
a plain word-overlap score misses. The steps, each a small pure function tested on its own:

1. `normalise` folds LaTeX/Unicode variants together (``\\(KL(p\\|q)\\)``, ``KL(p||q)``,
   ``KL(p‖q)`` all become ``kl(p||q)``), curly quotes and case; `tokenize` keeps math whole,
   stems words (Snowball, British -ise) and keeps negators as a "not" token.
2. `split_units` cuts the source into sentences; `source_windows` forms runs of 1-2 of them.
3. The sentence is aligned to the window that best covers its content tokens (`token_recall`),
   their local order (`pair_recall`) and their global order (`order_recall`, an LCS);
   `alignment_score` weighs the three. Checks are made against that window, not the whole
   answer: a swapped KL(q||p) is "in the source", just not where its claim is made.
4. Hard contradictions, each a reason string: math expressions missing from the aligned window
   (`missing_math`) or not next to the same words there (`unbound_math`), numbers missing from
   it (`missing_numbers`), a negation the sentence dropped (`dropped_negations`), and swaps:
   if reversing KL's arguments, exchanging p and q, replacing a role word by its opposite
   (mode-seeking <-> mean-seeking) or deleting the sentence's "not" makes it fit the source
   better (`swap_variants`), the sentence most likely says the reverse of what the TA wrote.

`score` is the alignment score, halved per contradiction so it also ranks unfaithful text low;
`supported` is `score >= threshold and no contradiction`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.support_text import MATH_PATTERN, Token, content, normalise, tokenize
from bot.knowledge import split_sentences

# Chosen on eval/datasets/support_dev.jsonl (never on the held-out support_meta.jsonl).
DEFAULT_THRESHOLD = 0.6
# Weights of content-token recall, ordered-pair recall and whole-sentence order (LCS) recall.
ALIGNMENT_WEIGHTS = (0.5, 0.25, 0.25)
# A swap variant must beat the sentence by this much; smaller gains are paraphrase noise.
SWAP_MARGIN = 0.03
# Longer windows are penalised slightly so a sentence aligns to the tightest span saying it.
WINDOW_PENALTY = 0.1
MAX_WINDOW = 2
# Ordered pairs: (a, b) adjacent in the sentence match when b follows a within this many
# content tokens in the source (paraphrases insert words); reversed order counts half.
PAIR_REACH = 3
# A math expression must sit within this many content tokens of the same neighbour as in the source.
BIND_REACH = 2
# How many content tokens after a negator are in its scope.
NEGATION_SCOPE = 4


@dataclass(frozen=True)
class Support:
    score: float  # in [0, 1]
    supported: bool  # score >= threshold and no hard contradiction
    matched: str  # the source sentence/window it aligned to
    reasons: tuple[str, ...]  # why it is not supported (empty when it is)


# ------------------------------------------------------------------------ source windows

def split_units(text: str) -> list[str]:
    """The source's sentences, split exactly as the knowledge loader splits an entry.

    Using the loader's splitter means a verbatim sentence of a grounded answer aligns to
    exactly one unit.
    """
    return split_sentences(text)


def source_windows(units: Sequence[object], max_window: int = MAX_WINDOW) -> list[tuple[int, int]]:
    """(start, end) index ranges over `units` for every run of 1..max_window sentences."""
    return [(i, i + n) for n in range(1, max_window + 1) for i in range(len(units) - n + 1)]


# ------------------------------------------------------------------------------ arithmetic


def token_recall(sentence: Sequence[str], window: Sequence[str]) -> float:
    """Fraction of the sentence's distinct content tokens that occur in the window."""
    wanted = set(sentence)
    if not wanted:
        return 0.0
    return len(wanted & set(window)) / len(wanted)


def ordered_pairs(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """Adjacent content-token pairs of a sentence, in order (its "bigrams")."""
    return [(a, b) for a, b in itertools.pairwise(tokens) if a != b]


def pair_recall(sentence: Sequence[str], window: Sequence[str], reach: int = PAIR_REACH) -> float:
    """How many of the sentence's bigrams the window has in the same order, within `reach`.

    A pair found only in the reverse order counts half: "q is fit to p" paraphrases "fit p
    with q", but "KL(q||p) is high" must not match "high KL(p||q) ... KL(q||p) is low" fully.
    Sentences with a single content token have no pairs and score their token recall.
    """
    pairs = ordered_pairs(sentence)
    if not pairs:
        return token_recall(sentence, window)
    positions: dict[str, list[int]] = {}
    for i, tok in enumerate(window):
        positions.setdefault(tok, []).append(i)
    total = 0.0
    for a, b in pairs:
        gaps = [j - i for i in positions.get(a, []) for j in positions.get(b, [])]
        if any(0 < g <= reach for g in gaps):
            total += 1.0
        elif any(0 < -g <= reach for g in gaps):
            total += 0.5
    return total / len(pairs)


def order_recall(sentence: Sequence[str], window: Sequence[str]) -> float:
    """Longest common subsequence of the two token sequences, over the sentence's length.

    Adjacent pairs only see local order; this sees the whole sentence, so "NLL comes from
    information theory, whereas cross entropy comes from statistics" scores below the TA's
    order even though every bigram of it occurs somewhere in the source.
    """
    if not sentence:
        return 0.0
    previous = [0] * (len(window) + 1)
    for a in sentence:
        current = [0]
        for j, b in enumerate(window):
            current.append(previous[j] + 1 if a == b else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1] / len(sentence)


def alignment_score(sentence: Sequence[str], window: Sequence[str],
                    weights: tuple[float, float, float] = ALIGNMENT_WEIGHTS) -> float:
    """Weighted mean of token recall, ordered-pair recall and order (LCS) recall, in [0, 1]."""
    w_token, w_pair, w_order = weights
    return (w_token * token_recall(sentence, window) + w_pair * pair_recall(sentence, window)
            + w_order * order_recall(sentence, window))


def missing_math(sentence: Sequence[Token], window: Sequence[Token]) -> list[str]:
    """Math expressions of the sentence that the aligned window does not contain."""
    have = {t.text for t in window if t.kind == "math"}
    return sorted({t.text for t in sentence if t.kind == "math" and t.text not in have})


def unbound_math(sentence: Sequence[str], window: Sequence[str], reach: int = BIND_REACH) -> list[str]:
    """Math tokens of the sentence that the window has, but not next to the same words.

    A math token is bound when the content token just before it in the sentence occurs just
    before it (within `reach`) in the window, or the one just after occurs just after it.
    Neighbours the window lacks altogether say nothing and are skipped. This catches
    "minimising KL(p||q) is mode-seeking" against a window that mentions KL(p||q) only in
    "when KL(p||q) is high" and says "minimise KL(q||p)" where it talks of mode-seeking.
    """
    present = set(window)
    positions: dict[str, list[int]] = {}
    for i, tok in enumerate(window):
        positions.setdefault(tok, []).append(i)
    unbound: list[str] = []
    for i, tok in enumerate(sentence):
        if "(" not in tok or tok not in present:
            continue
        checks = []
        if i > 0 and sentence[i - 1] in present:
            checks.append((sentence[i - 1], -1))
        if i + 1 < len(sentence) and sentence[i + 1] in present:
            checks.append((sentence[i + 1], 1))
        if not checks:
            continue
        bound = any(0 < (j - k) * side <= reach
                    for neighbour, side in checks for k in positions[tok] for j in positions[neighbour])
        if not bound:
            unbound.append(tok)
    return sorted(set(unbound))


def missing_numbers(sentence: Sequence[Token], window: Sequence[Token]) -> list[str]:
    """Numbers (digits or number words) of the sentence absent from the aligned window.

    Digits inside math expressions count too, so "R^(3x2)" against "R^(2x2)" is caught by
    the math check and "base 10" against "base 2" by this one.
    """
    have = {t.text for t in window if t.kind == "number"}
    have |= set(re.findall(r"\d+", " ".join(t.text for t in window if t.kind == "math")))
    return sorted({t.text for t in sentence if t.kind == "number" and t.text not in have})


def negated_tokens(tokens: Sequence[Token], scope: int = NEGATION_SCOPE) -> tuple[set[str], set[str]]:
    """(tokens in some negation's scope, tokens outside any).

    A negator's scope is the next `scope` content tokens of its clause; punctuation and
    clause words (because, whereas, but, ...) end it.
    """
    inside: set[str] = set()
    outside: set[str] = set()
    left = 0
    for tok in tokens:
        if tok.kind == "neg":
            left = scope
        elif tok.kind == "break":
            left = 0
        elif tok.kind in ("word", "math", "number"):
            (inside if left > 0 else outside).add(tok.text)
            left = max(0, left - 1)
    return inside, outside


def dropped_negations(sentence: Sequence[Token], window: Sequence[Token]) -> list[str]:
    """Tokens the sentence states plainly that the aligned source only ever states negated.

    "they require the Hessian" against "they never require calculating the Hessian". (The
    opposite mistake, a negation the source lacks, is caught by `swap_variants`: the sentence
    without its "not" fits the source better.)
    """
    s_in, s_out = negated_tokens(sentence)
    w_in, w_out = negated_tokens(window)
    return sorted(t for t in s_out - s_in if t in w_in and t not in w_out)


# Role words with an opposite: a sentence that says one where the TA said the other, in the
# same place, states the reverse claim. Phrases are matched on normalised, de-hyphenated text.
ROLE_OPPOSITES: tuple[tuple[str, str], ...] = (
    ("mode seeking", "mean seeking"), ("exclusive", "inclusive"), ("high", "low"), ("higher", "lower"),
    ("first", "second"), ("forward", "reverse"), ("forward", "backward"), ("bfs", "dfs"),
    ("maximise", "minimise"), ("maximize", "minimize"), ("true", "estimate"), ("same", "different"),
    ("correct", "incorrect"), ("more", "less"), ("larger", "smaller"), ("faster", "slower"),
    ("theoretically", "in practice"), ("statistics", "information theory"), ("discrete", "continuous"),
    ("always", "never"), ("increase", "decrease"),
)
_NEGATION_PHRASE = re.compile(r"\b(?:not|never|no|none|cannot|n't)\b|n't\b")
_WORD_EDGE = r"(?<![a-z0-9_'])"
_WORD_END = r"(?![a-z0-9_'])"


def _exchange(text: str, one: str, other: str) -> str:
    """`text` with every `one` replaced by `other` and vice versa, in a single pass."""
    pattern = rf"{_WORD_EDGE}(?:{re.escape(one)}|{re.escape(other)}){_WORD_END}"
    return re.sub(pattern, lambda m: other if m.group(0) == one else one, text)


def swap_variants(sentence: str) -> list[tuple[str, str]]:
    """(description, rewritten sentence) for each rewrite that would reverse the claim.

    Arguments inside a math expression (KL(p||q) -> KL(q||p)); two single-letter symbols
    exchanged throughout (p <-> q); a role word replaced by its opposite, or two present
    role words exchanged (forward <-> reverse); and the sentence with its negation removed.
    If the source supports a variant better than the sentence, the sentence most likely
    says the reverse of what the source says.
    """
    norm = normalise(sentence).replace("-", " ")
    variants: list[tuple[str, str]] = []
    reversible: list[tuple[str, str]] = []
    for expr in dict.fromkeys(m.group(0) for m in MATH_PATTERN.finditer(norm)):
        inner = re.match(r"([a-z0-9_]+)\((.*)\)$", expr)
        if inner is None:
            continue
        for sep in ("||", ","):
            args = [a.strip() for a in inner.group(2).split(sep)]
            if len(args) >= 2 and len(set(args)) > 1:
                flipped = f"{inner.group(1)}({sep.join(reversed(args))})"
                reversible.append((expr, flipped))
                variants.append((f"arguments of {expr} reversed", norm.replace(expr, flipped)))
                break
    if len(reversible) > 1:  # all at once, in one pass so KL(p||q) <-> KL(q||p) do not undo each other
        mapping = dict(reversible)
        pattern = "|".join(re.escape(expr) for expr in mapping)
        variants.append(("arguments of every math expression reversed",
                         re.sub(pattern, lambda m: mapping[m.group(0)], norm)))
    letters = sorted(set(re.findall(rf"{_WORD_EDGE}([b-hj-z]){_WORD_END}", norm)))
    for i, a in enumerate(letters):
        for b in letters[i + 1:]:
            variants.append((f"'{a}' and '{b}' exchanged", _exchange(norm, a, b)))
    for one, other in ROLE_OPPOSITES:
        has_one = re.search(rf"{_WORD_EDGE}{re.escape(one)}{_WORD_END}", norm) is not None
        has_other = re.search(rf"{_WORD_EDGE}{re.escape(other)}{_WORD_END}", norm) is not None
        if has_one and has_other:
            variants.append((f"'{one}' and '{other}' exchanged", _exchange(norm, one, other)))
        elif has_one or has_other:
            have, want = (one, other) if has_one else (other, one)
            variants.append((f"'{have}' where the source says '{want}'", _exchange(norm, have, want)))
    if _NEGATION_PHRASE.search(norm):
        plain = _NEGATION_PHRASE.sub(" ", norm).replace("neither", "both").replace(" nor ", " and ")
        variants.append(("a negation the source does not make", plain))
    return variants


# ------------------------------------------------------------------------------ the scorer


def best_window(sentence: Sequence[str], units: Sequence[Sequence[str]]) -> tuple[float, tuple[int, int]]:
    """(alignment score minus window penalty, (start, end)) of the best run of source units."""
    best = (-1.0, (0, 0))
    for start, end in source_windows(units):
        window = [tok for unit in units[start:end] for tok in unit]
        value = alignment_score(sentence, window) - WINDOW_PENALTY * (end - start - 1)
        if value > best[0]:
            best = (value, (start, end))
    return best


def contradiction_reasons(sentence: str, tokens: Sequence[Token], window: Sequence[Token],
                          units: Sequence[Sequence[str]], aligned: float) -> list[str]:
    """The hard contradictions between `sentence` and its aligned `window` (see module doc)."""
    reasons = [f"math '{m}' not in aligned source" for m in missing_math(tokens, window)]
    reasons += [f"math '{m}' is not said of the same thing in the aligned source"
                for m in unbound_math(content(tokens), content(window))]
    reasons += [f"number {n} not in aligned source" for n in missing_numbers(tokens, window)]
    dropped = dropped_negations(tokens, window)
    if dropped:
        reasons.append(f"the source negates what the sentence states: {', '.join(dropped)}")
    for description, variant in swap_variants(sentence):
        variant_score, _ = best_window(content(tokenize(variant)), units)
        if variant_score > aligned + SWAP_MARGIN:
            reasons.append(f"swap: {description} (the reverse fits the source better)")
            break
    return reasons


def score_support(sentence: str, source: str, threshold: float = DEFAULT_THRESHOLD) -> Support:
    """Score how well `source` (a TA answer) supports `sentence`; see the module docstring."""
    tokens = tokenize(sentence)
    sent = content(tokens)
    unit_texts = split_units(source)
    if not sent or not unit_texts:
        return Support(0.0, False, "", ("no content words to check" if not sent else "empty source",))
    unit_tokens = [tokenize(u) for u in unit_texts]
    units = [content(u) for u in unit_tokens]
    aligned, (start, end) = best_window(sent, units)
    window = [t for unit in unit_tokens[start:end] for t in unit]
    score = alignment_score(sent, content(window))
    reasons = contradiction_reasons(sentence, tokens, window, units, aligned)
    hard = len(reasons)
    if score < threshold:
        novel = [tok for tok in dict.fromkeys(sent) if tok not in {t for unit in units for t in unit}]
        unseen = f"; not in the source: {', '.join(novel[:6])}" if novel else ""
        reasons.append(f"low overlap with the source ({score:.2f} < {threshold:.2f}){unseen}")
    # Halve per contradiction so that unfaithful text also ranks low by score alone.
    score = max(0.0, min(1.0, score * (0.5 ** hard)))
    return Support(round(score, 4), not reasons, " ".join(unit_texts[start:end]), tuple(reasons))
