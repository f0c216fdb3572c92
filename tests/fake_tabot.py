"""A hand-written stand-in for `bot.service.Tabot`, returning real `bot.schema.Answer` objects.

Front-end tests use it to pin exact cases (a failed demo, an exception inside the service)
that the real engine does not produce on demand. It keeps the real service's interface:
`ask(question, previous=None)`, `topics()`, `example_questions()`, and `demo_source()` through a
real `DemoRunner`, so the front ends see exactly the demos the real service would run. Questions are
cleaned and bounded by the real `bot.answering.guard.clean_question`, with its notices.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from bot.answering.compose import abstention_text
from bot.answering.guard import clean_question
from bot.config import Settings
from bot.demo_runs.runner import DemoRunner
from bot.errors import BackendError
from bot.schema import Answer, CheckResult, CitedSentence, DemoAttachment, Source, Verdict

KL_TA = ("This animation tells us that 1) \\(KL(p\\|q)\\) and \\(KL(q\\|p)\\) are both needed to get a picture. "
         "2) minimising \\(KL(p\\|q)\\) and minimising \\(KL(q\\|p)\\) will give us different curves.")
KL_QUESTION = "I found this gif on Twitter demonstrating KL divergence asymmetry [...] Can someone explain?"
LOG_QUESTION = "Does the base of the log matter in cross-entropy?"


def tiny_png(path: Path) -> Path:
    """Write a valid 1x1 PNG (no matplotlib needed in front-end tests)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"\x00\xff\x00\x00"  # filter byte + one red RGB pixel
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def kl_answer(question: str, plot_path: str | None = None, passed: bool = True) -> Answer:
    checks = (
        CheckResult("forward_ne_reverse", True, "KL(p||q) != KL(q||p) at the fitted q", 0.4312, 1.2021),
        CheckResult("reverse_is_mode_seeking", passed, "|mu_q - mode| < 0.1", 0.013, 0.0),
    )
    demo = DemoAttachment(
        name="kl_asymmetry", claim="minimising KL(p||q) and minimising KL(q||p) will give us different curves",
        entry_id="kl-asymmetry", verdict=Verdict.PASSED if passed else Verdict.FAILED, checks=checks,
        metrics={"mu_forward": 0.0012, "mu_reverse": 2.987, "kl_pq_at_forward_fit": 0.4312,
                 "grid": list(range(50))},
        plot_path=plot_path)
    text = "minimising \\(KL(p\\|q)\\) and minimising \\(KL(q\\|p)\\) will give us different curves [1]."
    return Answer(
        question=question, answer=text, abstained=False,
        sources=[Source("kl-asymmetry", KL_QUESTION, 0.91, KL_TA)],
        sentences=[CitedSentence(text, "kl-asymmetry")], demos=[demo],
        timings_ms={"total": 3.0})


def abstain_answer(question: str) -> Answer:
    return Answer(
        question=question,
        answer=abstention_text(),
        abstained=True,
        nearest=[Source("kl-asymmetry", KL_QUESTION, 0.21), Source("log-base", LOG_QUESTION, 0.12)])


class FakeTabot:
    """Answers KL questions with a cited answer and a demo, abstains otherwise.

    Questions containing "boom" raise a non-Tabot error (a bug inside the service); "backend
    down" raises a `BackendError`. Every call is recorded in `calls` as (question, previous).
    """

    def __init__(self, plot_path: Path | None = None, settings: Settings | None = None) -> None:
        self.plot_path = str(plot_path) if plot_path else None
        self.settings = settings or Settings()
        self.demos = DemoRunner(self.settings)
        self.calls: list[tuple[str, Answer | None]] = []

    def ask(self, question: str, previous: Answer | None = None) -> Answer:
        self.calls.append((question, previous))
        question, notices = clean_question(question, self.settings.max_question_chars)
        if "boom" in question:
            raise RuntimeError("Traceback (most recent call last): secret internals")
        if "backend down" in question:
            raise BackendError("The answer backend is unreachable; try again in a minute.")
        follow_up = previous is not None and not previous.abstained and question.strip().lower() in {"why?", "why"}
        if "kl" in question.lower() or follow_up:
            answer = kl_answer(question, self.plot_path)
        else:
            answer = abstain_answer(question)
        answer.notices[:0] = notices  # first, as the real service puts them
        return answer

    def demo_source(self, name: str) -> str:
        return self.demos.path(name).read_text(encoding="utf-8")

    def entry_question(self, entry_id: str) -> str | None:
        return {"kl-asymmetry": KL_QUESTION, "log-base": LOG_QUESTION}.get(entry_id)

    def topics(self) -> list[tuple[str, str]]:
        return [("kl-asymmetry", "KL divergence asymmetry"), ("log-base", "The base of the log")]

    def example_questions(self) -> list[str]:
        return ["why is KL divergence not symmetric", "does the base of the log matter?"]
