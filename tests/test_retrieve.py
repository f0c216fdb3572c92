from collections import defaultdict

from langchain_core.documents import Document

from bot.search.langchain_views import EntryRetriever
from bot.search.retrieve import LEXICAL_WEIGHT, Calibration, coverage, rank_score
from tests.conftest import load_jsonl


def test_rank_score_coverage_and_confidence_arithmetic() -> None:
    assert rank_score(0.5, 0.25, 1.0) == 0.75 + LEXICAL_WEIGHT
    assert rank_score(0.5, 0.25, 0.0) == 0.75
    assert coverage({"kl", "diverg", "symmetr"}, {"kl", "diverg"}) == 2 / 5
    assert coverage({"revers", "one"}, {"revers", "one", "kl"}) == 2 / 4
    assert coverage(set(), {"kl"}) == 0.0
    calibration = Calibration(w_focus=2.0, w_post=1.0, w_coverage=4.0, bias=-3.0)
    assert calibration.confidence(1.0, 1.0, 0.0) == 0.5  # 2 + 1 + 0 - 3 = 0
    assert calibration.confidence(1.0, 1.0, 0.5) > calibration.confidence(1.0, 0.5, 0.5)


def test_every_entry_is_found_first_from_student_paraphrases(tabot) -> None:
    """Held-out paraphrases (eval/datasets/in_scope.jsonl, none of them an alias)."""
    aliases = {a.lower() for e in tabot.entries.values() for a in e.aliases}
    firsts: dict[str, int] = defaultdict(int)
    for row in load_jsonl("in_scope.jsonl"):
        assert row["question"].lower() not in aliases
        if len(row["expected"]) == 1 and tabot.retriever.search(row["question"])[0].entry_id == row["expected"][0]:
            firsts[row["expected"][0]] += 1
    assert {entry_id: n for entry_id, n in firsts.items() if n >= 3}.keys() == tabot.entries.keys(), firsts


def test_kl_question_puts_kl_asymmetry_first_with_high_confidence(tabot) -> None:
    hits = tabot.retriever.search("why is KL divergence not symmetric")
    assert hits[0].entry_id == "kl-asymmetry"
    assert hits[0].confidence >= tabot.retriever.calibration.threshold > hits[1].confidence


def test_out_of_scope_questions_fall_below_the_threshold(tabot) -> None:
    threshold = tabot.retriever.calibration.threshold
    for question in ["how does batch normalization work", "what does dropout do during training",
                     "how long should I knead pizza dough"]:
        assert tabot.retriever.search(question)[0].confidence < threshold, question


def test_langchain_retriever_interface_returns_entry_documents(tabot) -> None:
    question = "is cross entropy the same as negative log likelihood"
    documents = EntryRetriever(engine=tabot.retriever).invoke(question)
    assert [d.metadata["entry_id"] for d in documents] == [hit.entry_id for hit in tabot.retriever.search(question)]
    assert all(isinstance(d, Document) for d in documents)
    assert documents[0].metadata["entry_id"] == "nll-vs-cross-entropy"
    assert documents[0].page_content == tabot.entries["nll-vs-cross-entropy"].answer
