import csv
import json
import logging
import os
import shutil
import sqlite3
import threading

import pytest

from bot.conversation import Conversation
from bot.errors import FeedbackStoreError
from bot.feedback import COLUMNS, MAX_COMMENT_CHARS, FeedbackStore
from bot.pseudonyms import load_salt, pseudonym
from tests.fake_tabot import FakeTabot, abstain_answer, kl_answer


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
    assert row["channel"] == "web" and row["rating"] == 1 and row["user"] == pseudonym(store.salt, "anon")
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
    assert lines[0]["sources"] == ["kl-asymmetry"] and lines[0]["user"] == pseudonym(store.salt, "someone#1")
    assert lines[1]["comment"] == "wrong" and lines[1]["answer_json"]["abstained"] is True


def test_export_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="csv"):
        FeedbackStore(tmp_path / "fb.sqlite3").export(tmp_path / "x", "xml")


def test_export_of_an_empty_store_writes_a_header_only(tmp_path):
    out = tmp_path / "fb.csv"
    assert FeedbackStore(tmp_path / "fb.sqlite3").export(out) == 0
    assert out.read_text(encoding="utf-8").strip() == ",".join(COLUMNS)


# --- self-repair (issue 12 #5) and one vote per person per answer (#6) ---------------------------

def test_a_data_folder_deleted_under_a_running_store_is_recreated(tmp_path):
    data = tmp_path / "data"
    store = FeedbackStore(data / "feedback.sqlite3")
    store.record("web", "q1", kl_answer("q1"), 1)
    shutil.rmtree(data)  # e.g. a clean-up script while the chat runs
    store.record("web", "q2", kl_answer("q2"), -1)  # before: "no such table" on every click until restart
    assert [r["question"] for r in store.rows()] == ["q2"]


