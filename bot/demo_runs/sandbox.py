"""Run one command (a demo) in a sandbox and collect what it did.

With bubblewrap (`bwrap`, Debian package `bubblewrap`) on the machine, the command runs isolated:

- new pid, network, ipc and uts namespaces: it sees only its own processes (its `/proc` is a new
  one, so `/proc/<parent>/environ` is a sandbox process's minimal environment, never the bot's),
  has no network, and nothing it starts outlives the run: the pid namespace ends with its first
  process, and `--die-with-parent` ends that when the bot kills bwrap at the timeout;
- a filesystem made only of read-only binds: /usr (and the /bin, /lib... links), the dynamic
  linker's cache, the Python installation and the venv, and the files in `readable` (the demo's
  own code). The bot's data folder, the home folder and the rest of the repository do not exist;
- the only writable places are a size-capped private /tmp (its cwd, HOME and TMPDIR) and, when
  asked, a size-capped folder at the host path `out_dir`, whose regular files are copied back
  afterwards (bounded in number and size);
- no capabilities, no new privileges, a process cap (RLIMIT_NPROC: as root the demo first becomes
  `nobody`, since the kernel never applies RLIMIT_NPROC to uid 0), RLIMIT_AS / RLIMIT_CPU /
  RLIMIT_FSIZE, no core dumps, stdin from /dev/null, a wall-clock timeout, a minimal environment.

Without bwrap the command runs as it always did: the limits and the minimal environment only.
That is *not* isolation (it can read every file the bot can, and see other processes);
`isolation()` says which case applies, so start-up can say so.
"""

from __future__ import annotations

import functools
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_STDOUT_BYTES = 1_000_000
MAX_FILE_BYTES = 64 * 1024 * 1024  # RLIMIT_FSIZE: plots are small; stops a demo filling the disk
TMP_BYTES = 64 * 1024 * 1024  # the private /tmp inside the sandbox
OUT_BYTES = 64 * 1024 * 1024  # the artifact folder inside the sandbox
MAX_ARTIFACTS = 100
# RLIMIT_NPROC counts threads too; a demo (numpy with one BLAS thread) needs one or two.
MAX_PROCESSES = 64
NOBODY = (65534, 65534)
SANDBOX_TMP = "/tmp"  # noqa: S108 - the sandbox's own private tmpfs, not the host's /tmp


@dataclass(frozen=True)
class Outcome:
    """What the subprocess did, before we judge it."""

    returncode: int | None  # None: killed for running past the timeout
    stdout: bytes
    stderr: bytes
    seconds: float
    stdout_truncated: bool = False
    isolated: bool = False  # ran inside the bubblewrap sandbox


@dataclass(frozen=True)
class Isolation:
    """Whether demos run isolated on this machine, and a sentence saying so."""

    available: bool
    detail: str
    bwrap: str | None = None

    def describe(self) -> str:
        if self.available:
            return (f"demos: isolated with bubblewrap ({self.detail}): no network, read-only system, only the demo's "
                    f"code readable, private {TMP_BYTES >> 20} MB /tmp, at most {MAX_PROCESSES} processes")
        return (f"demos: NOT isolated - {self.detail}; demo code runs with time/CPU/memory limits only and can read "
                "any file the bot can. Install the Debian package bubblewrap to sandbox it")


@functools.cache
def isolation() -> Isolation:
    """Probe once per process: is bwrap installed, and can it build our sandbox here?"""
    bwrap = shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)
    if bwrap is None:
        return Isolation(False, "bubblewrap (bwrap) is not installed")
    # The probe builds the same sandbox a demo gets (a kernel without user namespaces, or a
    # container that forbids them, fails here rather than on every demo).
    probe = [bwrap, *_bwrap_options(readable=(), out_dir=None), "--", sys.executable, "-I", "-S", "-c", ""]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, env=_base_env("/"))
        version = subprocess.run([bwrap, "--version"], capture_output=True, timeout=30, text=True).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return Isolation(False, f"bubblewrap ({bwrap}) could not be run: {error}")
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit code {done.returncode}"]
        return Isolation(False, f"bubblewrap ({bwrap}) cannot build a sandbox here: {why[-1]}")
    return Isolation(True, version or bwrap, bwrap)


