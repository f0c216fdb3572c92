"""The `Answer` every front end renders, and its parts.

One `Answer` is composed once (`bot.service.Tabot.ask`) and rendered by Gradio, Discord, the CLI and
the eval suite alike. `to_json()` is the fixed contract of DESIGN.md (`tabot ask --json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """What a demo run says about a claim. Faces colour and word it; nobody parses a string."""

    PASSED = "passed"  # verified on the current source, and every check the claim names passed
    FAILED = "failed"  # verified, and at least one of those checks failed
    NOT_VERIFIED = "not verified"  # the run could not be trusted (crash, timeout, stale, ...): see `reason`

    def worst(self, other: Verdict) -> Verdict:
        """The verdict of two runs shown as one card: a doubt beats a failure beats a pass."""
        order = (Verdict.PASSED, Verdict.FAILED, Verdict.NOT_VERIFIED)
        return max(self, other, key=order.index)


# `Answer.backend` of a reply to small talk (greetings, thanks, goodbyes).
SMALL_TALK = "small-talk"

@dataclass(frozen=True)
class Source:
    """A TA answer the reply draws on."""

    entry_id: str
    question: str  # the student's question as asked, shown as the source
    score: float  # calibrated confidence in [0, 1]
    ta_answer: str = ""  # the TA's full text, for an expandable panel
    title: str = ""  # the entry's short name (`Entry.title`), as the start screen lists it

    @property
    def topic(self) -> str:
        """What a decline's closest-topic list and buttons show: the entry's short name, the question
        when it has none. A seed question can be a 60-word post ("I found this gif on Twitter ...")."""
        return self.title or self.question

    def to_json(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "question": self.question, "score": round(self.score, 4)}


@dataclass(frozen=True)
class CitedSentence:
    """One sentence of the reply, the TA answer it comes from, and how well that supports it."""

    text: str
    entry_id: str
    support: float = 1.0
    supported: bool = True
    # The TA text this sentence stands on: the sentence itself on the grounded path, the aligned TA
    # span for an LLM's sentence. Demos are attached by what this text claims.
    grounded_in: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "entry_id": self.entry_id,
                "support": round(self.support, 4), "supported": self.supported}


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str = ""
    value: Any = None
    reference: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail,
                "value": self.value, "reference": self.reference}


@dataclass(frozen=True)
class DemoAttachment:
    """A demo run backing one claim of the reply.

    `verdict` is PASSED only when the demo was verified on this version of its source and every
    check the claim names passed; `reason` says why a run is NOT_VERIFIED.
    """

    name: str
    claim: str
    entry_id: str
    verdict: Verdict
    reason: str = ""
    checks: tuple[CheckResult, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    plot_path: str | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def status(self) -> str:
        """The contract's one-line status: "passed", "failed" or "not verified: <reason>"."""
        return f"{self.verdict}: {self.reason}" if self.verdict is Verdict.NOT_VERIFIED else str(self.verdict)

    @property
    def run_command(self) -> str:
        return f"python -m demos.{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "claim": self.claim, "entry_id": self.entry_id,
                "passed": self.passed, "status": self.status, "verdict": str(self.verdict), "reason": self.reason,
                "checks": [c.to_json() for c in self.checks], "metrics": self.metrics,
                "plot": self.plot_path, "run": self.run_command}


@dataclass
class Answer:
    question: str
    answer: str  # markdown
    abstained: bool
    sources: list[Source] = field(default_factory=list)
    sentences: list[CitedSentence] = field(default_factory=list)
    demos: list[DemoAttachment] = field(default_factory=list)
    backend: str = "grounded"
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Short notes for the reader, e.g. "your question was cut to 2000 characters".
    notices: list[str] = field(default_factory=list)
    # When abstaining: the topics the bot does cover that came closest.
    nearest: list[Source] = field(default_factory=list)
    # The question found in a long post and searched for ("" when the message is its question).
    asked: str = ""

    @property
    def is_small_talk(self) -> bool:
        """A reply to "hi" / "thanks!" (`bot.answering.small_talk`): no TA answer, nothing to rate or log,
        and not the answer a follow-up refers to."""
        return self.backend == SMALL_TALK

    @property
    def entry_ids(self) -> list[str]:
        return [s.entry_id for s in self.sources]

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "sources": [s.to_json() for s in self.sources],
            "demos": [d.to_json() for d in self.demos],
            "backend": self.backend,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "sentences": [s.to_json() for s in self.sentences],
            "notices": list(self.notices),
            "nearest": [s.to_json() for s in self.nearest],
            "asked": self.asked,
        }
