"""Faults injected under a running service (issue 12): the bot must say what is wrong in one line,
keep serving what it can, and recover by itself once the fault is gone.

- the Chroma server killed and restarted under a running chat (#9);
- `TABOT_LLM` naming a provider whose LangChain package is missing (#9);
- the data folder deleted under a running chat: the next 👍 is still stored (#5);
- a full disk (a 1 MB tmpfs from bubblewrap, which needs no mount permission) under `tabot index`,
  `tabot ask` and `tabot feedback export` (#5): one line each, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.conversation import Conversation
from bot.demo_runs.sandbox import isolation
from bot.errors import SearchUnavailableError
from bot.faces.cli import main
from bot.faces.web import WebChat
from bot.feedback import FeedbackStore
from bot.search.index import SEARCH_UNAVAILABLE, KnowledgeIndex
from bot.service import Tabot

QUESTION = "why is KL divergence not symmetric"
CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while True:  # a liveness wait (the server takes a few seconds to come up), not a timing assertion
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chroma run did not come up") from None
            time.sleep(0.3)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.slow
def test_a_chroma_server_killed_and_restarted_under_a_running_chat(tmp_path: Path) -> None:
    port = free_port()
    server = start_chroma(tmp_path / "server", port)
    try:
        settings = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{port}")
        tabot = Tabot.start(settings)
        talk = Conversation(tabot, FeedbackStore(settings.feedback_db), "web")
        assert talk.ask(QUESTION).answer is not None
        stop(server)

        down = talk.ask(QUESTION)  # before: "Sorry - something went wrong" (an httpx error inside Chroma)
        assert down.answer is None and down.text == SEARCH_UNAVAILABLE
        with pytest.raises(SearchUnavailableError):
            tabot.ask(QUESTION)

        server = start_chroma(tmp_path / "server", port)  # back, with the same data
        back = talk.ask(QUESTION)
        assert back.answer is not None and back.answer.sources[0].entry_id == "kl-asymmetry"
    finally:
        stop(server)


def test_an_unreachable_chroma_server_at_start_up_is_one_clear_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TABOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TABOT_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["ask", QUESTION]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tabot: cannot reach the Chroma server at http://127.0.0.1:") and "is it running?" in err
    assert "(ValueError)" not in err and "\n" not in err  # before: "... (ValueError)"


def test_a_missing_llm_package_is_one_line_before_anything_loads(tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("langchain")
    try:
        import langchain_openai  # noqa: F401
        pytest.skip("langchain-openai is installed here; the test needs it missing")
    except ImportError:
        pass

    def too_late(*args, **kwargs):
        raise AssertionError("the index was opened before the LLM setting was checked")

    monkeypatch.setattr(KnowledgeIndex, "__init__", too_late)
    monkeypatch.setenv("TABOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TABOT_LLM", "openai:gpt-4o-mini")
    assert main(["ask", QUESTION]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("tabot: TABOT_LLM='openai:gpt-4o-mini' needs the package langchain-openai - install it with: "
                   "pip install langchain-openai (or pip install 'tabot[llm]'), or unset TABOT_LLM to answer "
                   "without a language model")


def test_feedback_survives_the_data_folder_deleted_under_a_running_chat(tmp_path: Path) -> None:
    from tests.fake_tabot import FakeTabot

    settings = Settings(data_dir=tmp_path / "data")
    chat = WebChat(FakeTabot(settings=settings), FeedbackStore(settings.feedback_db))
    history, state, *_ = chat.respond(QUESTION, [], None)
    assert state.rate(1, 1).startswith("Thanks")
    shutil.rmtree(settings.data_dir)
    history, state, *_ = chat.respond("what is KL?", history, state)
    assert state.rate(3, -1).startswith("Thanks")  # before: every vote failed until a restart
    assert [r["question"] for r in FeedbackStore(settings.feedback_db).rows()] == ["what is KL?"]


# --- a full disk ----------------------------------------------------------------------------------

FULL = "tabot: "
needs_bwrap = pytest.mark.skipif(not isolation().available,
                                 reason="a tiny tmpfs needs bubblewrap here (mount is not assumed); "
                                        f"{isolation().detail}")


def on_a_full_disk(tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess:
    """Run `tabot ARGS` with its data folder on a 1 MB tmpfs that is already full (bubblewrap mounts it
    in a private mount namespace over an empty folder; nothing else of the machine changes)."""
    full = tmp_path / "full"
    full.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TABOT_")}, "TABOT_DATA_DIR": str(full),
           "PYTHONPATH": str(PROJECT_ROOT)}
    fill = f"head -c {2 << 20} /dev/zero > {full / 'pad'} 2>/dev/null"  # stops at 1 MB: the disk is full
    script = f"{fill}; exec {sys.executable} -m bot {' '.join(args)}"
    return subprocess.run([isolation().bwrap or "bwrap", "--dev-bind", "/", "/", "--size", str(1 << 20), "--tmpfs",
                           str(full), "--", "/bin/sh", "-c", script], capture_output=True, text=True, env=env,
                          timeout=600, cwd=tmp_path)


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("args", [["index"], ["ask", "'why is KL divergence not symmetric'"],
                                  ["feedback", "export", "--out", "full/x.csv"]], ids=["index", "ask", "export"])
def test_a_full_disk_ends_every_command_in_one_line(tmp_path: Path, args: list[str]) -> None:
    done = on_a_full_disk(tmp_path, args)
    assert done.returncode == 1, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith(FULL)]
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr[-2000:]
    assert "full" in lines[0] or "No space left" in lines[0], lines[0]
