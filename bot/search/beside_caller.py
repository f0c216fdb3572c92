"""An embedded Chroma query runs its native threads on the CPU of the thread that asked it.

A query to the embedded Chroma hands work to its Rust threads (tokio's workers, sqlx's SQLite workers)
and waits for them, several times per query. Between questions those threads sleep, and on a
virtual machine waking a thread on an idle virtual CPU is slow: the same two-vector query took
1.25 ms with the process free to run on both of this machine's CPUs, 0.52 ms with it pinned to one
(`taskset -c 0`), and 0.5 ms while another process kept the second CPU busy (medians of 400-600;
docs/performance.md, thirty-fourth session). In the answer path, right after the post's encoder
pass, a query took 1.62 ms as it comes and 1.00 ms with its threads beside the caller.

So, for the length of a query only, the calling thread and Chroma's threads are held on the CPU the
caller is running on; afterwards each may run on any CPU the caller could before. The encoder is
never inside this: ONNX Runtime keeps both cores for its pass. Where the platform cannot say which
CPU a thread is on or cannot pin threads (not Linux, one CPU, a sandbox that forbids it), this does
nothing and the query runs as it always did. Affinity changes where a thread runs, never what it
computes: a query returns the same ids and distances either way.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# The names Chroma's Rust threads carry (a Linux thread name is cut to 15 characters): tokio's runtime
# workers and sqlx's SQLite connection workers. tests/test_beside_caller.py fails if an embedded
# Chroma stops naming them so, since this would then silently do nothing.
CHROMA_THREADS = ("tokio-rt-worker", "sqlx-sqlite-wor")
TASKS = "/proc/self/task"


def _sched_getcpu() -> Callable[[], int] | None:
    """libc's `sched_getcpu` (the CPU the calling thread runs on), or None where it is missing."""
    if not hasattr(os, "sched_setaffinity") or not os.path.isdir(TASKS):
        return None
    try:
        getcpu = ctypes.CDLL(None, use_errno=True).sched_getcpu
    except (OSError, AttributeError):
        return None
    getcpu.restype, getcpu.argtypes = ctypes.c_int, []
    return getcpu if getcpu() >= 0 else None


class BesideCaller:
    """`with beside(): ...` holds the caller and the native threads named `names` on the caller's CPU."""

    # The process's CPUs are one resource: one query at a time is held, whichever index asks it.
    _holding = threading.Lock()

    def __init__(self, names: tuple[str, ...], getcpu: Callable[[], int] | None = None) -> None:
        self.names = names
        self._getcpu = getcpu if getcpu is not None else _sched_getcpu()
        # False where the platform cannot do it; `python -m eval.bench.beside_caller` turns it off and on.
        self.active = self._getcpu is not None and bool(names)
        self._tasks: list[str] = []  # the process's thread ids at the last look
        self._threads: list[int] = []  # those among them named `names`

    def threads(self) -> list[int]:
        """The thread ids of the process's threads named `names`, read again whenever its threads
        changed (tokio starts and ends threads as it needs them)."""
        try:
            tasks = os.listdir(TASKS)
        except OSError:
            return []
        if tasks != self._tasks:
            self._tasks, self._threads = tasks, [int(task) for task in tasks if _name(task).startswith(self.names)]
        return self._threads

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if not self.active or self._getcpu is None:
            yield
            return
        try:
            allowed = os.sched_getaffinity(0)
            cpu = self._getcpu()
        except OSError:
            allowed, cpu = set(), -1
        # One query at a time is held. Another query at the same time goes as it comes: pinned to two
        # CPUs in turn, Chroma's threads would be taken from under the first; and with two queries
        # running, no CPU is idle, which is the slowness this is for.
        if len(allowed) < 2 or cpu not in allowed or not self._holding.acquire(blocking=False):
            yield
            return
        try:
            held = [0, *threads] if (threads := self.threads()) else []  # 0: the calling thread
            _pin(held, {cpu})
            try:
                yield
            finally:
                _pin(held, allowed)
        finally:
            self._holding.release()


def _pin(threads: list[int], cpus: set[int]) -> None:
    for thread in threads:
        try:
            os.sched_setaffinity(thread, cpus)
        except OSError:  # a thread that has ended since it was listed, or pinning refused: leave it be
            pass


def _name(task: str) -> str:
    try:
        with open(f"{TASKS}/{task}/comm", encoding="utf-8", errors="replace") as comm:
            return comm.read().strip()
    except OSError:
        return ""
