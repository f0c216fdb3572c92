"""`Tabot`: the one object every front end talks to.

`Tabot.start()` loads and validates the knowledge base, brings the index up to date (embedding
only what changed), and verifies the demos (from the cache when their source is unchanged).
`ask()` turns a question into an `Answer`; the front ends only render it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.answer import Composer
from bot.config import Settings
from bot.demos_runner import DemoRun, DemoRunner
from bot.embeddings import shared_model
from bot.guard import clean_question
from bot.index import KnowledgeIndex
from bot.knowledge import Entry, load_entries
from bot.llm import LLMWriter
from bot.retrieve import Calibration, HybridRetriever
from bot.schema import Answer, CheckResult, DemoAttachment

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress sink: say nothing."""


class Tabot:
    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.settings = settings
        self._say = progress or _quiet
        self._lock = threading.RLock()  # re-indexing swaps state that answering reads
        self.demos = DemoRunner(settings)
        self._demo_runs: dict[str, DemoRun] = {}
        self.index = KnowledgeIndex(settings, shared_model(), progress=self._say)
        self.entries: dict[str, Entry] = {}
        self.retriever: HybridRetriever | None = None
        self.composer: Composer | None = None
        self.llm = LLMWriter.from_settings(settings) if settings.llm else None

    @classmethod
    def start(cls, settings: Settings | None = None, progress: Progress | None = None) -> Tabot:
        tabot = cls(settings or Settings.from_env(), progress)
        tabot.reindex()
        tabot.verify_demos()
        return tabot

    # ----------------------------------------------------------------------------- set-up

    def load_entries(self) -> list[Entry]:
        catalog = {name: self.demos.check_names(name) for name in self.demos.names()}
        return load_entries(self.settings.knowledge_dir, catalog)

    def reindex(self) -> str:
        """Reload the knowledge folder and sync the index; returns a one-line summary."""
        entries = self.load_entries()  # validate before touching the live state
        self._say(f"knowledge: {len(entries)} entries from {self.settings.knowledge_dir}")
        with self._lock:
            report = self.index.sync(entries)
            self.entries = {e.id: e for e in entries}
            self.retriever = HybridRetriever(index=self.index, entries=self.entries, calibration=Calibration.load())
            self.composer = Composer(self.entries, self.retriever, self.index.model.encode, self.attach_demo)
        self._say(report.summary())
        return report.summary()

    def verify_demos(self) -> list[DemoRun]:
        runs = self.demos.verify_all(use_cache=True, progress=self._say)
        self._demo_runs = {run.name: run for run in runs}
        failing = [run for run in runs if not run.passed]
        self._say(f"demos: {len(runs) - len(failing)}/{len(runs)} verified and passing"
                  + (f"; not passing: {', '.join(r.name for r in failing)}" if failing else ""))
        return runs

    def demo_run(self, name: str) -> DemoRun:
        """The demo's result for its *current* source: re-run if the file changed since."""
        # No service lock here: a re-run can take up to TABOT_DEMO_TIMEOUT, and the runner already
        # lets only one run of a demo happen at a time (the second caller gets the cached result).
        run = self._demo_runs.get(name)
        if run is None or run.source_hash != self.demos.source_hash(name):
            run = self.demos.run(name, use_cache=True)
            self._demo_runs[name] = run
        return run

    def attach_demo(self, name: str, claim: str, checks: tuple[str, ...], entry_id: str) -> DemoAttachment:
        run = self.demo_run(name)
        shown = tuple(c for c in run.checks if not checks or c.name in checks) or run.checks
        # A claim is backed only by the checks it names (all of them when it names none).
        passed = run.verified and bool(shown) and all(c.passed for c in shown)
        status = run.status if not run.verified else ("passed" if passed else "failed")
        plot = run.artifacts.get("plot")
        return DemoAttachment(name=name, claim=claim, entry_id=entry_id, passed=passed, status=status,
                              checks=tuple(CheckResult(c.name, c.passed, c.detail, c.value, c.reference)
                                           for c in shown),
                              metrics=dict(run.metrics), plot_path=plot)

    # ----------------------------------------------------------------------------- answering

    def ask(self, question: object, previous: Answer | None = None) -> Answer:
        """Answer one question; `previous` is the last Answer in this conversation, if any."""
        started = time.perf_counter()
        cleaned, notices = clean_question(question, self.settings.max_question_chars)
        with self._lock:
            composer = self.composer
        assert composer is not None, "call Tabot.start() (or reindex()) before ask()"
        answer = composer.compose(cleaned, previous)
        if self.llm is not None and not answer.abstained:
            answer = self.llm.rewrite(answer, self.entries)
        answer.notices[:0] = notices
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    def topics(self) -> list[tuple[str, str]]:
        return [(entry.id, entry.title) for entry in self.entries.values()]

    def example_questions(self, limit: int = 5) -> list[str]:
        """Start-screen examples: each entry's first alias (staff-written, so always answerable)."""
        examples = []
        for entry in self.entries.values():
            if entry.aliases:
                text = entry.aliases[0].strip()
                examples.append(text[0].upper() + text[1:] + ("" if text.endswith("?") else "?"))
        return examples[:limit]
