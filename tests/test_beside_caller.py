"""Chroma's threads held beside the caller for a query (`bot.search.beside_caller`): who is pinned, to
what, and that everything goes back; and that the embedded Chroma still names its threads so."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from bot.search.beside_caller import CHROMA_THREADS, TASKS, BesideCaller, _sched_getcpu

pytestmark = pytest.mark.skipif(not os.path.isdir(TASKS), reason="thread affinity as Linux has it")
getcpu = _sched_getcpu()
needs_two_cpus = pytest.mark.skipif(
    getcpu is None or len(getattr(os, "sched_getaffinity", lambda _: set())(0)) < 2,
    reason="needs Linux thread affinity and at least two CPUs to pin a thread to one of them")


class NamedThread:
    """A Python thread that waits, renamed (as its native name) so that BesideCaller finds it."""

    def __init__(self, name: str) -> None:
        self._stop, self._named = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, args=(name,), daemon=True)
        self.thread.start()
        self._named.wait(5)

    def _run(self, name: str) -> None:
        with open(f"{TASKS}/{threading.get_native_id()}/comm", "w", encoding="utf-8") as comm:
            comm.write(name)
        self._named.set()
        self._stop.wait(30)

    @property
    def id(self) -> int:
        assert self.thread.native_id is not None
        return self.thread.native_id

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        deadline = time.monotonic() + 5
        while os.path.exists(f"{TASKS}/{self.id}") and time.monotonic() < deadline:
            time.sleep(0.001)  # join returns a moment before the native thread is gone


@pytest.fixture(autouse=True)
def own_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hold of this test's own: the tabot this test process also runs may be querying Chroma."""
    monkeypatch.setattr(BesideCaller, "_holding", threading.Lock())


@pytest.fixture
def worker() -> Iterator[NamedThread]:
    thread = NamedThread("test-rt-worker")
    yield thread
    thread.stop()


@needs_two_cpus
def test_the_caller_and_the_named_threads_share_the_callers_cpu_and_then_go_back(worker: NamedThread) -> None:
    bystander = NamedThread("bystander")
    allowed = os.sched_getaffinity(0)
    beside = BesideCaller(("test-rt",))
    try:
        with beside():
            cpu = getcpu()
            assert os.sched_getaffinity(0) == {cpu}
            assert os.sched_getaffinity(worker.id) == {cpu}
            assert os.sched_getaffinity(bystander.id) == allowed  # not named so: left alone
        assert os.sched_getaffinity(0) == allowed
        assert os.sched_getaffinity(worker.id) == allowed
    finally:
        bystander.stop()


@needs_two_cpus
def test_a_query_while_another_is_held_goes_as_it_comes(worker: NamedThread) -> None:
    allowed = os.sched_getaffinity(0)
    beside = BesideCaller(("test-rt",))
    seen: list[set[int]] = []
    first_is_held, second_is_done = threading.Event(), threading.Event()

    def second_query() -> None:
        first_is_held.wait(5)
        with beside():
            seen.extend([os.sched_getaffinity(0), os.sched_getaffinity(worker.id)])
        second_is_done.set()

    second = threading.Thread(target=second_query)  # started unpinned: a thread takes its creator's CPUs
    second.start()
    with beside():
        cpu = getcpu()
        first_is_held.set()
        second_is_done.wait(5)
        assert seen == [allowed, {cpu}]  # the second caller not pinned; the worker left with the first
    second.join(5)
    assert os.sched_getaffinity(worker.id) == allowed
    with beside():  # and the next query is held again
        assert os.sched_getaffinity(worker.id) == {getcpu()}


@needs_two_cpus
def test_everything_goes_back_when_the_query_fails(worker: NamedThread) -> None:
    allowed = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), BesideCaller(("test-rt",))():
        raise RuntimeError("the query failed")
    assert os.sched_getaffinity(0) == allowed
    assert os.sched_getaffinity(worker.id) == allowed


@needs_two_cpus
def test_threads_that_end_or_start_between_queries_are_followed(worker: NamedThread) -> None:
    beside = BesideCaller(("test-rt",))
    assert worker.id in beside.threads()
    ended = worker.id
    worker.stop()
    assert ended not in beside.threads()
    listed_before_it_ended = BesideCaller(("test-rt",))
    listed_before_it_ended.threads = lambda: [ended]  # it ends between the listing and the pinning
    with listed_before_it_ended():  # no error
        assert os.sched_getaffinity(0) == {getcpu()}
    later = NamedThread("test-rt-later")
    try:
        assert later.id in beside.threads()
        with beside():
            assert os.sched_getaffinity(later.id) == {getcpu()}
    finally:
        later.stop()


def test_it_does_nothing_where_the_cpu_cannot_be_known(worker: NamedThread) -> None:
    before = os.sched_getaffinity(0), os.sched_getaffinity(worker.id)
    beside = BesideCaller(("test-rt",), getcpu=lambda: -1)  # a CPU outside the allowed set
    with beside():
        assert (os.sched_getaffinity(0), os.sched_getaffinity(worker.id)) == before
    unnamed = BesideCaller((), getcpu=getcpu)  # a Chroma server: no threads of its own here
    with unnamed():
        assert (os.sched_getaffinity(0), os.sched_getaffinity(worker.id)) == before


@needs_two_cpus
def test_an_embedded_chroma_still_names_its_threads_so(tmp_path) -> None:
    """If a Chroma release renamed its Rust threads, holding them beside the caller would silently do
    nothing: this says so instead."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("beside-caller", configuration={"hnsw": {"space": "cosine"}})
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    beside = BesideCaller(CHROMA_THREADS)
    with beside():
        found = collection.query(query_embeddings=[[0.9, 0.1]], n_results=2, include=["distances"])
    assert found["ids"] == [["a", "b"]]
    names = {open(f"{TASKS}/{thread}/comm", encoding="utf-8").read().strip() for thread in beside.threads()}
    assert names == set(CHROMA_THREADS)
