"""Run demos in a sandboxed subprocess, check what they print, and cache verified results.

Only modules of the project's `demos` package, or `*.py` files in the staff folder
`Settings.demos_dir`, can run, and only under a name matching NAME_RE that `names()` lists, so
nothing a user types becomes code. The bot process never imports demo code: the checks a demo
declares are read with `ast`, and each run is a fresh `python` in the sandbox of
bot/demo_runs/sandbox.py: with bubblewrap installed it sees only its own code (the demo file and
`demos/_common.py`), the Python install, a private /tmp and its artifact folder; without it, it runs
with limits only and is not isolated (`verify_all` says so first).

A demo is **verified** only if it exits with 0 (all checks passed) or 1 (some failed) and its
stdout is exactly one JSON document of the `demos._common.DemoResult` shape that agrees with that
exit code and with its static `CHECKS`. Anything else (a crash, a timeout, stray output) gives a
`DemoRun` with `verified=False` and the reason, never a pass. Every result, passed, failed or not
verified, is cached under `Settings.demo_cache_dir` with the sha256 of the demo's source and
`demos/_common.py`, so an unchanged demo never runs twice: a staff demo that hangs costs its timeout
once, not at every start. A not-verified result also records the limits it ran under (timeout,
memory, isolation) and is re-run when they change; `tabot demos verify --no-cache` re-runs everything.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import re
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT, Settings
from bot.demo_runs.sandbox import MAX_STDOUT_BYTES, Outcome, isolation, run_sandboxed
from bot.errors import DemoError
from bot.schema import CheckResult, Verdict

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"[a-z][a-z0-9_]*")  # always used with fullmatch: "x\n" must not pass
PROJECT_DEMOS = PROJECT_ROOT / "demos"
COMMON = PROJECT_DEMOS / "_common.py"
CACHE_FORMAT = 1
# The reason an answer shows for a demo whose first verification is still running.
VERIFYING = "verifying…"


@dataclass(frozen=True)
class DemoRun:
    name: str
    verified: bool
    passed: bool  # True only if verified and every check passed
    reason: str  # why not verified ("" when verified)
    claim: str
    checks: tuple[CheckResult, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    source_hash: str = ""

    @property
    def verdict(self) -> Verdict:
        if not self.verified:
            return Verdict.NOT_VERIFIED
        return Verdict.PASSED if self.passed else Verdict.FAILED

    @property
    def status(self) -> str:
        return f"{self.verdict}: {self.reason}" if not self.verified else str(self.verdict)

    @property
    def plot_path(self) -> str | None:
        return self.artifacts.get("plot")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "verified": self.verified, "passed": self.passed, "status": self.status,
                "reason": self.reason, "claim": self.claim, "checks": [c.to_json() for c in self.checks],
                "metrics": self.metrics, "artifacts": self.artifacts, "seconds": self.seconds,
                "source_hash": self.source_hash}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemoRun:
        checks = tuple(CheckResult(c["name"], bool(c["passed"]), c.get("detail", ""), c.get("value"),
                                   c.get("reference")) for c in data["checks"])
        return cls(data["name"], bool(data["verified"]), bool(data["passed"]), data["reason"], data["claim"],
                   checks, dict(data["metrics"]), dict(data["artifacts"]), float(data["seconds"]),
                   data["source_hash"])


class DemoRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One run per demo at a time: the chat answers from several threads, and two runs of one demo
        # would wipe each other's artifact folder.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._hashes: dict[Path, tuple[tuple[tuple[int, int], ...], str]] = {}

    # --- what exists ----------------------------------------------------------------------

    def _folders(self) -> list[Path]:
        """Project demos first: they win a name clash, so staff cannot shadow a checked demo."""
        folders = [PROJECT_DEMOS]
        if self.settings.demos_dir is not None:
            if not Path(self.settings.demos_dir).is_dir():
                raise DemoError(f"TABOT_DEMOS_DIR={self.settings.demos_dir} is not a folder; fix or unset it")
            folders.append(Path(self.settings.demos_dir))
        return folders

    def _sources(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for folder in self._folders():
            for path in sorted(folder.glob("*.py")):
                # Project demos come first and win a name clash: staff cannot shadow a checked demo.
                if NAME_RE.fullmatch(path.stem) and path.stem not in found:
                    found[path.stem] = path
        return found

    def names(self) -> list[str]:
        return sorted(self._sources())

    def path(self, name: str) -> Path:
        """The source file of a known demo; DemoError (listing the known ones) for anything else."""
        if isinstance(name, str) and NAME_RE.fullmatch(name):
            # The file itself, not a listing of the folders: the chat asks this for every attached
            # demo of every answer. Same result as `_sources()[name]`, first folder first.
            for folder in self._folders():
                if (folder / f"{name}.py").is_file():
                    return folder / f"{name}.py"
        known = ", ".join(self.names()) or "none"
        raise DemoError(f"unknown demo {str(name)[:40]!r}; available demos: {known}")

    def _module_ast(self, name: str) -> ast.Module:
        path = self.path(name)
        try:
            return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError) as e:
            raise DemoError(f"demo {name} ({path.name}) cannot be parsed: {e}") from None

    def _static(self, name: str, var: str) -> Any:
        for node in self._module_ast(name).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == var for t in targets) and node.value is not None:
                try:
                    return ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    raise DemoError(f"demo {name}: {var} must be a literal, written out in the file") from None
        return None

    def check_names(self, name: str) -> tuple[str, ...]:
        """The module's static CHECKS tuple, read with `ast` (the bot never imports demo code)."""
        checks = self._static(name, "CHECKS")
        if checks is None:
            return ()
        if not isinstance(checks, (tuple, list)) or not all(isinstance(c, str) for c in checks):
            raise DemoError(f"demo {name}: CHECKS must be a tuple of check names (strings)")
        return tuple(checks)

    def claim(self, name: str) -> str:
        """CLAIM if the module sets it, else the first paragraph of its docstring."""
        claim = self._static(name, "CLAIM")
        if isinstance(claim, str) and claim.strip():
            return claim.strip()
        doc = ast.get_docstring(self._module_ast(name)) or ""
        return " ".join(doc.split("\n\n")[0].split())

    def source_hash(self, name: str) -> str:
        """sha256 of the demo and `demos/_common.py`. The chat asks this for every attached demo
        of every answer, so the digest is reused while both files' (mtime, size) are unchanged;
        an edit changes them and forces a re-hash (and so a re-run)."""
        path = self.path(name)
        stamp = tuple((stat.st_mtime_ns, stat.st_size) for stat in (path.stat(), COMMON.stat()))
        known = self._hashes.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        h = hashlib.sha256(f"tabot-demo-v{CACHE_FORMAT}\0".encode())
        h.update(path.read_bytes())
        h.update(b"\0")
        h.update(COMMON.read_bytes())
        self._hashes[path] = (stamp, h.hexdigest())
        return h.hexdigest()

    # --- cache ----------------------------------------------------------------------------

    def _cache_file(self, name: str) -> Path:
        return self.settings.demo_cache_dir / f"{name}.json"

    def artifact_dir(self, name: str) -> Path:
        return self.settings.demo_cache_dir / "artifacts" / name

    def _limits(self) -> dict[str, Any]:
        """What a not-verified result depends on besides the source: a demo that timed out at 5 s
        may pass at 60 s, and one that failed to start in the sandbox may run without it."""
        return {"timeout_s": self.settings.demo_timeout_s, "memory_mb": self.settings.demo_memory_mb,
                "isolated": isolation().available}

    def cached(self, name: str) -> DemoRun | None:
        """The stored run (passed, failed or not verified) if it was made from the current source,
        its artifacts still exist, and (when not verified) under the current limits."""
        current = self.source_hash(name)
        try:
            record = json.loads(self._cache_file(name).read_text(encoding="utf-8"))
            run = DemoRun.from_json(record["run"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if record.get("format") != CACHE_FORMAT or run.source_hash != current:
            return None
        if not run.verified and record.get("limits") != self._limits():
            return None
        if not all(Path(p).is_file() for p in run.artifacts.values()):
            return None
        return run

    def _store(self, run: DemoRun) -> None:
        path = self._cache_file(run.name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({"format": CACHE_FORMAT, "run": run.to_json(), "limits": self._limits()}),
                           encoding="utf-8")
            tmp.replace(path)
        except OSError as error:
            # A full disk must not turn a finished run into an error; the run is simply not remembered
            # (and an older entry for another source can never be mistaken for it: the hash differs).
            path.unlink(missing_ok=True)
            log.warning("could not cache the result of demo %s: %s", run.name, error)

    def pending(self, name: str) -> DemoRun:
        """What an answer shows for a demo whose first verification is still running (never cached)."""
        return DemoRun(name, False, False, VERIFYING, self.claim(name), source_hash=self.source_hash(name))

    # --- running --------------------------------------------------------------------------

    def run(self, name: str, use_cache: bool = True) -> DemoRun:
        source = self.path(name)  # validates the name before anything else happens
        with self._locks_guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if use_cache and (hit := self.cached(name)) is not None:
                return hit
            return self._run_fresh(name, source)

    def _run_fresh(self, name: str, source: Path) -> DemoRun:
        digest = self.source_hash(name)
        out_dir = self.artifact_dir(name)
        shutil.rmtree(out_dir, ignore_errors=True)  # no stale plot may survive into this run
        out_dir.mkdir(parents=True)
        # Resolved paths: the sandbox holds each file at its real path only, not behind a symlink.
        out_dir, source = out_dir.resolve(), source.resolve()
        if source.parent == PROJECT_DEMOS.resolve():
            cmd = [sys.executable, "-m", f"demos.{name}", "--json", "--out", str(out_dir)]
        else:
            cmd = [sys.executable, str(source), "--json", "--out", str(out_dir)]
        # The demo's own code and the `demos` package it imports `_common` from: nothing else of the repo.
        readable = [source, COMMON, PROJECT_DEMOS / "__init__.py"]
        outcome = run_sandboxed(cmd, timeout_s=self.settings.demo_timeout_s, memory_mb=self.settings.demo_memory_mb,
                                env_extra={"PYTHONPATH": str(PROJECT_ROOT)}, readable=readable, out_dir=out_dir)
        run = judge(name, outcome, self.check_names(name), out_dir, self.claim(name), digest,
                    self.settings.demo_timeout_s, self.settings.demo_memory_mb)
        self._store(run)
        return run

    def verify_all(self, use_cache: bool = True, progress: Callable[[str], None] | None = None) -> list[DemoRun]:
        runs = []
        if progress is not None:
            progress(isolation().describe())  # first, so nobody reads "verified" as "sandboxed"
        for name in self.names():
            hit = self.cached(name) if use_cache else None
            run = hit or self.run(name, use_cache=False)
            if progress is not None:
                progress(f"{name}: {run.status} ({run.seconds:.2f}s{', cached' if hit else ''})")
            runs.append(run)
        return runs

def _last_line(data: bytes) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def judge(name: str, outcome: Outcome, expected_checks: tuple[str, ...], artifact_dir: Path, claim: str,
          source_hash: str, timeout_s: float, memory_mb: int) -> DemoRun:
    """Turn what the subprocess did into a DemoRun: verified only if everything is consistent."""

    def unverified(reason: str) -> DemoRun:
        return DemoRun(name, False, False, reason, claim, seconds=outcome.seconds, source_hash=source_hash)

    rc = outcome.returncode
    if rc is None:
        return unverified(f"timed out after {timeout_s:g}s (TABOT_DEMO_TIMEOUT)")
    if rc < 0:
        sig = signal.Signals(-rc).name if -rc in signal.valid_signals() else str(-rc)
        hint = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)",
                "SIGKILL": " (killed, possibly out of memory)"}.get(sig, "")
        return unverified(f"killed by {sig}{hint}")
    if outcome.stdout_truncated:
        return unverified(f"printed more than {MAX_STDOUT_BYTES} bytes instead of one JSON result")
    text = outcome.stdout.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        stderr = outcome.stderr.decode("utf-8", "replace")
        if rc not in (0, 1) or "Traceback" in stderr:
            err = _last_line(outcome.stderr) or "no error message"
            hint = f" (over the {memory_mb} MB memory limit?)" if "MemoryError" in err else ""
            return unverified(f"crashed (exit code {rc}): {err}{hint}")
        if not text:
            return unverified(f"printed nothing (exit code {rc}) instead of its JSON result")
        return unverified(f"printed something that is not its JSON result: {text[:60]!r}")
    try:
        checks = tuple(CheckResult(str(c["name"]), _strict_bool(c["passed"]), str(c.get("detail", "")),
                                   c.get("value"), c.get("reference")) for c in data["checks"])
        metrics, artifacts = data.get("metrics", {}), data.get("artifacts", {})
        if not isinstance(metrics, dict) or not isinstance(artifacts, dict):
            raise TypeError("metrics and artifacts must be objects")
    except (KeyError, TypeError, ValueError) as e:
        return unverified(f"its JSON result is malformed ({type(e).__name__}: {str(e)[:80]})")
    if data.get("name") != name:
        return unverified(f"its JSON result names demo {str(data.get('name'))[:40]!r}, not {name!r}")
    names = [c.name for c in checks]
    if not checks:
        return unverified("it returned no checks")
    if len(set(names)) != len(names):
        return unverified("it returned the same check name twice")
    if expected_checks and tuple(names) != expected_checks:
        missing = [c for c in expected_checks if c not in names]
        extra = [c for c in names if c not in expected_checks]
        return unverified(f"its checks differ from its CHECKS (missing {missing}, unexpected {extra})")
    all_passed = all(c.passed for c in checks)
    if rc != (0 if all_passed else 1):
        return unverified(f"exit code {rc} does not match its checks ({'all' if all_passed else 'not all'} passed)")
    safe_artifacts = {}
    root = artifact_dir.resolve()
    for key, value in artifacts.items():
        path = Path(str(value)).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return unverified(f"artifact {str(key)[:30]!r} is not a file inside its artifact folder")
        safe_artifacts[str(key)] = str(path)
    return DemoRun(name, True, all_passed, "", str(data.get("claim") or claim), checks, metrics, safe_artifacts,
                   outcome.seconds, source_hash)


def _strict_bool(value: Any) -> bool:
    # "passed": "false" or 1 must not count as a pass.
    if not isinstance(value, bool):
        raise TypeError(f"'passed' must be true or false, not {value!r}")
    return value