def run_sandboxed(cmd: list[str], *, timeout_s: float, memory_mb: int, env_extra: dict[str, str] | None = None,
                  readable: Sequence[Path] = (), out_dir: Path | None = None,
                  isolate: bool | None = None) -> Outcome:
    """Run `cmd` under the limits above; wall time is measured around the whole child's life.

    `readable`: host files the command may read (at the same path) in the sandbox; `out_dir`: a
    host folder the command writes its artifacts to. `isolate`: None uses bwrap when `isolation()`
    finds it usable; False forces the unisolated path (tests of the fallback).
    """
    box = isolation() if isolate is not False else Isolation(False, "isolation turned off")
    if isolate and not box.available:
        raise RuntimeError(f"isolation asked for but unavailable: {box.detail}")
    limits = _limits(memory_mb, timeout_s, processes=box.available)
    with tempfile.TemporaryDirectory(prefix="tabot-demo-") as host_tmp:
        inner_tmp = SANDBOX_TMP if box.available else host_tmp
        env = {**_base_env(inner_tmp), **(env_extra or {})}
        if not box.available:
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        # Output goes to files, not pipes: RLIMIT_FSIZE caps them and nothing can deadlock.
        out_path, err_path, report_path = (Path(host_tmp, n) for n in ("stdout", "stderr", "report"))
        start = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err, open(report_path, "wb") as report:
            if box.available:
                assert box.bwrap is not None
                argv = [box.bwrap, *_bwrap_options(readable, out_dir), "--chdir", SANDBOX_TMP, "--",
                        sys.executable, "-I", "-S", "-c", _WRAPPER,
                        json.dumps({"cmd": cmd, "limits": limits, "report_fd": report.fileno(),
                                    "out": str(out_dir) if out_dir else None,
                                    "drop_to": NOBODY if os.geteuid() == 0 else None})]
                pass_fds: tuple[int, ...] = (report.fileno(),)
            else:
                argv, pass_fds = _bootstrapped(cmd, limits), ()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=pass_fds,
                                    cwd=host_tmp, env=env, start_new_session=True)
            try:
                returncode: int | None = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                returncode = None
            finally:
                _kill_group(proc)
        seconds = time.perf_counter() - start
        if box.available and returncode is not None:
            returncode = _collect(report_path, out_dir, returncode)
        with open(out_path, "rb") as f:
            stdout = f.read(MAX_STDOUT_BYTES + 1)
        stderr = err_path.read_bytes()[-4000:]
    return Outcome(returncode, stdout[:MAX_STDOUT_BYTES], stderr, seconds, len(stdout) > MAX_STDOUT_BYTES,
                   box.available)


def _base_env(tmp: str) -> dict[str, str]:
    # Built from nothing (never a copy of os.environ), so no secret of the bot reaches the demo.
    return {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(Path(tmp, ".matplotlib")), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
            "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1", "LANG": "C.UTF-8"}


def _limits(memory_mb: int, timeout_s: float, processes: bool) -> list[tuple[int, int, int]]:
    """The rlimits, computed here in the parent. Hard limits are lowered too, so the demo cannot
    raise its soft limits back up. CPU time gets SIGXCPU at the soft limit and SIGKILL a second later.
    """
    cpu = math.ceil(timeout_s) + 1
    wanted = [(resource.RLIMIT_AS, memory_mb * 1024 * 1024, memory_mb * 1024 * 1024),
              (resource.RLIMIT_CPU, cpu, cpu + 1),
              (resource.RLIMIT_FSIZE, MAX_FILE_BYTES, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0, 0)]
    if processes:
        # Only inside the sandbox: there it counts the sandbox's processes; outside it would count
        # every process of the bot's user (the bot's own threads included).
        wanted.append((resource.RLIMIT_NPROC, MAX_PROCESSES, MAX_PROCESSES))
    limits = []
    for which, soft, hard in wanted:
        _, current = resource.getrlimit(which)  # never ask for more than is allowed now
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        limits.append((int(which), soft, hard))
    return limits


def _bwrap_options(readable: Sequence[Path], out_dir: Path | None) -> list[str]:
    options = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
               "--unshare-uts", "--unshare-cgroup-try", "--hostname", "tabot-demo"]
    if os.geteuid() == 0:
        # Run as root, bwrap keeps root's capabilities unless told otherwise, and a user namespace would
        # map the demo to uid 0, which RLIMIT_NPROC ignores. So: no user namespace, every capability
        # dropped but the two the wrapper needs to become nobody (which then clears them too).
        options += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        options += ["--unshare-user", "--disable-userns"]
    # /tmp first: a readable file that lives under the host's /tmp is bound on top of it.
    options += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", SANDBOX_TMP]
    bound: list[Path] = [Path("/usr")]
    made: set[Path] = {Path("/"), Path(SANDBOX_TMP), Path("/proc"), Path("/dev")}

    def mount_point(path: Path) -> list[str]:
        # bwrap makes missing parent folders mode 0700, which `nobody` cannot pass through: make them 0755.
        steps = []
        for parent in reversed(path.parents):
            if parent not in made and not any(parent.is_relative_to(b) for b in bound):
                steps += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        return steps

    options += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/", name)
        if top.is_symlink():
            options += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            options += ["--ro-bind", str(top), str(top)]
            bound.append(top)
    for etc in ("/etc/ld.so.cache", "/etc/localtime"):  # shared libraries outside /usr/lib; time zone
        if Path(etc).exists():
            options += [*mount_point(Path(etc)), "--ro-bind", etc, etc]
    python = {Path(p).resolve() for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)}
    for path in [*sorted(python), *(Path(p).resolve() for p in readable)]:
        if not any(path.is_relative_to(b) for b in bound):
            options += [*mount_point(path), "--ro-bind", str(path), str(path)]
            bound.append(path)
    if out_dir is not None:
        out = Path(out_dir).resolve()
        options += [*mount_point(out), "--perms", "1777", "--size", str(OUT_BYTES), "--tmpfs", str(out)]
    return options


