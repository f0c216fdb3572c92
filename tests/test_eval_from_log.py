"""`tabot eval --from-log`: the question log exported for labelling, then evaluated on (real SQLite,
real engine)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bot.question_log import QuestionLog
from eval.__main__ import main
from eval.datasets import DatasetError
from eval.from_log import labelled_questions
from tests.fake_tabot import abstain_answer, kl_answer

MINE = {"=why is kl divergence not symmetric (from-log test)": "kl-asymmetry",
        "what is the capital of france (from-log test)": "none",
        "which log base for cross entropy (from-log test)": "log-base"}


def test_export_label_and_evaluate(session_settings, tabot, tmp_path: Path, capsys) -> None:
    log = QuestionLog.reader(session_settings)
    for text in MINE:
        log.record("web", kl_answer(text) if MINE[text] != "none" else abstain_answer(text), user="s")
    log.record("discord", abstain_answer("what is the capital of france (from-log test)"), user="t")  # asked twice
    labels = tmp_path / "labels.csv"
    data = ["--data-dir", str(session_settings.data_dir)]
    assert main(["--from-log", str(labels), *data]) == 0
    assert "fill its 'expected' column" in capsys.readouterr().out

    with labels.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    mine = {row["question"]: row for row in rows if row["question"].lstrip("'") in MINE}
    assert len(mine) == 3 and all(r["expected"] == "" for r in rows)
    assert "'=why is kl" in "".join(mine)  # a would-be spreadsheet formula is defused
    assert mine["what is the capital of france (from-log test)"]["times_asked"] == "2"
    for row in rows:  # staff label theirs; the rest stay unlabelled and are skipped
        row["expected"] = MINE.get(row["question"].lstrip("'"), "")
    with labels.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    out = tmp_path / "report"
    assert main(["--from-log", str(labels), "--out", str(out), "--fast", "--no-baselines", "--quiet", *data]) == 0
    capsys.readouterr()
    dataset = [json.loads(line) for line in labels.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["question"]: r["expected"] for r in dataset} == {
        "=why is kl divergence not symmetric (from-log test)": ["kl-asymmetry"],
        "what is the capital of france (from-log test)": [],
        "which log base for cross entropy (from-log test)": ["log-base"]}
    assert all(r["id"].startswith("log-") for r in dataset)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "tabot" in report["systems"]


def test_a_wrong_label_names_the_csv_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("id,question,expected\nlog-1,a,\nlog-2,b,kl-asymetry\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"labels.csv:3: unknown entry id\(s\) \['kl-asymetry'\]"):
        labelled_questions(labels, {"kl-asymmetry"})
    labels.write_text("id,question,expected\nlog-1,a,\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no row has 'expected' filled in"):
        labelled_questions(labels, {"kl-asymmetry"})
