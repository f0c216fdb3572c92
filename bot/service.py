"""`Tabot`: the one API every front end (through `bot.conversation`) and the eval suite call.

`Tabot.start()` loads and validates the knowledge base, brings the index up to date (embedding
only what changed), and verifies the demos (from the cache when their source is unchanged).
`ask()` turns a question into an `Answer` in three steps, each owned by one package:
clean (`answering.guard`) -> compose from retrieved TA answers (`answering.compose`, optionally
rewritten by `answering.llm`) -> attach the demo runs backing the claims the reply makes
(`demo_runs`). The front ends only render the result.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from bot.answering.compose import Composer, claims_made
from bot.answering.explain import Explanation, explain
from bot.answering.guard import clean_question
from bot.answering.llm import LLMWriter
from bot.config import Settings
from bot.demo_runs.runner import DemoRun, DemoRunner
from bot.knowledge import Claim, Entry, load_entries
from bot.schema import Answer, CheckResult, DemoAttachment, Verdict
from bot.search.embeddings import shared_model
from bot.search.index import KnowledgeIndex
from bot.search.retrieve import Calibration, HybridRetriever

Progress = Callable[[str], None]
log = logging.getLogger(__name__)


def _quiet(message: str) -> None:
    """Default progress sink: say nothing."""


def console_progress(message: str) -> None:
    """The progress sink of every command that starts the service: one line each on stderr."""
    print(message, file=sys.stderr, flush=True)


class Tabot:
    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.settings = settings
        # First: a missing LLM package is a one-line error before the model and index load (~18 s).
        self.llm = LLMWriter.from_settings(settings) if settings.llm else None
        self._say = progress or _quiet
        self._lock = threading.RLock()  # re-indexing swaps state that answering reads
        self.demos = DemoRunner(settings)
        self._demo_runs: dict[str, DemoRun] = {}
        self._verifier: threading.Thread | None = None  # the background verification, if one was started
        self.index = KnowledgeIndex(settings, shared_model(), progress=self._say)
        self.entries: dict[str, Entry] = {}
        self.retriever: HybridRetriever | None = None
        self.composer: Composer | None = None

    @classmethod
    def start(cls, settings: Settings | None = None, progress: Progress | None = None, *,
              verify_in_background: bool = False) -> Tabot:
        """A ready service. A server (chat, Discord) passes `verify_in_background=True` so that it
        serves at once; one-shot commands (ask, eval) verify first, so every answer has its results."""
        tabot = cls(settings or Settings.from_env(), progress)
        tabot.reindex()
        if verify_in_background:
            tabot.verify_demos_in_background()
        else:
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
            self.composer = Composer(self.entries, self.retriever, self.index.model.encode)
        self._say(report.summary())
        return report.summary()

    def verify_demos(self) -> list[DemoRun]:
        runs = self.demos.verify_all(use_cache=True, progress=self._say)
        self._demo_runs = {run.name: run for run in runs}
        failing = [run for run in runs if not run.passed]
        self._say(f"demos: {len(runs) - len(failing)}/{len(runs)} verified and passing"
                  + (f"; not passing: {', '.join(r.name for r in failing)}" if failing else ""))
        return runs

    def verify_demos_in_background(self) -> threading.Thread:
        """Verify in a thread. Until a demo has a result (from this run, or cached by an earlier
        start) answers show it as "not verified: verifying…" instead of waiting for it."""
        def verify() -> None:
            try:
                self.verify_demos()
            except Exception as error:  # a thread's exception would otherwise vanish from the log
                log.exception("verifying the demos failed")
                self._say(f"demos: verification failed ({error}); answers show them as not verified")

        self._verifier = threading.Thread(target=verify, name="tabot-verify-demos", daemon=True)
        self._verifier.start()
        return self._verifier

    def demo_run(self, name: str) -> DemoRun:
        """The demo's result for its *current* source: re-run if the file changed since."""
        # No service lock here: a re-run can take up to TABOT_DEMO_TIMEOUT, and the runner already
        # lets only one run of a demo happen at a time (the second caller gets the cached result).
        run = self._demo_runs.get(name)
        if run is None and self._verifier is not None and self._verifier.is_alive():
            # Never wait behind the background verification (a hanging demo would hold the answer).
            return self.demos.cached(name) or self.demos.pending(name)
        if run is None or run.source_hash != self.demos.source_hash(name):
            run = self.demos.run(name, use_cache=True)
            self._demo_runs[name] = run
        return run

    def attach_demo(self, entry_id: str, claim: Claim) -> DemoAttachment:
        """The run of the claim's demo, judged on the checks the claim names (all when it names none)."""
        assert claim.demo is not None
        run = self.demo_run(claim.demo)
        shown = tuple(c for c in run.checks if not claim.checks or c.name in claim.checks) or run.checks
        if not run.verified:
            verdict = Verdict.NOT_VERIFIED
        else:
            verdict = Verdict.PASSED if shown and all(c.passed for c in shown) else Verdict.FAILED
        return DemoAttachment(name=claim.demo, claim=claim.text, entry_id=entry_id, verdict=verdict,
                              reason=run.reason,
                              checks=tuple(CheckResult(c.name, c.passed, c.detail, c.value, c.reference)
                                           for c in shown),
                              metrics=dict(run.metrics), plot_path=run.plot_path)

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
        attaching = time.perf_counter()
        answer.demos = [self.attach_demo(entry.id, claim) for entry, claim in claims_made(answer, self.entries)]
        answer.timings_ms["demos"] = (time.perf_counter() - attaching) * 1000
        answer.notices[:0] = [n for n in notices if n not in answer.notices]  # another language, told twice: once
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    def explain(self, question: object) -> Explanation:
        """Why `ask` would answer `question` (asked on its own) or decline it: for staff, `tabot ask --why`."""
        cleaned, _ = clean_question(question, self.settings.max_question_chars)
        with self._lock:
            retriever = self.retriever
        assert retriever is not None, "call Tabot.start() (or reindex()) first"
        return explain(retriever, cleaned)

    def demo_source(self, name: str) -> str:
        """The source of a demo the runner knows (DemoError naming the known ones otherwise)."""
        return self.demos.path(name).read_text(encoding="utf-8")

    def topics(self) -> list[tuple[str, str]]:
        return [(entry.id, entry.title) for entry in self.entries.values()]

    def entry_question(self, entry_id: str) -> str | None:
        """The question an entry answers (what a decline's "closest topic" button asks), None if gone."""
        entry = self.entries.get(entry_id)
        return entry.question if entry is not None else None

    def example_questions(self, limit: int = 5) -> list[str]:
        """Start-screen examples: each entry's first alias (staff-written, so always answerable)."""
        examples = []
        for entry in self.entries.values():
            if entry.aliases:
                text = entry.aliases[0].strip()
                examples.append(text[0].upper() + text[1:] + ("" if text.endswith("?") else "?"))
        return examples[:limit]

    # ----------------------------------------------------------------------------- for the eval suite

    @property
    def threshold(self) -> float:
        """The calibrated confidence below which `ask` declines."""
        assert self.retriever is not None, "call Tabot.start() (or reindex()) first"
        return self.retriever.calibration.threshold

    def rank(self, question: str) -> list[str]:
        """Entry ids best first for `question`, cleaned exactly as `ask` cleans it (ranking only)."""
        cleaned, _ = clean_question(question, self.settings.max_question_chars)
        with self._lock:
            retriever = self.retriever
        assert retriever is not None, "call Tabot.start() (or reindex()) first"
        return [hit.entry_id for hit in retriever.search(cleaned)]

    def indexed_texts(self) -> list[tuple[str, str]]:
        """(entry id, text) of every indexed chunk: what a baseline should search over to be fair."""
        return [(chunk.entry_id, chunk.text) for chunk in self.index.chunks]

    def embed_query(self, text: str) -> list[float]:
        """One bare query embedding (the latency yardstick the eval report compares answers with)."""
        return self.index.embeddings.embed_query(text)
