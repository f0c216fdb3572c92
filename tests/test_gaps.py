"""`tabot gaps` over a real question log (SQLite) with the real MiniLM and the real engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.faces.cli import main
from bot.faces.gaps import cluster, find_gaps
from bot.question_log import QuestionLog
from tests.fake_tabot import abstain_answer, kl_answer

POSITIONAL = ["how do transformers use positional encodings?",
              "why does a transformer need positional encoding at all",
              "what are the positional encodings in attention models for"]
DROPOUT = ["what does dropout do at test time?",
           "is dropout turned off during inference",
           "do we rescale activations when dropout is disabled for evaluation"]
DAY = datetime(2026, 10, 1, 9, tzinfo=UTC)


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("TABOT_DATA_DIR", str(tmp_path))
    return tmp_path


def gaps_json(capsys, *extra: str) -> dict:
    assert main(["gaps", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_six_declined_questions_on_two_topics_make_two_topics_with_the_right_members(
        data_dir: Path, tabot, capsys) -> None:
    questions = QuestionLog.from_settings(Settings(data_dir=data_dir))
    # Positional encodings: three students; dropout: two (one of them asks twice).
    askers = {POSITIONAL[0]: "ann", POSITIONAL[1]: "bob", POSITIONAL[2]: "cy",
              DROPOUT[0]: "dee", DROPOUT[1]: "eve", DROPOUT[2]: "dee"}
    for day, text in enumerate(DROPOUT + POSITIONAL):
        answer = tabot.ask(text)
        assert answer.abstained, f"no TA answer covers {text!r}, so it must be declined"
        questions.record("web", answer, user=askers[text], when=DAY + timedelta(days=day))
    questions.record("discord", kl_answer("why is KL divergence not symmetric"), user="fay")  # answered: no gap

    out = gaps_json(capsys)
    assert out["questions"] == 6 and out["embedded"] >= 6
    topics = out["topics"]
    assert [sorted(t["questions"]) for t in topics] == [sorted(POSITIONAL), sorted(DROPOUT)]  # by students
    assert [t["students"] for t in topics] == [3, 2] and [t["asked"] for t in topics] == [3, 3]
    first = topics[0]
    assert len(first["representatives"]) == 3 and first["first_seen"].startswith("2026-10-04")
    assert first["last_seen"].startswith("2026-10-06")
    assert first["nearest_entry"] in {e for e, _ in tabot.topics()} and 0 < first["similarity"] < 0.9

    # A second run embeds nothing new: the vectors were cached in the log.
    assert gaps_json(capsys)["embedded"] == 0


def test_long_posts_are_grouped_and_shown_by_the_question_found_in_them(data_dir: Path, tabot, capsys) -> None:
    questions = QuestionLog.from_settings(Settings(data_dir=data_dir))
    posts = {"ann": "Hi all, I have been reading the attention paper for my final project and wrote the encoder "
                    "in numpy myself; after a day of debugging the shapes finally line up and the loss goes down. "
                    "Why does a transformer need positional encoding at all?",
             "bob": "Context: our group trains a small translation model on 20k sentence pairs for the project, "
                    "about an hour per run on Colab, and the BLEU score is fine so far. What are the positional "
                    "encodings in attention models for?",
             "cy": DROPOUT[0]}
    for user, text in posts.items():
        answer = tabot.ask(text)
        assert answer.abstained and bool(answer.asked) == (user != "cy")
        questions.record("web", answer, user=user)
    topics = gaps_json(capsys)["topics"]
    assert sorted(sorted(t["questions"]) for t in topics) == [
        ["What are the positional encodings in attention models for?",
         "Why does a transformer need positional encoding at all?"], [DROPOUT[0]]]


def test_zero_and_one_question(data_dir: Path, tabot, capsys) -> None:
    assert main(["gaps"]) == 0
    assert capsys.readouterr().out.startswith("No gaps: 0 logged questions")
    assert gaps_json(capsys)["topics"] == []
    QuestionLog.from_settings(Settings(data_dir=data_dir)).record("cli", abstain_answer(DROPOUT[0]), user="x")
    topics = gaps_json(capsys)["topics"]
    assert [(t["questions"], t["students"]) for t in topics] == [([DROPOUT[0]], 1)]
    assert main(["gaps"]) == 0
    table = capsys.readouterr().out
    assert "1 topics from 1 declined" in table and DROPOUT[0] in table


def test_a_disliked_answer_is_a_gap_and_out_writes_markdown_html_and_a_plot(data_dir: Path, tabot, capsys) -> None:
    questions = QuestionLog.from_settings(Settings(data_dir=data_dir))
    shown = questions.record("web", kl_answer("<script>alert(1)</script> kl | divergence?"), user="a")
    questions.link_feedback(shown, feedback_id=7, rating=-1)
    questions.record("web", kl_answer("liked answer"), user="b")
    out_dir = data_dir / "report"
    assert main(["gaps", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert {p.name for p in out_dir.iterdir()} == {"gaps.md", "gaps.html", "gaps.json", "topics.png"}
    page = (out_dir / "gaps.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page and "<script>" not in page and "data:image/png;base64," in page
    assert "kl \\| divergence" in (out_dir / "gaps.md").read_text(encoding="utf-8")
    assert (out_dir / "topics.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((out_dir / "gaps.json").read_text(encoding="utf-8"))
    assert report["topics"][0]["disliked"] == 1 and report["questions"] == 1
    # The 👎 answer came from kl-asymmetry: the report says where a near miss would go, in every form.
    assert report["topics"][0]["disliked_from"] == {"kl-asymmetry": 1}
    hint = "1 👎 answer from kl-asymmetry: if it does not answer these, add them to its near\\_misses"
    assert hint in (out_dir / "gaps.md").read_text(encoding="utf-8")
    assert hint.replace("\\", "") in page
    assert main(["gaps"]) == 0 and "↳ " + hint.replace("\\", "") in capsys.readouterr().out


def test_an_answer_that_said_it_was_unsure_is_a_gap_with_its_entry(data_dir: Path, tabot, capsys) -> None:
    from dataclasses import replace

    from bot.answering.compose import UNSURE_BELOW

    questions = QuestionLog.from_settings(Settings(data_dir=data_dir))
    sure = kl_answer("why is KL divergence not symmetric")
    unsure = kl_answer("is the KL between two gaussians closed form?")
    unsure.sources = [replace(unsure.sources[0], score=UNSURE_BELOW - 0.2)]
    questions.record("web", sure, user="a")
    questions.record("web", unsure, user="b")
    report = gaps_json(capsys)
    assert report["questions"] == 1  # the sure answer is no gap
    [topic] = report["topics"]
    assert topic["questions"] == [unsure.question] and topic["declined"] == 0 and topic["disliked"] == 0
    assert topic["unsure"] == 1 and topic["unsure_from"] == {"kl-asymmetry": 1}
    assert main(["gaps"]) == 0
    assert ("1 unsure answer from kl-asymmetry: if it does not answer these, add them to its near_misses; "
            "if it does, to its aliases") in capsys.readouterr().out


def test_cluster_handles_tiny_inputs_and_the_two_stage_path_keeps_topics_apart(monkeypatch) -> None:
    assert cluster(np.empty((0, 384), dtype=np.float32)).tolist() == []
    assert cluster(np.ones((1, 384), dtype=np.float32) / np.sqrt(384)).tolist() == [0]
    # Above DIRECT_MAX texts go through MiniBatchKMeans first: three far-apart topics must stay three.
    import bot.faces.gaps as gaps

    monkeypatch.setattr(gaps, "DIRECT_MAX", 50)
    monkeypatch.setattr(gaps, "MAX_GROUPS", 20)
    rng = np.random.default_rng(1)
    centres = np.eye(384, dtype=np.float32)[:3]
    points = centres[np.repeat(np.arange(3), 100)] + rng.normal(0, 0.02, (300, 384)).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = cluster(points)
    assert len(set(labels.tolist())) == 3
    assert all(len(set(labels[i * 100:(i + 1) * 100].tolist())) == 1 for i in range(3))


def test_find_gaps_counts_students_not_rows() -> None:
    vectors = {"q1": np.array([1.0, 0.0]), "q2": np.array([0.99, 0.141]), "entry": np.array([0.0, 1.0])}
    rows = [{"id": i, "question": q, "user_hash": u, "created_at": f"2026-10-0{i + 1}T00:00:00+00:00",
             "answered": False, "rating": None} for i, (q, u) in enumerate([("q1", "a"), ("q1", "a"), ("q2", None)])]

    class Entry:
        id, question, aliases = "some-entry", "entry", ()

    report = find_gaps(rows, lambda texts: {t: vectors[t] for t in texts}, [Entry()])
    assert [(t.asked, t.students, t.nearest_entry) for t in report.topics] == [(3, 2, "some-entry")]


def test_drafts_are_refused_by_the_loader_until_a_ta_writes_the_answer(data_dir: Path, tabot, capsys) -> None:
    import shutil

    from bot.errors import KnowledgeError
    from bot.knowledge import DRAFT_PLACEHOLDER, load_entries, parse_entry

    questions = QuestionLog.from_settings(Settings(data_dir=data_dir))
    tricky = "dropout: on or off at test time? # asking for the exam"  # YAML-hostile student text
    for i, text in enumerate([*DROPOUT, tricky]):
        questions.record("web", abstain_answer(text), user=f"s{i}")
    drafts = data_dir / "drafts"
    assert main(["gaps", "--draft", str(drafts)]) == 0
    capsys.readouterr()
    [path] = list(drafts.glob("*.md"))
    text = path.read_text(encoding="utf-8")
    with pytest.raises(KnowledgeError) as refused:
        parse_entry(path)
    line = text.splitlines().index(DRAFT_PLACEHOLDER) + 1
    assert str(refused.value).startswith(f"{path}:{line}: this is a draft")

    # Copied into a knowledge folder unedited, the whole load stops (file:line) - it is never served.
    knowledge = data_dir / "knowledge"
    shutil.copytree(Settings().knowledge_dir, knowledge)
    shutil.copy(path, knowledge / path.name)
    with pytest.raises(KnowledgeError, match=r":\d+: this is a draft"):
        load_entries(knowledge)

    # A TA writes the answer: accepted, with the students' own phrasings as aliases.
    (knowledge / path.name).write_text(text.replace(DRAFT_PLACEHOLDER, "At test time dropout is switched off; "
                                                    "inverted dropout already scaled the activations in training."),
                                       encoding="utf-8")
    entry = {e.id: e for e in load_entries(knowledge)}[path.stem]
    assert entry.question in [*DROPOUT, tricky] and entry.claims == ()
    assert sorted([entry.question, *entry.aliases]) == sorted([*DROPOUT, tricky])
    assert entry.answer.startswith("At test time dropout is switched off")
