"""Either embedding backend gives the same answers: the bot on ONNX Runtime and the bot on
sentence-transformers (torch) answer or decline alike, from the same entries, with the same TA
sentences. Here on every third question of every eval set (a fixed slice, to keep the suite's time);
`python -m eval.bench` checks every question of every set through `tabot ask --batch`."""

from pathlib import Path

import pytest

from bot import service
from bot.config import Settings
from bot.schema import Answer
from bot.search.embeddings import MiniLM
from tests.test_embeddings import eval_questions


def started(settings: Settings) -> service.Tabot:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service, "shared_model", MiniLM)  # its own encoder, taking the backend of `settings`
        bot = service.Tabot.start(settings)
    assert bot.index.model.backend == settings.embed_backend and bot.index.model.notice is None
    return bot


def what_it_says(answer: Answer) -> tuple:
    return (answer.abstained, [s.entry_id for s in answer.sources], [(s.entry_id, s.text) for s in answer.sentences])


@pytest.mark.slow
def test_both_backends_give_identical_answers_on_every_eval_set(tmp_path: Path) -> None:
    # One data dir (demo results cached once), one Chroma collection per backend.
    onnx = started(Settings(data_dir=tmp_path, collection="agree_onnx", embed_backend="onnx"))
    torch = started(Settings(data_dir=tmp_path, collection="agree_torch", embed_backend="torch"))
    questions = eval_questions()[::3]
    differ = [q for q in questions if what_it_says(onnx.ask(q)) != what_it_says(torch.ask(q))]
    assert differ == [], f"{len(differ)} of {len(questions)} questions answered differently, e.g. {differ[:3]}"
    assert sum(not onnx.ask(q).abstained for q in questions[:40]) > 0  # the comparison covers real answers
