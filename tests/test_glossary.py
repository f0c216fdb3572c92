"""A post written in Chinese is read through the course's glossary (bot/search/reading/glossary.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.search.reading.glossary import GLOSSARY_FILE, Glossary, mostly_other_script

SMALL = {"交叉熵": "cross-entropy", "交叉熵损失": "cross-entropy loss", "负对数似然": "negative log-likelihood",
         "为什么": "why", "一样": "same", "吗": "?", "以2为底": "base 2", "对数": "log", "KL散度": "kl divergence"}


def test_terms_are_read_longest_first_and_unknown_chinese_is_dropped() -> None:
    glossary = Glossary(SMALL)
    assert glossary.english_reading("为什么交叉熵损失和负对数似然是一样的？") == (
        "why cross-entropy loss negative log-likelihood same?")
    # Terms holding a digit or a Latin letter are read where they stand; English and code stay as typed.
    assert glossary.english_reading("为什么用以2为底的对数？KL散度呢") == "why base 2 log? kl divergence"
    assert glossary.english_reading("老师好，\n我的 `F.cross_entropy(x, y)` 和交叉熵一样吗？") == (
        "\n`F.cross_entropy(x, y)` cross-entropy same??")


@pytest.mark.parametrize("text", [
    "Why is cross-entropy the same as NLL?",
    "My teammate 张伟 says KL divergence is symmetric, is that right?",  # an English post with a Chinese name
    "二分类时 sigmoid 和 softmax 等价, as my notes say: is that exactly true after training a real network, or only "
    "on paper? I want to be sure before I write it in my report.",
])
def test_a_post_written_mostly_in_english_is_read_as_it_is(text: str) -> None:
    assert Glossary(SMALL).english_reading(text) is None


def test_the_script_share_counts_chinese_characters_as_half_words() -> None:
    assert mostly_other_script("为什么交叉熵要用自然对数？")
    assert not mostly_other_script("σ'(x) = σ(x)(1 − σ(x)), so why is the gradient of θ vanishing?")
    assert not mostly_other_script("why is the loss NaN")


def test_the_shipped_glossary_is_a_clean_dictionary() -> None:
    lines = GLOSSARY_FILE.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "zh\ten"
    pairs = [line.split("\t") for line in lines[1:]]
    assert all(len(pair) == 2 and all(field.strip() for field in pair) for pair in pairs)
    assert len({zh for zh, _ in pairs}) == len(pairs) >= 300
    # English as a question writes it: lower case, no alternatives or notes.
    assert all(en == en.lower() and not re.search(r"[/()\[\]]", en) for _, en in pairs)
    assert Glossary.load(Path(GLOSSARY_FILE)).pairs == dict(pairs)


@pytest.mark.parametrize(("question", "words"), [
    ("为什么KL散度不对称？", {"kl", "divergence", "asymmetric"}),
    ("反向传播的时候节点应该按什么顺序计算？", {"backpropagation", "order"}),
    ("交叉熵和负对数似然有什么区别？", {"cross-entropy", "negative", "log-likelihood", "difference"}),
])
def test_the_shipped_glossary_reads_the_courses_questions_in_english(question: str, words: set[str]) -> None:
    reading = Glossary.load().english_reading(question)
    assert reading is not None and words <= set(re.findall(r"[\w-]+", reading))
