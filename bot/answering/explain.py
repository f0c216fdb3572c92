"""Why the bot answered a post or declined it, for course staff (`tabot ask --why`).

A TA who hears "the bot would not answer my question" (or answered it from the wrong TA answer)
decides between three fixes: add the student's phrasing to the entry's aliases, add it to its near
misses, or write a new entry. That needs what the bot read and what moved its decision: the question
it found in the post, each candidate entry's confidence against the threshold, how much each feature
of the abstention model pushed it up or down (weight times value, on the log-odds), and which of the
entry's own questions and which listed near misses the question agreed with word by word. Nothing
here decides anything: it reads the same retriever `Composer.select` reads, and its verdict is the
composer's for a post asked on its own (a follow-up leans on the previous answer, which this does not
see, and the parts of a post only add a second entry to an answer already given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.answering.small_talk import small_talk
from bot.search.pieces import asked_texts, piece_texts
from bot.search.reading.abbreviations import as_searched
from bot.search.retrieve import Calibration, EntryHit, HybridRetriever
from bot.search.token_match import AGREEING_TEXTS, agreements

# What each feature of the abstention model measures, as staff read it (Calibration.FEATURES order).
FEATURE_MEANINGS = {
    "focus": "question vs the entry (sentence cosine)",
    "post": "whole post vs the entry (sentence cosine)",
    "coverage": "question's words found in the entry",
    "meaning_focus": "question's words matched in meaning",
    "meaning_post": "post's best-matched words",
    "background": "post vs the course as a whole",
    "near_miss": "post nearer a near miss than to the entry",
    "near_miss_words": "question agrees more with near misses than with the entry's questions",
}
# The post's text shown, at most (the focus is shown whole).
PROSE_SHOWN = 300


@dataclass(frozen=True)
class Pull:
    """One feature of one candidate: its value and what it adds to the log-odds of answering."""

    feature: str
    value: float
    weight: float

    @property
    def pull(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    confidence: float
    pulls: tuple[Pull, ...]
    bias: float
    agreeing_questions: tuple[tuple[str, float], ...]  # the entry's own questions agreeing best, F1


@dataclass(frozen=True)
class Explanation:
    question: str  # as cleaned
    small_talk: str | None  # the kind of small talk the post was taken for (then nothing was searched)
    focus: str  # the question found in the post, as searched
    prose: str  # the post without code, quotes, links, greetings
    set_aside: tuple[str, ...]  # what says where it comes from, read aside (`bot.search.reading.where_asked`)
    threshold: float
    candidates: tuple[Candidate, ...]  # most confident first
    agreeing_near_misses: tuple[tuple[str, str, float], ...]  # (near miss, its entry, F1), best first
    # its last question, off the course, when an earlier one was read (`bot.search.reading.off_course`)
    passed_over: str = ""
    # abbreviations as typed and as read (`bot.search.reading.abbreviations`)
    spelled_out: tuple[tuple[str, str], ...] = ()

    @property
    def answered(self) -> bool:
        return self.small_talk is None and bool(self.candidates) and self.candidates[0].confidence >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question, "small_talk": self.small_talk, "focus": self.focus, "prose": self.prose,
            "set_aside": list(self.set_aside), "passed_over": self.passed_over,
            "spelled_out": [{"typed": typed, "read": read} for typed, read in self.spelled_out],
            "answered": self.answered,
            "threshold": round(self.threshold, 4),
            "candidates": [{"entry_id": c.entry_id, "confidence": round(c.confidence, 4), "bias": round(c.bias, 4),
                            "features": {p.feature: {"value": round(p.value, 4), "pull": round(p.pull, 4)}
                                         for p in c.pulls},
                            "agreeing_questions": [{"text": t, "f1": round(f, 4)} for t, f in c.agreeing_questions]}
                           for c in self.candidates],
            "agreeing_near_misses": [{"text": t, "entry_id": e, "f1": round(f, 4)}
                                     for t, e, f in self.agreeing_near_misses],
        }

    def verdict(self) -> str:
        """One line: answered from which entry, or declined, and the confidence against the threshold."""
        if self.small_talk is not None:
            return f"Read as small talk ({self.small_talk}): answered with a small-talk reply, nothing searched."
        if not self.candidates:
            return "No entry came close: declined."
        best = self.candidates[0]
        return (f"Answered from {best.entry_id}" if self.answered else f"Declined (closest: {best.entry_id})") + (
            f": its confidence {best.confidence:.3f} is {'at or above' if self.answered else 'below'} "
            f"the threshold {self.threshold:.3f}.")

    def text(self) -> str:
        """The explanation as the terminal prints it."""
        if self.small_talk is not None:
            return self.verdict()
        lines = ["The question it found in the post:", f"  {self.focus}"]
        if self.prose != self.focus:
            shown = self.prose if len(self.prose) <= PROSE_SHOWN else self.prose[:PROSE_SHOWN] + "…"
            lines += ["The post it read around it (no code, quotes, links or greetings):", f"  {shown}"]
        if self.set_aside:
            lines += ["Read aside, as where the question comes from: " + "; ".join(f"“{s}”" for s in self.set_aside)]
        if self.spelled_out:
            lines += ["Read in the words the TA answers use: " + "; ".join(f"“{typed}” as “{read}”"
                                                                          for typed, read in self.spelled_out)]
        if self.passed_over:
            lines += ["Passed over, as further from the course than any question the TA answers list: "
                      f"“{self.passed_over}”"]
        lines += ["", self.verdict()]
        for candidate in self.candidates:
            lines += ["", f"{candidate.entry_id}: confidence {candidate.confidence:.3f}",
                      f"  {'feature':<70} {'value':>7} {'pull':>7}"]
            lines += [f"  {FEATURE_MEANINGS.get(p.feature, p.feature):<70} {p.value:>7.3f} {p.pull:>+7.2f}"
                      for p in candidate.pulls]
            lines.append(f"  {'(bias)':<70} {'':>7} {candidate.bias:>+7.2f}")
            if candidate.agreeing_questions:
                lines.append("  its own questions the question agrees with best (F1):")
                lines += [f"    {f1:.2f}  {text}" for text, f1 in candidate.agreeing_questions]
        if self.agreeing_near_misses:
            lines += ["", "Near misses (questions staff listed as not covered) the question agrees with best (F1):"]
            lines += [f"  {f1:.2f}  {text}  [{entry_id}]" for text, entry_id, f1 in self.agreeing_near_misses]
        return "\n".join(lines)


def explain(retriever: HybridRetriever, question: str) -> Explanation:
    """What the bot reads in `question` (already cleaned, as `Tabot.ask` cleans it) and why it would
    answer it or decline it, asked on its own."""
    calibration = retriever.calibration
    if (kind := small_talk(question)) is not None:
        return Explanation(question, kind.value, "", "", (), calibration.threshold, (), ())
    post, (focus, prose) = retriever.read(retriever.read_text(question))
    [hits] = retriever.search_many([post], [(focus, prose)])
    # The near misses as the index holds them (`as_searched`), and whose they are.
    owner = {text: entry.id for entry in as_searched(retriever.entries.values()) for text in entry.near_misses}
    near_misses = retriever.index.near_misses.agreeing(focus.vector, focus.pieces)
    return Explanation(
        question=question, small_talk=None, focus=post.read_as, prose=post.prose, set_aside=post.set_aside,
        threshold=calibration.threshold,
        candidates=tuple(_candidate(retriever, calibration, hit, focus.pieces) for hit in hits),
        agreeing_near_misses=tuple((text, owner.get(text, ""), f1) for text, f1 in near_misses),
        passed_over=post.passed_over, spelled_out=post.spelled_out)


def _candidate(retriever: HybridRetriever, calibration: Calibration, hit: EntryHit,
               focus_pieces: np.ndarray) -> Candidate:
    pulls = tuple(Pull(name, value, getattr(calibration, f"w_{name}"))
                  for name, value in zip(Calibration.FEATURES, hit.features, strict=True))
    # The entry's own questions as the feature read them, from the index's pieces (in `piece_texts`
    # order), so the F1s listed are the ones the feature averaged.
    entry = retriever.entries[hit.entry_id]
    asked = piece_texts(entry)[:asked_texts(entry)]
    questions = retriever.index.entry_pieces(hit.entry_id).asked
    scores = agreements(focus_pieces, questions)
    best = np.argsort(-scores, kind="stable")[:AGREEING_TEXTS]
    return Candidate(hit.entry_id, hit.confidence, pulls, calibration.bias,
                     tuple((asked[questions.kept[j]], float(scores[j])) for j in best))