def test_a_dropped_table_is_recreated(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.record("web", "q1", kl_answer("q1"), 1)
    with sqlite3.connect(tmp_path / "fb.sqlite3") as conn:
        conn.execute("DROP TABLE feedback")
    store.record("web", "q2", kl_answer("q2"), 1)
    assert [r["question"] for r in store.rows()] == ["q2"]


def test_a_corrupt_file_is_moved_aside_and_a_new_one_started(tmp_path, caplog):
    path = tmp_path / "feedback.sqlite3"
    junk = os.urandom(4096)
    path.write_bytes(junk)
    store = FeedbackStore(path)
    with caplog.at_level(logging.WARNING, logger="bot.feedback"):
        store.record("web", "q", kl_answer("q"), 1)
    kept = list(tmp_path.glob("feedback.sqlite3.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == junk  # nothing destroyed: kept for staff to look at
    assert [r["question"] for r in store.rows()] == ["q"]
    assert any("was damaged" in r.getMessage() and str(kept[0]) in r.getMessage() for r in caplog.records)


def test_reading_a_corrupt_file_is_one_line_and_moves_nothing(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"\0" * 100 + os.urandom(4000))
    with pytest.raises(FeedbackStoreError) as info:
        FeedbackStore(path).export(tmp_path / "out.csv")
    assert "is damaged" in str(info.value) and "\n" not in str(info.value)
    assert path.exists() and not list(tmp_path.glob("*.corrupt-*"))


def test_the_cli_export_of_a_corrupt_file_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    # Issue 12 #5, verbatim: `head -c 4096 /dev/urandom > $D/feedback.sqlite3; tabot feedback export`.
    from bot.faces.cli import main

    (tmp_path / "feedback.sqlite3").write_bytes(os.urandom(4096))
    monkeypatch.setenv("TABOT_DATA_DIR", str(tmp_path))
    assert main(["feedback", "export", "--out", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tabot: feedback database") and "damaged" in err and "\n" not in err


def test_a_file_from_before_one_vote_is_migrated_with_its_rows(tmp_path):
    path = tmp_path / "fb.sqlite3"
    old_schema = ("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, channel TEXT"
                  " NOT NULL CHECK (channel IN ('web', 'discord')), user TEXT, rating INTEGER NOT NULL CHECK (rating IN"
                  " (-1, 1)), comment TEXT, question TEXT NOT NULL, abstained INTEGER NOT NULL, sources TEXT NOT NULL,"
                  " answer_markdown TEXT NOT NULL, answer_json TEXT NOT NULL)")  # the table as first released
    with sqlite3.connect(path) as conn:
        conn.execute(old_schema)
        conn.execute("INSERT INTO feedback (created_at, channel, user, rating, comment, question, abstained, sources,"
                     " answer_markdown, answer_json) VALUES ('t', 'web', NULL, 1, NULL, 'old', 0, '[]', 'a', '{}')")
    store = FeedbackStore(path)
    store.record("web", "new", kl_answer("new"), -1, user="u", answer_id="c:2")
    assert [(r["question"], r["answer_id"]) for r in store.rows()] == [("old", None), ("new", "c:2")]


def test_no_raw_user_id_reaches_the_file_and_an_old_file_loses_its_raw_ids(tmp_path):
    discord_id = "301234567890123456"
    path = tmp_path / "fb.sqlite3"
    old = FeedbackStore(path)
    old.record("discord", "q", kl_answer("q"), 1, user=discord_id, answer_id="c:1")
    written = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith(path.name))  # + -wal
    assert discord_id.encode() not in written
    # A file written before pseudonyms: raw ids in `user`, schema version 0.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE feedback SET user = ?", (discord_id,))
        conn.execute("PRAGMA user_version = 0")
    store = FeedbackStore(path)
    store.record("discord", "q", kl_answer("q"), -1, user=discord_id, answer_id="c:1")  # the same person again
    rows = store.rows()
    assert [(r["user"], r["rating"]) for r in rows] == [(pseudonym(store.salt, discord_id), -1)]  # one vote, migrated
    # The same salt as the question log: a student's vote and question carry the same pseudonym.
    assert store.salt == load_salt(tmp_path)


def test_stores_opening_an_old_file_at_once_hash_each_raw_id_exactly_once(tmp_path):
    path = tmp_path / "fb.sqlite3"
    FeedbackStore(path).record("discord", "q", kl_answer("q"), 1, user="x", answer_id="c:1")
    raw = [f"3012345678901234{i:02d}" for i in range(20)]
    with sqlite3.connect(path) as conn:  # back to a file from before pseudonyms, holding 20 raw ids
        conn.execute("DELETE FROM feedback")
        for i, user in enumerate(raw):
            conn.execute("INSERT INTO feedback (created_at, channel, user, rating, question, abstained, sources,"
                         " answer_markdown, answer_json, answer_id) VALUES ('t', 'discord', ?, 1, 'q', 0, '[]', 'a',"
                         " '{}', ?)", (user, f"c:{i}"))
        conn.execute("PRAGMA user_version = 0")
    start = threading.Barrier(6)

    def open_it() -> None:
        start.wait()
        FeedbackStore(path).rows()

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    salt = load_salt(tmp_path)
    assert [r["user"] for r in FeedbackStore(path).rows()] == [pseudonym(salt, user) for user in raw]


def test_one_vote_per_person_per_answer_the_last_click_wins(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    answer = kl_answer("q")
    ids = {store.record("discord", "q", answer, 1 if i % 2 else -1, user="alice", answer_id="conv:key")
           for i in range(200)}  # 200 alternating clicks
    assert len(ids) == 1
    store.record("discord", "q", answer, 1, comment="clear", user="alice", answer_id="conv:key")
    store.record("discord", "q", answer, -1, user="alice", answer_id="conv:key")  # no comment: the old one stays
    store.record("discord", "q", answer, 1, user="bob", answer_id="conv:key")
    store.record("discord", "q", answer, 1, user="alice", answer_id="conv:other")
    rows = store.rows()
    alice, bob = pseudonym(store.salt, "alice"), pseudonym(store.salt, "bob")
    assert [(r["user"], r["answer_id"], r["rating"], r["comment"]) for r in rows] == [
        (alice, "conv:key", -1, "clear"), (bob, "conv:key", 1, None), (alice, "conv:other", 1, None)]


def test_a_browser_session_clicking_100_times_leaves_one_row(tmp_path):
    # Issue 12 #6: one session rated one answer 100 times -> 100 rows. The web passes no user.
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    talk = Conversation(FakeTabot(), store, "web")
    turn = talk.ask("why is KL divergence not symmetric", key=1)
    for i in range(100):
        talk.rate(turn.key, 1 if i % 2 else -1)
    other_session = Conversation(FakeTabot(), store, "web")
    other_session.rate(other_session.ask("why is KL divergence not symmetric", key=1).key, 1)
    rows = store.rows()
    assert len(rows) == 2 and rows[0]["rating"] == 1 and rows[0]["user"] != rows[1]["user"]
    assert rows[0]["user"] == pseudonym(store.salt, talk.session_user)


def test_a_full_disk_is_a_one_line_store_error(tmp_path, monkeypatch):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.rows()
    real_connect = sqlite3.connect

    class FullDisk(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.lstrip().startswith("INSERT"):
                raise sqlite3.OperationalError("database or disk is full")
            return super().execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=FullDisk, **k))
    with pytest.raises(FeedbackStoreError, match="the disk is full - free some space"):
        store.record("web", "q", kl_answer("q"), 1)
