import gc
import json
from pathlib import Path

import pytest

from bot.faces import cli
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
    assert gc.isenabled()  # off only while the service started (bot.faces.cli.end_of_startup)


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
    assert main(["ask", "--batch", str(batch), "--json"]) == 1  # one line got an error record
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["sources"][0]["entry_id"] == "softmax-derivative"
    assert "error" in rows[1] and rows[2]["abstained"] is True


def test_batch_from_the_issue_a_lone_surrogate_loses_nothing(env, tabot, tmp_path: Path, capsysbinary) -> None:
    # Issue 12 #2, verbatim: printing the echoed surrogate raised UnicodeEncodeError and lost line 2.
    batch = tmp_path / "s.jsonl"
    batch.write_bytes(b'{"id":1,"question":"\\ud800"}\n{"id":2,"question":"which log base"}\n')
    assert main(["ask", "--batch", str(batch), "--json"]) == 1  # line 1 got an error record
    out = capsysbinary.readouterr().out.decode("utf-8")  # strict: the output must be valid UTF-8
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["error"].startswith("Please type a question")  # nothing is left of "\ud800" once cleaned
    assert rows[1]["sources"][0]["entry_id"] == "log-base"


def test_batch_with_every_kind_of_bad_line_answers_the_good_ones(env, tabot, tmp_path: Path, capsysbinary) -> None:
    lines = [
        "\ufeff" + json.dumps({"id": "bom", "question": "does the log base matter for cross-entropy"}),
        '{"id": "sep", "question": "why is KL divergence\u2028not symmetric"}',  # a raw U+2028 inside a string
        '{"id": "broken", "question": "unterminated',
        "[1, 2, 3]",
        '{"id": "noq"}',
        '{"id": NaN, "question": "x"}',
        '{"id": {"nested": ["\\ud800"]}, "question": "\\udfff"}',
        "",
        "   ",
        '{"id": "tab", "question": "softmax\tderivative"}',  # a raw tab: lenient
    ]
    data = "\n".join(lines).encode("utf-8")
    data += b'\n{"id": "latin", "question": "caf\xe9 au lait"}\r\n{"id": "last", "question": "why backprop order"}'
    batch = tmp_path / "mixed.jsonl"
    batch.write_bytes(data)
    assert main(["ask", "--batch", str(batch), "--json"]) == 1
    captured = capsysbinary.readouterr()
    rows = [json.loads(line) for line in captured.out.decode("utf-8").splitlines()]
    ids = ["bom", "sep", None, None, "noq", None, {"nested": ["\ud800"]}, "tab", "latin", "last"]
    assert [r["id"] for r in rows] == ids  # one record per non-blank line, in order
    by_id = {json.dumps(r["id"]): r for r in rows}
    assert by_id['"bom"']["sources"][0]["entry_id"] == "log-base"
    assert by_id['"sep"']["sources"][0]["entry_id"] == "kl-asymmetry"
    assert by_id['"tab"']["sources"][0]["entry_id"] == "softmax-derivative"
    assert by_id['"last"']["sources"][0]["entry_id"] == "backprop-order"
    assert "is not valid JSON" in rows[2]["error"] and rows[2]["line"] == 3
    assert "not an object" in rows[3]["error"] and 'no "question"' in rows[4]["error"]
    assert "NaN is not a JSON value" in rows[5]["error"]
    assert rows[6]["error"].startswith("Please type a question")  # a lone surrogate cleans to nothing
    assert "is not UTF-8 (byte 0xe9" in by_id['"latin"']["error"]
    err = captured.err.decode("utf-8")
    assert "Traceback" not in err
    summary = [line for line in err.splitlines() if line.startswith("tabot: ")]
    assert len(summary) == 1 and "6 of 10 lines" in summary[0] and "Latin-1" in summary[0]


def test_batch_json_survives_a_stdout_that_is_not_utf8(monkeypatch) -> None:
    import io
    import sys

    from bot.faces import cli

    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    cli._print_json({"id": "\ud800", "answer": "KL(p‖q) ≠ KL(q‖p)"})
    cli._print("echo: \ud800 and ‖")
    sys.stdout.flush()
    first, second = raw.getvalue().decode("ascii").splitlines()
    assert json.loads(first) == {"id": "\ud800", "answer": "KL(p‖q) ≠ KL(q‖p)"}
    assert second == "echo: \\ud800 and \\u2016"


def test_unexpected_errors_inside_libraries_are_one_line(env, monkeypatch, capsys) -> None:
    import sqlite3

    from bot.service import Tabot

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(Tabot, "start", disk_full)
    assert main(["ask", "what is KL"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("tabot: unexpected error (OperationalError: database or disk is full) - the disk holding the "
                   "data folder is full - free some space and try again")


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


def test_chat_flags_override_the_environment(monkeypatch, capsys) -> None:
    import bot.faces.web as web

    served: list = []

    def serve(settings, built) -> None:
        assert not gc.isenabled()  # start-up runs without the cyclic GC ...
        built()
        assert gc.isenabled()  # ... which is back on before the chat listens
        served.append(settings)

    monkeypatch.setattr(web, "serve", serve)
    monkeypatch.setattr(cli, "_open_encoder_early", lambda settings: None)  # nothing would collect it here
    monkeypatch.setenv("TABOT_PORT", "7000")
    assert main(["chat", "--port", "7999", "--host", "0.0.0.0", "--share"]) == 0
    assert (served[-1].port, served[-1].host, served[-1].share) == (7999, "0.0.0.0", True)
    assert main(["chat"]) == 0 and served[-1].port == 7000 and served[-1].share is False  # no flag: TABOT_PORT
    with pytest.raises(SystemExit) as bad:  # argparse: a one-line usage error, exit 2
        main(["chat", "--port", "99999"])
    assert bad.value.code == 2 and "invalid port value" in capsys.readouterr().err
