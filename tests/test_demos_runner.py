"""The demo runner: sandboxed runs judged strictly, cached by source hash, names never become code.

Tiny staff demos in a temporary `demos_dir` misbehave in every way the runner must catch: hang,
crash, print garbage, fail a check, allocate too much, lie about their exit code, point at a file
outside their artifact folder. None of them may ever come out as passed.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from bot.config import Settings
from bot.demo_runs import runner as runner_module
from bot.demo_runs import sandbox
from bot.demo_runs.runner import VERIFYING, DemoRun, DemoRunner, judge
from bot.demo_runs.sandbox import Isolation, Outcome, isolation
from bot.errors import DemoError
from bot.faces.demo_table import demos_command


def demo_source(name: str, body: str, checks: tuple[str, ...]) -> str:
    """A staff demo built on demos._common; `body` sets checks_out, metrics and artifacts inside run()."""
    body = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return (f'"""Staff demo {name}."""\n'
            "from pathlib import Path\n"
            "from demos._common import DemoResult, close, equal, main\n\n"
            f"CLAIM = 'claim of {name}'\n"
            f"CHECKS = {checks!r}\n\n\n"
            "def run(out_dir=None):\n"
            f"{body}\n"
            f"    return DemoResult({name!r}, CLAIM, checks_out, metrics, artifacts)\n\n\n"
            'if __name__ == "__main__":\n'
            "    raise SystemExit(main(run))\n")


STAFF = {
    "good": demo_source("good", """
        checks_out = [close("one_is_one", 1.0, 1.0, atol=0.0)]
        metrics, artifacts = {"answer": 42}, {}
        if out_dir is not None:
            (Path(out_dir) / "note.txt").write_text("hi")
            artifacts = {"note": str(Path(out_dir).resolve() / "note.txt")}
    """, ("one_is_one",)),
    "failing": demo_source("failing", """
        checks_out = [close("fine", 1.0, 1.0, atol=0.0), close("wrong", 1.0, 2.0, atol=0.1)]
        metrics, artifacts = {}, {}
    """, ("fine", "wrong")),
    "sleeper": "import time\ntime.sleep(60)\n",
    "crasher": "raise RuntimeError('boom in staff code')\n",
    "garbage": "print('hello, I am not JSON')\n",
    "chatty": demo_source("chatty", """
        print("debug: starting")
        checks_out = [close("ok", 1.0, 1.0, atol=0.0)]
        metrics, artifacts = {}, {}
    """, ("ok",)),
    # If the memory limit did not apply, np.empty would succeed (untouched pages cost nothing)
    # and this demo would pass, so the test below would catch a missing limit safely.
    "hog": demo_source("hog", """
        import numpy as np
        block = np.empty(3 << 30, dtype=np.uint8)
        checks_out = [close("allocated", block.size, 3 << 30, atol=0.0)]
        metrics, artifacts = {}, {}
    """, ("allocated",)),
    "liar": demo_source("liar", """
        checks_out = [close("ok", 1.0, 1.0, atol=0.0)]
        metrics, artifacts = {}, {}
    """, ("ok",)).replace("raise SystemExit(main(run))", "main(run)\n    raise SystemExit(1)"),
    "escaper": demo_source("escaper", """
        checks_out = [close("ok", 1.0, 1.0, atol=0.0)]
        metrics, artifacts = {}, {"plot": "/etc/hostname"}
    """, ("ok",)),
    "drifted": demo_source("drifted", """
        checks_out = [close("renamed", 1.0, 1.0, atol=0.0)]
        metrics, artifacts = {}, {}
    """, ("declared",)),
    # Reports what the sandbox looks like from inside; every check passes only if it is sealed.
    "sandbox": demo_source("sandbox", """
        import os, sys
        checks_out = [equal("no_secret", os.environ.get("TABOT_DISCORD_TOKEN"), None),
                      equal("agg_backend", os.environ.get("MPLBACKEND"), "Agg"),
                      equal("one_thread", os.environ.get("OPENBLAS_NUM_THREADS"), "1"),
                      equal("stdin_empty", sys.stdin.read(), ""),
                      equal("cwd_is_temp", os.getcwd().startswith(os.environ["TMPDIR"]), True)]
        metrics, artifacts = {}, {}
    """, ("no_secret", "agg_backend", "one_thread", "stdin_empty", "cwd_is_temp")),
    "_helper": "raise SystemExit('helpers are not demos')\n",
}


@pytest.fixture
def staff_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "staff"
    folder.mkdir()
    for name, source in STAFF.items():
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    (folder / "Bad-Name.py").write_text("print('never listed')\n")
    return folder


@pytest.fixture
def runner(tmp_path: Path, staff_dir: Path) -> DemoRunner:
    return DemoRunner(Settings(data_dir=tmp_path / "data", demos_dir=staff_dir, demo_timeout_s=60))


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records every process the runner starts."""
    calls: list[list[str]] = []
    real = subprocess.Popen
    isolation()  # the once-per-process bwrap probe is not a demo run

    def counting(cmd, *args, **kwargs):
        calls.append(list(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting)
    return calls


# --- discovery and names -----------------------------------------------------------------------

def test_names_lists_project_and_staff_demos_only(runner: DemoRunner) -> None:
    names = runner.names()
    assert {"kl_asymmetry", "backprop_order", "good", "sleeper"} <= set(names)
    assert "_common" not in names and "_helper" not in names and "Bad-Name" not in names
    assert "__init__" not in names


@pytest.mark.parametrize("bad", ["os; rm -rf /", "../x", "../../etc/passwd", "nope", "", "Good", "_common",
                                 "__init__", "good.py", "good\n", "_helper"])
def test_unknown_or_malicious_names_raise(runner: DemoRunner, bad: str, spawned: list) -> None:
    with pytest.raises(DemoError) as info:
        runner.run(bad)
    assert "available demos:" in str(info.value) and "kl_asymmetry" in str(info.value)
    with pytest.raises(DemoError):
        runner.check_names(bad)
    assert spawned == []


def test_check_names_are_read_without_importing(tmp_path: Path, staff_dir: Path) -> None:
    marker = tmp_path / "imported"
    (staff_dir / "sneaky.py").write_text(f"open({str(marker)!r}, 'w').close()\nCHECKS = ('a', 'b')\n")
    runner = DemoRunner(Settings(data_dir=tmp_path / "data", demos_dir=staff_dir))
    assert runner.check_names("sneaky") == ("a", "b")
    assert not marker.exists()
    (staff_dir / "computed.py").write_text("CHECKS = tuple('ab')\n")
    with pytest.raises(DemoError, match="literal"):
        runner.check_names("computed")


def test_static_checks_of_project_demos_match_the_modules(runner: DemoRunner) -> None:
    project = [n for n in runner.names() if n not in STAFF]
    assert len(project) == 8
    for name in project:
        assert runner.check_names(name) == importlib.import_module(f"demos.{name}").CHECKS


def test_missing_staff_folder_is_a_clear_error(tmp_path: Path) -> None:
    runner = DemoRunner(Settings(data_dir=tmp_path, demos_dir=tmp_path / "nowhere"))
    with pytest.raises(DemoError, match="TABOT_DEMOS_DIR"):
        runner.names()


# --- misbehaving demos are never passed ---------------------------------------------------------

def test_a_hanging_demo_times_out(tmp_path: Path, staff_dir: Path) -> None:
    runner = DemoRunner(Settings(data_dir=tmp_path / "data", demos_dir=staff_dir, demo_timeout_s=1.5))
    run = runner.run("sleeper")
    assert (run.verified, run.passed) == (False, False)
    assert run.status == "not verified: timed out after 1.5s (TABOT_DEMO_TIMEOUT)"
    assert run.seconds < 30


def test_a_crashing_demo_is_not_verified(runner: DemoRunner) -> None:
    run = runner.run("crasher")
    assert (run.verified, run.passed) == (False, False)
    assert run.reason.startswith("crashed (exit code 1)") and "boom in staff code" in run.reason


@pytest.mark.parametrize("name, reason", [
    ("garbage", "printed something that is not its JSON result: 'hello, I am not JSON'"),
    ("chatty", "printed something that is not its JSON result: 'debug: starting"),
    ("liar", "exit code 1 does not match its checks (all passed)"),
    ("escaper", "artifact 'plot' is not a file inside its artifact folder"),
    ("drifted", "its checks differ from its CHECKS (missing ['declared'], unexpected ['renamed'])"),
])
def test_inconsistent_output_is_not_verified(runner: DemoRunner, name: str, reason: str) -> None:
    run = runner.run(name)
    assert (run.verified, run.passed) == (False, False)
    assert run.reason.startswith(reason)


def test_a_demo_over_the_memory_limit_is_not_verified(tmp_path: Path, staff_dir: Path) -> None:
    runner = DemoRunner(Settings(data_dir=tmp_path / "data", demos_dir=staff_dir, demo_memory_mb=512))
    run = runner.run("hog")
    assert (run.verified, run.passed) == (False, False)
    assert "MemoryError" in run.reason and "512 MB memory limit" in run.reason


def test_a_failing_check_is_verified_but_failed(runner: DemoRunner) -> None:
    run = runner.run("failing")
    assert (run.verified, run.passed, run.status) == (True, False, "failed")
    assert [(c.name, c.passed) for c in run.checks] == [("fine", True), ("wrong", False)]
    assert "needs <=" in next(c for c in run.checks if c.name == "wrong").detail


def test_the_sandbox_hides_secrets_and_closes_stdin(runner: DemoRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABOT_DISCORD_TOKEN", "do-not-leak")
    run = runner.run("sandbox")
    assert run.verified, run.reason
    assert {c.name: c.passed for c in run.checks} == dict.fromkeys(runner.check_names("sandbox"), True)


def test_judge_rejects_non_boolean_passed_and_wrong_names(tmp_path: Path) -> None:
    def outcome(payload: object, rc: int = 0) -> Outcome:
        return Outcome(rc, json.dumps(payload).encode(), b"", 0.1)

    good = {"name": "x", "claim": "c", "checks": [{"name": "a", "passed": True}], "metrics": {}, "artifacts": {}}
    assert judge("x", outcome(good), ("a",), tmp_path, "c", "h", 60, 2048).passed
    stringly = {**good, "checks": [{"name": "a", "passed": "true"}]}
    assert "malformed" in judge("x", outcome(stringly), ("a",), tmp_path, "c", "h", 60, 2048).reason
    assert "names demo 'y'" in judge("x", outcome({**good, "name": "y"}), ("a",), tmp_path, "c", "h", 60, 2048).reason
    empty = {**good, "checks": []}
    assert judge("x", outcome(empty), (), tmp_path, "c", "h", 60, 2048).reason == "it returned no checks"
    killed = Outcome(-9, b"", b"", 0.1)
    assert judge("x", killed, (), tmp_path, "c", "h", 60, 2048).reason.startswith("killed by SIGKILL")


# --- cache ---------------------------------------------------------------------------------------

def test_unchanged_demo_is_served_from_cache(runner: DemoRunner, staff_dir: Path, spawned: list) -> None:
    first = runner.run("good")
    assert first.passed and len(spawned) == 1
    assert Path(first.artifacts["note"]).read_text() == "hi"
    second = runner.run("good")
    assert len(spawned) == 1  # no new process
    assert second == first
    assert runner.cached("good") == first

    with open(staff_dir / "good.py", "a") as f:
        f.write("\n# edited by staff\n")
    assert runner.cached("good") is None
    third = runner.run("good")
    assert len(spawned) == 2
    assert third.source_hash != first.source_hash and third.passed


def test_no_cache_forces_a_fresh_run(runner: DemoRunner, spawned: list) -> None:
    runner.run("good")
    runner.run("good", use_cache=False)
    assert len(spawned) == 2


def test_cache_survives_a_new_runner_and_needs_its_artifacts(tmp_path: Path, staff_dir: Path,
                                                             spawned: list) -> None:
    settings = Settings(data_dir=tmp_path / "data", demos_dir=staff_dir)
    first = DemoRunner(settings).run("good")
    again = DemoRunner(settings).run("good")
    assert again == first and len(spawned) == 1
    Path(first.artifacts["note"]).unlink()  # a cached result must not point at a missing file
    DemoRunner(settings).run("good")
    assert len(spawned) == 2


def test_not_verified_runs_are_cached_too_until_the_source_changes(runner: DemoRunner, staff_dir: Path,
                                                                     spawned: list) -> None:
    first = runner.run("crasher")
    assert not first.verified and runner.cached("crasher") == first
    assert runner.run("crasher") == first and len(spawned) == 1
    with open(staff_dir / "crasher.py", "a") as f:
        f.write("# fixed? staff edited it\n")
    assert runner.cached("crasher") is None
    runner.run("crasher")
    assert len(spawned) == 2


def test_a_hanging_demo_costs_its_timeout_once_not_at_every_start(tmp_path: Path, staff_dir: Path,
                                                                  spawned: list) -> None:
    # Issue 12 #4: failed verifications were not cached, so every start paid the full timeout again.
    settings = Settings(data_dir=tmp_path / "data", demos_dir=staff_dir, demo_timeout_s=1.5)
    only_sleeper = {"sleeper": staff_dir / "sleeper.py"}
    first_start, second_start = DemoRunner(settings), DemoRunner(settings)
    for runner in (first_start, second_start):
        runner._sources = lambda: only_sleeper  # type: ignore[method-assign]
    lines: list[str] = []
    [first] = first_start.verify_all(progress=lines.append)
    assert first.reason.startswith("timed out") and len(spawned) == 1
    [again] = second_start.verify_all(progress=lines.append)
    assert again == first and len(spawned) == 1  # the second start ran nothing
    assert lines[-1].startswith("sleeper: not verified: timed out after 1.5s") and lines[-1].endswith(", cached)")
    # A longer timeout might let it finish: the limits a not-verified verdict was reached under count.
    longer = DemoRunner(settings.with_(demo_timeout_s=2.5))
    assert longer.cached("sleeper") is None


def test_a_pending_demo_says_verifying_and_is_never_cached(runner: DemoRunner, spawned: list) -> None:
    pending = runner.pending("good")
    assert (pending.verified, pending.passed, pending.status) == (False, False, f"not verified: {VERIFYING}")
    assert pending.claim == "claim of good" and spawned == [] and runner.cached("good") is None


def test_a_full_disk_does_not_turn_a_run_into_an_error(runner: DemoRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "write_text", disk_full)
    run = runner.run("good")
    assert run.passed and runner.cached("good") is None


def test_without_bwrap_demos_still_run_and_start_up_says_they_are_not_isolated(
        runner: DemoRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = Isolation(False, "bubblewrap (bwrap) is not installed")
    monkeypatch.setattr(runner_module, "isolation", lambda: missing)
    monkeypatch.setattr(sandbox, "isolation", lambda: missing)
    monkeypatch.setattr(DemoRunner, "names", lambda self: ["good", "sandbox"])
    lines: list[str] = []
    runs = runner.verify_all(use_cache=False, progress=lines.append)
    assert [r.status for r in runs] == ["passed", "passed"]
    assert lines[0].startswith("demos: NOT isolated - bubblewrap (bwrap) is not installed")
    assert "install the debian package bubblewrap" in lines[0].lower()


def test_the_probe_reports_a_missing_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox.os, "access", lambda path, mode: False)
    box = sandbox.isolation.__wrapped__()
    assert not box.available and "not installed" in box.detail
    assert "NOT isolated" in box.describe() and "isolated with" not in box.describe()


def test_a_verified_pass_is_dropped_when_a_later_run_is_not_verified(tmp_path: Path, staff_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", demos_dir=staff_dir)
    runner = DemoRunner(settings)
    assert runner.run("good").passed
    (staff_dir / "good.py").write_text(STAFF["crasher"])
    assert not runner.run("good").verified
    (staff_dir / "good.py").write_text(STAFF["good"])  # back to the source that passed before
    assert runner.cached("good") is None


def test_cached_run_round_trips_through_json(runner: DemoRunner) -> None:
    run = runner.run("failing")
    assert DemoRun.from_json(json.loads(json.dumps(run.to_json()))) == run


# --- the command -----------------------------------------------------------------------------------

def test_verify_command_reports_failures_and_exits_non_zero(runner: DemoRunner, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(DemoRunner, "names", lambda self: ["crasher", "failing", "good"])
    assert demos_command("verify", None, False, True, runner.settings) == 1
    out, err = capsys.readouterr()
    assert "crasher: not verified: crashed" in out and "NOT VERIFIED" in out
    assert "failing.wrong FAILED" in out
    assert "3 demos, 3 checks: 2 passed, 1 failed; 1 not verified" in out
    assert "good: passed" in err  # progress goes to stderr

    monkeypatch.setattr(DemoRunner, "names", lambda self: ["good"])
    assert demos_command("verify", None, True, True, runner.settings) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["status"]) for d in data] == [("good", "passed")]


def test_run_command_shows_one_demo_fresh(runner: DemoRunner, spawned: list,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    runner.run("good")
    assert demos_command("run", "good", False, True, runner.settings) == 0
    out = capsys.readouterr().out
    assert len(spawned) == 2  # `run` never uses the cache
    assert "good: passed" in out and "claim: claim of good" in out and "answer: 42" in out
    assert demos_command("run", "failing", True, True, runner.settings) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "failed"
    with pytest.raises(DemoError, match="available demos"):
        demos_command("run", "os; rm -rf /", False, True, runner.settings)
    with pytest.raises(DemoError, match="unknown demos action"):
        demos_command("explode", None, False, True, runner.settings)


def test_project_demo_runs_in_the_sandbox_with_its_plot(tmp_path: Path) -> None:
    runner = DemoRunner(Settings(data_dir=tmp_path / "data"))
    run = runner.run("kl_asymmetry")
    assert run.passed, run.status
    plot = Path(run.artifacts["plot"])
    assert plot.is_relative_to((tmp_path / "data" / "demos" / "artifacts" / "kl_asymmetry").resolve())
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert os.path.getsize(plot) > 10_000