# Runs inside the sandbox with the stdlib only (-I -S). It gives up root (when it has it), makes
# itself unreadable to the demo (no /proc/<pid>/fd access to the report file), runs the demo under
# its rlimits (preexec_fn is safe here: this process has one thread), and then writes the demo's
# exit status and a tar of the artifact folder to the report file, the one thing the host reads.
_WRAPPER = r"""
import ctypes, json, os, resource, subprocess, sys, tarfile
cfg = json.loads(sys.argv[1])
report = os.fdopen(cfg["report_fd"], "wb")
os.set_inheritable(cfg["report_fd"], False)
if cfg["drop_to"] is not None and os.geteuid() == 0:
    uid, gid = cfg["drop_to"]
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0

def limit():
    for which, soft, hard in cfg["limits"]:
        resource.setrlimit(which, (soft, hard))

try:
    rc = subprocess.Popen(cfg["cmd"], preexec_fn=limit).wait()
except OSError as error:
    print(f"could not start the demo: {error}", file=sys.stderr)
    rc = 127
report.write(json.dumps({"returncode": rc}).encode() + b"\n")
report.flush()
if cfg["out"]:
    with tarfile.open(fileobj=report, mode="w|") as tar:
        tar.add(cfg["out"], arcname=".")
report.close()
"""


def _collect(report_path: Path, out_dir: Path | None, bwrap_rc: int) -> int:
    """The demo's exit status from the report, and its artifacts copied into `out_dir`.

    No status line means the sandbox itself failed (bwrap prints why on stderr): bwrap's code stands.
    Only regular files come back, at most MAX_ARTIFACTS of them and OUT_BYTES in all, each written
    to a path checked to be inside `out_dir` (an archive naming `../x` or `/etc/x` gets nothing).
    """
    with open(report_path, "rb") as report:
        try:
            returncode = int(json.loads(report.readline(200))["returncode"])
        except (ValueError, KeyError, TypeError):
            return bwrap_rc
        if out_dir is not None:
            try:
                _extract(report, Path(out_dir).resolve())
            except (tarfile.TarError, OSError, ValueError):
                pass  # a torn or hostile archive: no more artifacts, and the judge refuses any it names
    return returncode


def _extract(report: BinaryIO, root: Path) -> None:
    total = 0
    with tarfile.open(fileobj=report, mode="r|") as tar:
        for count, member in enumerate(tar):
            if count >= 4 * MAX_ARTIFACTS:
                return
            if not member.isfile():
                continue  # directories are made as needed; links, devices and fifos never come back
            target = Path(os.path.normpath(root / member.name))
            total += member.size
            if not target.is_relative_to(root) or target == root or total > OUT_BYTES:
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as f:  # "x": never through a link someone left in the folder
                shutil.copyfileobj(source, f)


# Sets the limits inside the child, then replaces itself with the real command. This is what
# `preexec_fn` would do, but `preexec_fn` is unsafe when the parent has threads (the chat
# answers from Gradio worker threads): the child could deadlock between fork and exec.
_BOOTSTRAP = (
    "import json, os, resource, sys\n"
    "for which, soft, hard in json.loads(sys.argv[1]):\n"
    "    resource.setrlimit(which, (soft, hard))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _bootstrapped(cmd: list[str], limits: list[tuple[int, int, int]]) -> list[str]:
    """`cmd` wrapped in the bootstrap (the unisolated path)."""
    executable = shutil.which(cmd[0]) or cmd[0]
    return [sys.executable, "-c", _BOOTSTRAP, json.dumps(limits), executable, *cmd[1:]]


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill whatever the command left behind in its session (in the sandbox, killing bwrap ends
    the pid namespace and with it every process inside, `setsid` ones included)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
