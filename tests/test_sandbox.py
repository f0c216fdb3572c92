"""Hostile staff demos against the bubblewrap sandbox (issue 12, defect 3).

Each demo below does what an attacker's demo would (read the bot's secrets through /proc, leave a
`setsid` process behind, fill the disk, read the repository and the data folder, fork-bomb, call
out over the network) and reports what it managed as its metrics. They run through the real
`DemoRunner`, so the whole path (runner -> sandbox -> wrapper -> judge) is what is tested. Before
the sandbox existed, every one of these succeeded (the demo ran with rlimits only).

Skipped only when bubblewrap cannot sandbox on this machine; the unisolated fallback is tested in
tests/test_demos_runner.py.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import tarfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.demo_runs import sandbox
from bot.demo_runs.runner import DemoRun, DemoRunner
from bot.demo_runs.sandbox import MAX_PROCESSES, OUT_BYTES, TMP_BYTES, isolation

BOX = isolation()
pytestmark = pytest.mark.skipif(
    not BOX.available, reason=f"demos cannot be sandboxed here ({BOX.detail}); install the Debian package bubblewrap")


def hostile(name: str, body: str) -> str:
    """A staff demo whose `body` fills a `metrics` dict with what it got away with, then reports it
    as one passing check (the judge must accept the run, so the metrics reach the test)."""
    return ("import json, os, subprocess, sys, time\n"
            "metrics = {}\n"
            + textwrap.dedent(body).strip("\n") + "\n"
            f"print(json.dumps({{'name': {name!r}, 'claim': 'hostile', 'checks': [{{'name': 'ran', 'passed': True}}],"
            " 'metrics': metrics, 'artifacts': {}}))\n")


def run_demo(tmp_path: Path, name: str, body: str, timeout_s: float = 30) -> DemoRun:
    staff = tmp_path / "staff"
    staff.mkdir(exist_ok=True)
    (staff / f"{name}.py").write_text(hostile(name, body), encoding="utf-8")
    runner = DemoRunner(Settings(data_dir=tmp_path / "data", demos_dir=staff, demo_timeout_s=timeout_s))
    return runner.run(name, use_cache=False)


def host_processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass  # it ended while we looked
    return found


def test_the_bots_environment_is_out_of_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABOT_DISCORD_TOKEN", "discord-secret-do-not-leak")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-leak")
    run = run_demo(tmp_path, "environ", """
        seen = {}
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            try:
                seen[pid] = open(f"/proc/{pid}/environ", "rb").read().decode("latin-1")
                seen[pid] += " " + open(f"/proc/{pid}/cmdline", "rb").read().decode("latin-1")
            except OSError as e:
                seen[pid] = type(e).__name__
        metrics["ppid"] = os.getppid()
        metrics["seen"] = seen
        metrics["own_env"] = dict(os.environ)
    """)
    assert run.verified, run.reason
    everything = json.dumps(run.metrics)
    assert "do-not-leak" not in everything
    # Only the sandbox's own few processes exist in its /proc (bwrap's init and the wrapper are not
    # even readable): never the bot or anything else of the host.
    assert len(run.metrics["seen"]) <= 4
    assert all(seen == "PermissionError" or "HOME=/tmp\0" in seen for seen in run.metrics["seen"].values())
    assert not set(run.metrics["own_env"]) - set(sandbox._base_env("/tmp")) - {"PYTHONPATH", "PWD"}


def test_a_setsid_grandchild_dies_with_the_demo(tmp_path: Path) -> None:
    token = f"tabot-orphan-{uuid.uuid4().hex}"
    # The grandchild double-forks into its own session and would write a file after 2 s; the demo
    # itself reports at once and exits, as a sneaky demo would.
    run = run_demo(tmp_path, "orphan", f"""
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2); open('/tmp/still-alive', 'w'); "
                          "time.sleep(120)", {token!r}], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        metrics["started"] = True
    """)
    assert run.verified, run.reason
    deadline = time.monotonic() + 10  # the kernel tears the pid namespace down asynchronously
    while host_processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(token) == []


def test_a_hanging_demo_leaves_nothing_behind_at_the_timeout(tmp_path: Path) -> None:
    token = f"tabot-hang-{uuid.uuid4().hex}"
    run = run_demo(tmp_path, "hang", f"""
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", {token!r}], start_new_session=True)
        while True:
            pass
    """, timeout_s=2)
    assert run.reason.startswith("timed out")
    deadline = time.monotonic() + 10
    while host_processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(token) == []


def test_writes_are_refused_outside_and_capped_inside(tmp_path: Path) -> None:
    outside = tmp_path / "escape"
    outside.mkdir()
    run = run_demo(tmp_path, "filler", f"""
        def fill(folder, limit_mb=600):
            written = 0
            try:
                os.makedirs(folder, exist_ok=True)
                while written < limit_mb:  # 1 MB files: a per-file size limit alone would not stop this
                    with open(os.path.join(folder, f"f{{written}}.bin"), "wb") as f:
                        f.write(b"x" * (1 << 20))
                    written += 1
                return [written, "no error"]
            except OSError as e:
                return [written, e.strerror or type(e).__name__]
        metrics["outside"] = fill({str(outside)!r})
        metrics["repo"] = fill({str(PROJECT_ROOT / "demos")!r})
        metrics["home"] = fill({str(Path.home() / "tabot-escape")!r})
        metrics["tmp"] = fill("/tmp/fill")
        metrics["cwd"] = [os.getcwd()]
    """)
    assert run.verified, run.reason
    assert run.metrics["outside"][0] == 0 and list(outside.iterdir()) == []
    assert run.metrics["repo"][0] == 0 and run.metrics["repo"][1] in ("Read-only file system", "Permission denied")
    assert run.metrics["home"][0] == 0 and not (Path.home() / "tabot-escape").exists()
    assert 0 < run.metrics["tmp"][0] <= TMP_BYTES >> 20 and run.metrics["tmp"][1] == "No space left on device"
    assert not list(PROJECT_ROOT.joinpath("demos").glob("f*.bin"))


def test_the_artifact_folder_is_capped_and_copied_back_safely(tmp_path: Path) -> None:
    run = run_demo(tmp_path, "artifacts", """
        out = sys.argv[sys.argv.index("--out") + 1]
        written = 0
        try:
            while written < 600:
                with open(os.path.join(out, f"a{written}.bin"), "wb") as f:
                    f.write(b"x" * (1 << 20))
                written += 1
        except OSError as e:
            metrics["error"] = e.strerror
        os.symlink("/etc/hostname", os.path.join(out, "link"))
        os.mkfifo(os.path.join(out, "fifo"))
        metrics["written_mb"] = written
    """)
    assert run.verified, run.reason
    assert run.metrics["written_mb"] <= OUT_BYTES >> 20 and run.metrics["error"] == "No space left on device"
    folder = tmp_path / "data" / "demos" / "artifacts" / "artifacts"
    copied = list(folder.iterdir())
    assert all(p.is_file() and not p.is_symlink() for p in copied)  # no link, no fifo came back
    assert sum(p.stat().st_size for p in copied) <= OUT_BYTES and len(copied) <= sandbox.MAX_ARTIFACTS


def test_only_the_demos_own_code_is_readable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "feedback.sqlite3").write_text("student votes")
    run = run_demo(tmp_path, "reader", f"""
        def read(path):
            try:
                return open(path).read()[:40]
            except OSError as e:
                return type(e).__name__
        def ls(path):
            try:
                return sorted(os.listdir(path))
            except OSError as e:
                return type(e).__name__
        metrics["repo"] = ls({str(PROJECT_ROOT)!r})
        metrics["demos"] = ls({str(PROJECT_ROOT / "demos")!r})
        metrics["config"] = read({str(PROJECT_ROOT / "bot" / "config.py")!r})
        metrics["other_demo"] = read({str(PROJECT_ROOT / "demos" / "log_base.py")!r})
        metrics["feedback"] = read({str(data / "feedback.sqlite3")!r})
        metrics["staff_folder"] = ls(os.path.dirname(os.path.abspath(__file__)))
        metrics["home"] = ls({str(Path.home())!r})
        metrics["etc"] = ls("/etc")
        metrics["uid"] = os.getuid()
        metrics["caps"] = [line for line in open("/proc/self/status") if line.startswith(("CapEff", "CapPrm"))]
        metrics["import_bot"] = subprocess.run([sys.executable, "-c", "import bot"], capture_output=True).returncode
    """)
    assert run.verified, run.reason
    m = run.metrics
    assert set(m["repo"]) <= {"demos", ".venv"}  # the venv (numpy) is visible; the code of the bot is not
    assert m["demos"] == ["__init__.py", "_common.py"]
    assert m["config"] == m["other_demo"] == m["feedback"] == "FileNotFoundError"
    assert m["staff_folder"] == ["reader.py"]
    # At most the folders leading to the Python install (pyenv keeps it under the home folder).
    python_homes = {Path(p).resolve().relative_to(Path.home()).parts[0] for p in (sys.prefix, sys.base_prefix)
                    if Path(p).resolve().is_relative_to(Path.home())}
    assert m["home"] == "FileNotFoundError" or set(m["home"]) <= python_homes
    assert set(m["etc"]) <= {"ld.so.cache", "localtime"}
    assert m["import_bot"] != 0
    assert all(line.split()[1] == "0000000000000000" for line in m["caps"])
    if os.geteuid() == 0:
        assert m["uid"] != 0  # as root, the demo runs as nobody (so the process cap applies)


def test_a_fork_bomb_is_capped(tmp_path: Path) -> None:
    run = run_demo(tmp_path, "forkbomb", """
        children = 0
        try:
            for _ in range(2000):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError as e:
            metrics["error"] = e.strerror
        metrics["children"] = children
    """)
    assert run.verified, run.reason
    assert run.metrics["children"] < MAX_PROCESSES and run.metrics["error"] == "Resource temporarily unavailable"


def test_no_network(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        run = run_demo(tmp_path, "caller", f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3)
                metrics["connected"] = True
            except OSError as e:
                metrics["connected"] = type(e).__name__
            metrics["interfaces"] = sorted(name for _, name in socket.if_nameindex())
        """)
    assert run.verified, run.reason
    assert run.metrics["connected"] != True  # noqa: E712 - True, or the name of the error
    assert run.metrics["interfaces"] == ["lo"]


def test_project_demo_passes_with_its_plot_in_the_sandbox(tmp_path: Path) -> None:
    run = DemoRunner(Settings(data_dir=tmp_path / "data")).run("kl_asymmetry", use_cache=False)
    assert run.passed, run.status
    assert Path(run.artifacts["plot"]).read_bytes()[:4] == b"\x89PNG"


def _report(tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, payload in members:
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload else None)
    path = tmp_path / "report"
    path.write_bytes(b'{"returncode": 0}\n' + buffer.getvalue())
    return path


def test_a_forged_archive_cannot_write_outside_the_artifact_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    members = [(tarfile.TarInfo("../escaped.txt"), b"x"), (tarfile.TarInfo("/tmp/abs.txt"), b"x"),
               (link, b""), (tarfile.TarInfo("ok/plot.png"), b"png")]
    assert sandbox._collect(_report(tmp_path, members), out, bwrap_rc=1) == 0
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["ok/plot.png"]
    assert not (out / "link").exists()
    # No status line: the sandbox never started the demo, and bwrap's own exit code stands.
    (tmp_path / "empty").write_bytes(b"")
    assert sandbox._collect(tmp_path / "empty", out, bwrap_rc=1) == 1
