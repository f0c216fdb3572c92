import csv
import json
import sqlite3
import threading

import pytest

from bot.feedback import COLUMNS, MAX_COMMENT_CHARS, FeedbackStore
from tests.fake_tabot import abstain_answer, kl_answer


def test_table_is_created_on_first_use_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "fb.sqlite3"
    store = FeedbackStore(path)
    assert not path.exists()  # nothing happens until it is used
    assert store.rows() == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert "feedback" in tables


def test_record_stores_question_answer_sources_rating_and_utc_time(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    answer = kl_answer("why is KL not symmetric")
    first = store.record("web", "why is KL not symmetric", answer, 1, comment="  clear, thanks ", user="anon")
    second = store.record("discord", "what is a transformer", abstain_answer("what is a transformer"), -1)
    assert second == first + 1
    rows = store.rows()
    assert [r["id"] for r in rows] == [first, second]
    row = rows[0]
    assert row["channel"] == "web" and row["rating"] == 1 and row["user"] == "anon"
    assert row["comment"] == "clear, thanks"
    assert row["question"] == "why is KL not symmetric"
    assert row["sources"] == ["kl-asymmetry"]
    assert row["answer_markdown"] == answer.answer
    assert row["answer_json"] == json.loads(json.dumps(answer.to_json()))
    assert row["abstained"] is False
    assert row["created_at"].endswith("+00:00")
    assert rows[1]["abstained"] is True and rows[1]["sources"] == [] and rows[1]["comment"] is None


def test_bad_rating_or_channel_is_refused(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    with pytest.raises(ValueError, match="rating"):
        store.record("web", "q", kl_answer("q"), 0)
    with pytest.raises(ValueError, match="channel"):
        store.record("email", "q", kl_answer("q"), 1)
    assert store.rows() == []


def test_huge_comment_is_bounded(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.record("web", "q", kl_answer("q"), 1, comment="x" * 100_000)
    assert len(store.rows()[0]["comment"]) == MAX_COMMENT_CHARS


def test_many_threads_and_two_store_objects_can_write_at_once(tmp_path):
    # Gradio handlers run in a thread pool and the Discord bot opens its own store on the same file.
    path = tmp_path / "fb.sqlite3"
    stores = [FeedbackStore(path), FeedbackStore(path)]
    answer = kl_answer("q")
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                stores[i % 2].record("web" if i % 2 else "discord", f"q{i}-{j}", answer, 1 if j % 2 else -1)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = FeedbackStore(path).rows()
    assert len(rows) == 80
    assert len({r["question"] for r in rows}) == 80


def test_export_csv_round_trips_and_defuses_formulas(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.record("web", "=HYPERLINK(\"http://evil\")", kl_answer("q"), 1, comment="@SUM(1)")
    store.record("web", "plain, with \"quotes\"\nand a newline", kl_answer("q"), -1)
    out = tmp_path / "out" / "fb.csv"
    assert store.export(out, "csv") == 2
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys()) == list(COLUMNS)
    assert rows[0]["question"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["comment"] == "'@SUM(1)"
    assert rows[0]["sources"] == "kl-asymmetry"
    assert rows[1]["question"] == "plain, with \"quotes\"\nand a newline"
    assert rows[1]["rating"] == "-1"
    assert json.loads(rows[0]["answer_json"])["sources"][0]["entry_id"] == "kl-asymmetry"


def test_export_jsonl(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.record("discord", "q1", kl_answer("q1"), 1, user="someone#1")
    store.record("web", "q2", abstain_answer("q2"), -1, comment="wrong")
    out = tmp_path / "fb.jsonl"
    assert store.export(out, "jsonl") == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in lines] == ["q1", "q2"]
    assert lines[0]["sources"] == ["kl-asymmetry"] and lines[0]["user"] == "someone#1"
    assert lines[1]["comment"] == "wrong" and lines[1]["answer_json"]["abstained"] is True


def test_export_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="csv"):
        FeedbackStore(tmp_path / "fb.sqlite3").export(tmp_path / "x", "xml")


def test_export_of_an_empty_store_writes_a_header_only(tmp_path):
    out = tmp_path / "fb.csv"
    assert FeedbackStore(tmp_path / "fb.sqlite3").export(out) == 0
    assert out.read_text(encoding="utf-8").strip() == ",".join(COLUMNS)
