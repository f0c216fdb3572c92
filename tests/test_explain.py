"""`tabot ask --why`: the explanation reads the same model and retriever the answer does."""

import json
import math

import numpy as np
import pytest

from bot.faces.cli import main
from bot.question_log import QuestionLog
from bot.search.near_misses import NearMisses
from bot.search.retrieve import sigmoid

POSTS = [
    "why is KL divergence not symmetric",
    "is adagrad a momentum method or not?",
    "what's the difference between batch norm and layer norm?",
    "what is the capital of France?",
    "Hi all, I'm on assignment 2 and training my CNN on round microscope images. After normalising, the black "
    "corners outside the circle turn into a big negative value. Should I fill those corners with something else "
    "before the convolution layers see them?",
    "my nll loss went negative during training, how is that possible",
]


@pytest.mark.parametrize("question", POSTS)
def test_the_verdict_is_the_answer_s_and_the_pulls_add_up_to_the_confidence(tabot, question: str) -> None:
    explanation = tabot.explain(question)
    answer = tabot.ask(question)
    assert explanation.answered is (not answer.abstained)
    if not answer.abstained:
        assert explanation.candidates[0].entry_id == answer.sources[0].entry_id
        assert explanation.candidates[0].confidence == pytest.approx(answer.sources[0].score, abs=1e-4)
    confidences = [c.confidence for c in explanation.candidates]
    assert confidences == sorted(confidences, reverse=True)
    for candidate in explanation.candidates:
        log_odds = sum(p.pull for p in candidate.pulls) + candidate.bias
        assert sigmoid(log_odds) == pytest.approx(candidate.confidence, abs=1e-9)


def test_the_agreements_listed_are_the_ones_the_near_miss_feature_averages(tabot) -> None:
    # A listed near miss asked as it is: the near miss side of the feature is that text's own words.
    explanation = tabot.explain("my nll loss went negative during training, how is that possible")
    near = [f1 for _, _, f1 in explanation.agreeing_near_misses]
    assert explanation.agreeing_near_misses[0][0] == "my nll loss went negative during training, how is that possible"
    assert near == sorted(near, reverse=True) and near[0] == pytest.approx(1.0, abs=0.01)
    for candidate in explanation.candidates:
        own = [f1 for _, f1 in candidate.agreeing_questions]
        feature = next(p.value for p in candidate.pulls if p.feature == "near_miss_words")
        assert feature == pytest.approx(np.mean(near) - np.mean(own), abs=1e-6)


def test_what_was_read_aside_is_shown(tabot) -> None:
    explanation = tabot.explain("For HW2: what log base is the NLL loss using in PyTorch?")
    assert explanation.set_aside == ("For HW2", "in PyTorch")
    assert explanation.focus == "what log base is the NLL loss using?"
    assert "Read aside, as where the question comes from: “For HW2”; “in PyTorch”" in explanation.text()
    assert explanation.to_json()["set_aside"] == ["For HW2", "in PyTorch"]
    assert tabot.explain("what log base is the NLL loss using?").set_aside == ()


def test_small_talk_is_said_to_be_small_talk(tabot) -> None:
    explanation = tabot.explain("thanks!")
    assert explanation.small_talk == "thanks" and not explanation.answered and not explanation.candidates
    assert "small talk" in explanation.text()


def test_near_misses_agreeing_best_first_and_their_mean_is_the_agreement() -> None:
    unit = np.eye(4, dtype=np.float32)
    near = NearMisses(texts=("a", "b", "c", "empty"), vectors=np.eye(4, dtype=np.float32)[[0, 1, 2, 3]],
                      pieces=(unit[[0, 1]], unit[[0]], unit[[2, 3]], unit[:0]))
    question = unit[[0, 1]]
    listed = near.agreeing(np.full(4, 0.5, dtype=np.float32), question, count=2)
    assert [text for text, _ in listed] == ["a", "b"]  # "c" shares nothing, "empty" has no pieces
    assert listed[0][1] == pytest.approx(1.0) and listed[1][1] == pytest.approx(2 / 3)
    assert near.agreement(np.full(4, 0.5, dtype=np.float32), question) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_cli_why_prints_the_explanation_and_logs_nothing(session_settings, monkeypatch, tabot, capsys) -> None:
    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    log = QuestionLog.from_settings(session_settings)
    assert log is not None  # questions are logged by default: an answer would add a row
    before = len(log.rows())
    assert main(["ask", "--why", "--json", "is adagrad a momentum method or not?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answered"] is True and out["candidates"][0]["entry_id"] == "adaptive-optimizers"
    assert set(out["candidates"][0]["features"]) == {"focus", "post", "coverage", "meaning_focus", "meaning_post",
                                                     "background", "near_miss", "near_miss_words"}
    assert not math.isnan(out["threshold"])
    assert main(["ask", "--why", "is adagrad a momentum method or not?"]) == 0
    text = capsys.readouterr().out
    assert "Answered from adaptive-optimizers" in text and "(bias)" in text
    assert len(log.rows()) == before


def test_cli_why_with_a_batch_is_a_one_line_error(session_settings, monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": 1, "question": "why is kl not symmetric"}\n')
    assert main(["ask", "--why", "--json", "--batch", str(batch)]) == 2
    assert "--why" in capsys.readouterr().err
