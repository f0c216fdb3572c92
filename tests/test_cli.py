import json
from pathlib import Path

import pytest

from bot.faces.cli import main


@pytest.fixture()
def env(session_settings, monkeypatch):
    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    return session_settings


def test_ask_json_puts_kl_asymmetry_first(env, tabot, capsys) -> None:
    assert main(["ask", "--json", "why is KL divergence not symmetric"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"][0]["entry_id"] == "kl-asymmetry" and out["abstained"] is False
    assert set(out) >= {"question", "answer", "abstained", "sources", "demos", "backend", "timings_ms"}
    assert {"name", "claim", "passed", "metrics"} <= set(out["demos"][0])


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_one_line_and_exit_2(env, question: str, capsys) -> None:
    assert main(["ask", question]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tabot:") and "\n" not in err


def test_batch_echoes_ids_and_survives_a_bad_line(env, tabot, tmp_path: Path, capsys) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(json.dumps(row) for row in [
        {"id": "a", "question": "derivative of softmax with nll"},
        {"id": "b", "question": ""},
        {"id": "c", "question": "how do I make sourdough bread"},
    ]) + "\n")
    assert main(["ask", "--batch", str(batch), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["sources"][0]["entry_id"] == "softmax-derivative"
    assert "error" in rows[1] and rows[2]["abstained"] is True


def test_text_output_shows_sources(env, tabot, capsys) -> None:
    assert main(["ask", "does the log base matter for the loss?"]) == 0
    out = capsys.readouterr().out
    assert "constant multiplicative factor" in out and "log-base" in out


def test_unknown_demo_is_a_clear_error(env, capsys) -> None:
    assert main(["demos", "run", "no_such_demo"]) != 0
    assert "no_such_demo" in capsys.readouterr().err


def test_eval_options_are_forwarded(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["eval", "--help"])
    assert done.value.code == 0
    assert "--gate" in capsys.readouterr().out


def test_feedback_export_writes_the_stored_rows(env, tabot, tmp_path: Path, capsys) -> None:
    from bot.feedback import FeedbackStore

    store = FeedbackStore(env.feedback_db)
    before = len(store.rows())
    store.record("web", "why is KL divergence not symmetric", tabot.ask("why is KL divergence not symmetric"), 1,
                 comment="clear, thanks")
    out = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--format", "jsonl", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == before + 1 and rows[-1]["comment"] == "clear, thanks" and rows[-1]["rating"] == 1
    assert f"wrote {before + 1} feedback rows" in capsys.readouterr().out


def test_unwritable_paths_are_one_line_not_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("TABOT_DATA_DIR", str(blocker / "data"))
    assert main(["index"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tabot:") and "\n" not in err and "Traceback" not in err and "data" in err
