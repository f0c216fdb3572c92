"""Demo verification in the background (issue 12, defect 4): a server serves at once, answers say
"not verified: verifying…" for a demo without a result yet, and a result cached by an earlier start
shows at once. Uses the real service (MiniLM, Chroma, the project's demos in the sandbox)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.config import Settings
from bot.demo_runs.runner import VERIFYING, DemoRunner
from bot.schema import Verdict
from bot.service import Tabot

QUESTION = "why is KL divergence not symmetric"


@pytest.fixture
def held_runs(monkeypatch: pytest.MonkeyPatch):
    """Every fresh demo run waits for the returned event: "verification still running", on demand."""
    gate = threading.Event()
    real_run = DemoRunner.run

    def held(self: DemoRunner, name: str, use_cache: bool = True):
        gate.wait(120)
        return real_run(self, name, use_cache)

    monkeypatch.setattr(DemoRunner, "run", held)
    yield gate
    gate.set()  # never leave the verifier thread waiting


def test_answers_say_verifying_until_the_background_verification_has_a_result(tmp_path: Path, held_runs) -> None:
    lines: list[str] = []
    tabot = Tabot.start(Settings(data_dir=tmp_path / "data"), progress=lines.append, verify_in_background=True)
    assert tabot._verifier is not None and tabot._verifier.is_alive()  # started, not finished: serving already
    during = tabot.ask(QUESTION)
    assert during.demos and {(d.verdict, d.reason) for d in during.demos} == {(Verdict.NOT_VERIFIED, VERIFYING)}

    held_runs.set()
    tabot._verifier.join(300)
    after = tabot.ask(QUESTION)
    assert {d.verdict for d in after.demos} == {Verdict.PASSED}
    assert any(line.startswith("demos: 8/8 verified and passing") for line in lines)

    # The next start finds every verdict cached: answers have results while it verifies again.
    held_runs.clear()
    again = Tabot.start(Settings(data_dir=tmp_path / "data"), verify_in_background=True)
    assert {d.verdict for d in again.ask(QUESTION).demos} == {Verdict.PASSED}
    held_runs.set()
    again._verifier.join(300)


def test_one_shot_start_still_verifies_before_answering(tabot: Tabot) -> None:
    # `tabot ask` and the eval suite start without the background flag: no answer says "verifying".
    assert tabot._verifier is None
    assert {d.verdict for d in tabot.ask(QUESTION).demos} == {Verdict.PASSED}
