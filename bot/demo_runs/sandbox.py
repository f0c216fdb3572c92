"""Run one command in a constrained child process and collect what it did.

The child gets: a timeout (then SIGKILL to its whole process group), RLIMIT_AS / RLIMIT_CPU /
RLIMIT_FSIZE / no core dumps (set by a tiny bootstrap that then execs the command), stdin from
/dev/null, a fresh temporary working directory that is also its HOME and TMPDIR, and a minimal
environment (PATH, matplotlib's Agg backend, one BLAS thread, plus `env_extra`), so no secret in
the bot's environment reaches it.
This limits accidents in trusted staff code; it is not a security boundary against hostile code.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MAX_STDOUT_BYTES = 1_000_000
MAX_FILE_BYTES = 64 * 1024 * 1024  # RLIMIT_FSIZE: plots are small; stops a demo filling the disk


@dataclass(frozen=True)
class Outcome:
    """What the subprocess did, before we judge it."""

    returncode: int | None  # None: killed for running past the timeout
    stdout: bytes
    stderr: bytes
    seconds: float
    stdout_truncated: bool = False


def run_sandboxed(cmd: list[str], *, timeout_s: float, memory_mb: int,
                  env_extra: dict[str, str] | None = None) -> Outcome:
    """Run `cmd` under the limits above; wall time is measured around the whole child's life."""
    with tempfile.TemporaryDirectory(prefix="tabot-demo-") as tmp:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "TMPDIR": tmp, "MPLBACKEND": "Agg",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "PYTHONHASHSEED": "0",
               "LANG": "C.UTF-8", **(env_extra or {})}
        # Output goes to files, not pipes: RLIMIT_FSIZE caps them and nothing can deadlock.
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        start = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(_limited(cmd, memory_mb, timeout_s), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, cwd=tmp, env=env, start_new_session=True)
            try:
                returncode: int | None = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                returncode = None
            finally:
                _kill_group(proc)
        seconds = time.perf_counter() - start
        with open(out_path, "rb") as f:
            stdout = f.read(MAX_STDOUT_BYTES + 1)
        stderr = err_path.read_bytes()[-4000:]
    return Outcome(returncode, stdout[:MAX_STDOUT_BYTES], stderr, seconds, len(stdout) > MAX_STDOUT_BYTES)


# Sets the limits inside the child, then replaces itself with the real command. This is what
# `preexec_fn` would do, but `preexec_fn` is unsafe when the parent has threads (the chat
# answers from Gradio worker threads): the child could deadlock between fork and exec.
_BOOTSTRAP = (
    "import json, os, resource, sys\n"
    "for which, soft, hard in json.loads(sys.argv[1]):\n"
    "    resource.setrlimit(which, (soft, hard))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _limited(cmd: list[str], memory_mb: int, timeout_s: float) -> list[str]:
    """`cmd` wrapped in the bootstrap, with all limit values computed here, in the parent.

    Hard limits are lowered too, so the demo cannot raise its own soft limits back up. CPU time gets
    SIGXCPU at the soft limit and SIGKILL a second later.
    """
    cpu = math.ceil(timeout_s) + 1
    wanted = [(resource.RLIMIT_AS, memory_mb * 1024 * 1024, memory_mb * 1024 * 1024),
              (resource.RLIMIT_CPU, cpu, cpu + 1),
              (resource.RLIMIT_FSIZE, MAX_FILE_BYTES, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0, 0)]
    limits = []
    for which, soft, hard in wanted:
        _, current = resource.getrlimit(which)  # never ask for more than is allowed now
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        limits.append((int(which), soft, hard))
    executable = shutil.which(cmd[0]) or cmd[0]
    return [sys.executable, "-c", _BOOTSTRAP, json.dumps(limits), executable, *cmd[1:]]


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill whatever the demo left behind (its own children included); it ran in its own session."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
