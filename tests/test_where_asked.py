"""What says where a question comes from (the framework, the part of the course) is read aside
(`bot.search.reading.where_asked`)."""

from __future__ import annotations

import pytest

from bot.search.reading.focus import read_post
from bot.search.reading.where_asked import set_aside_where, tools_named, without_where


@pytest.mark.parametrize(("typed", "read", "named"), [
    ("what log base is the NLL loss using in pytorch?", "what log base is the NLL loss using?", ("in pytorch",)),
    ("In PyTorch, why does NLLLoss take log-probabilities?", "why does NLLLoss take log-probabilities?",
     ("In PyTorch",)),
    ("Does PyTorch's CrossEntropyLoss apply softmax?", "Does CrossEntropyLoss apply softmax?", ("PyTorch's",)),
    ("Does PyTorch’s NLLLoss take log-probabilities?", "Does NLLLoss take log-probabilities?", ("PyTorch’s",)),
    ("what does the softmax mean in the PyTorch docs?", "what does the softmax mean?", ("in the PyTorch docs",)),
    ("Is KL divergence symmetric (scipy)?", "Is KL divergence symmetric?", ("(scipy)",)),
    ("Why softmax over sigmoid using the Keras library?", "Why softmax over sigmoid?", ("using the Keras library",)),
    ("Is Adam second order in TensorFlow 2.x and PyTorch 2.1?", "Is Adam second order and?",
     ("in TensorFlow 2.x", "PyTorch 2.1")),
])
def test_a_tool_name_is_set_aside_with_what_attaches_it(typed: str, read: str, named: tuple[str, ...]) -> None:
    assert without_where(typed) == (read, named)


@pytest.mark.parametrize(("typed", "read", "named"), [
    ("what log base is the NLL loss using in lecture 5?", "what log base is the NLL loss using?", ("in lecture 5",)),
    ("In HW2, why does NLLLoss take log-probabilities?", "why does NLLLoss take log-probabilities?", ("In HW2",)),
    ("for hw 2, q4b: do I use sigmoid?", "do I use sigmoid?", ("for hw 2, q4b",)),
    ("Why is KL not symmetric (see lecture 7)?", "Why is KL not symmetric?", ("(see lecture 7)",)),
    ("From the week 3 slides: why softmax?", "why softmax?", ("From the week 3 slides",)),
    ("Is Adam second order, as said in today's lecture?", "Is Adam second order, as said?", ("in today's lecture",)),
    ("In today’s lecture, why ln?", "why ln?", ("In today’s lecture",)),
    ("in the 2nd homework, is BFS order fine?", "is BFS order fine?", ("in the 2nd homework",)),
    # Unnumbered, it ends where a setting phrase does: before punctuation, a parenthesis, a function word.
    ("My net scores lower than I expected for the assignment (around 60%). Why?",
     "My net scores lower than I expected (around 60%). Why?", ("for the assignment",)),
])
def test_a_part_of_the_course_is_set_aside_with_its_number(typed: str, read: str, named: tuple[str, ...]) -> None:
    assert without_where(typed) == (read, named)


@pytest.mark.parametrize(("typed", "read", "named"), [
    ("what log base is the NLL loss using in my code?", "what log base is the NLL loss using?", ("in my code",)),
    ("For my thesis I need a loss: is NLL the same as CE?", "I need a loss: is NLL the same as CE?",
     ("For my thesis",)),
    ("at work we use Adam; is it second order?", "we use Adam; is it second order?", ("at work",)),
    ("why does my MNIST classifier need a softmax?", "why does my classifier need a softmax?", ("MNIST",)),
    ("Sigmoid for multi-label on the CIFAR-10 dataset?", "Sigmoid for multi-label?", ("on the CIFAR-10 dataset",)),
    ("is KL symmetric, according to the docs?", "is KL symmetric?", ("according to the docs",)),
    ("I read on Stack Overflow that Adam is second order, is it?", "I read that Adam is second order, is it?",
     ("on Stack Overflow",)),
    ("In the paper, the authors use KL(q||p). Why?", "the authors use KL(q||p). Why?", ("In the paper",)),
    ("Why is KL asymmetric (sorry if this is basic)?", "Why is KL asymmetric?", ("(sorry if this is basic)",)),
    ("As someone new to deep learning, why softmax?", "why softmax?", ("As someone new to deep learning",)),
    ("Noob question: why softmax?", "why softmax?", ("Noob question",)),
    # A dataset that goes on into a noun phrase: only its name is read aside.
    ("In the IMDB example the last layer is a sigmoid. Why?", "In the example the last layer is a sigmoid. Why?",
     ("IMDB",)),
])
def test_the_students_own_setting_is_set_aside(typed: str, read: str, named: tuple[str, ...]) -> None:
    assert without_where(typed) == (read, named)


@pytest.mark.parametrize("typed", [
    "why does torch.nn.NLLLoss return negative values?",  # code: what the call names is asked about
    "is tf.keras.losses.KLDivergence symmetric?",
    "does pytorch_lightning change the backward order?",
    "is Adam in pytorch-lightning second order?",
    "do jaxions and torches count as tools?",  # words that only begin with a name
    "why is the sigmoid output for class 0 so low?",  # a label's class, not a class meeting
    "should I use a sigmoid on the final layer?",  # a part's name starting a noun phrase
    "how do I detect objects in the video frames?",
    "what does section 3.2 of the Adam paper mean by bias correction?",  # a paper's section
    "what is the derivative of the softmax function?",
    "in my implementation of the softmax derivative, why is there a -1?",  # what the setting is *of* is asked
    "should I use a sigmoid for a student project?",  # a setting that goes on with a content word
    "why is it called online learning?",
    "what does the paper's notation for KL mean?",
    "I derived the softmax gradient on paper. Is it right?",  # by hand, not a source
    "how does the Adam paper define bias correction?",  # a named paper: what it is about is asked
    "how do I use an imagenet-pretrained cnn on grayscale images?",
])
def test_code_and_other_words_are_left_as_typed(typed: str) -> None:
    assert without_where(typed) == (typed, ())


def test_the_post_is_read_without_them_and_its_text_is_kept() -> None:
    text = ("NLL loss base\n\nHi, for HW2 I compute the loss in PyTorch and my notes use ln. "
            "What log base does PyTorch's NLL loss use?")
    post = set_aside_where(read_post(text))
    assert post.text == text
    assert post.set_aside == ("for HW2", "in PyTorch", "PyTorch's")
    assert "PyTorch" not in post.prose + post.focus + " ".join(post.questions)
    assert post.focus == "What log base does NLL loss use?"
    assert post.focus in post.prose  # the focus is still read inside its prose (`bot.search.in_context`)


@pytest.mark.parametrize("question", ["PyTorch or TensorFlow?", "what is on the midterm?"])
def test_a_post_that_asks_about_nothing_else_keeps_them(question: str) -> None:
    post = read_post(question)
    assert set_aside_where(post) == post


@pytest.mark.parametrize("question", [
    "what log base is the NLL loss using?",
    "why is the KL divergence not symmetric?",
    "should I use sigmoid or softmax for binary classification?",
])
@pytest.mark.parametrize("where", ["in PyTorch", "with Keras", "in TensorFlow 2", "in lecture 5", "for HW2"])
def test_naming_where_a_question_comes_from_does_not_change_the_answer(tabot, question: str, where: str) -> None:
    plain = tabot.ask(question)
    named = tabot.ask(question.removesuffix("?") + f" {where}?")
    assert not plain.abstained
    assert named.entry_ids == plain.entry_ids
    assert named.sources[0].score == pytest.approx(plain.sources[0].score, abs=1e-6)


def test_the_tools_among_what_was_read_aside_are_named_once() -> None:
    assert tools_named(("in PyTorch 2.1", "for HW2", "PyTorch's", "using the Keras library")) == ("PyTorch", "Keras")
    assert tools_named(("in lecture 5", "from the week 3 slides")) == ()


def test_an_answer_to_a_question_naming_a_framework_says_it_answers_the_idea(tabot) -> None:
    named = tabot.ask("In PyTorch, what log base is the NLL loss using? (for HW2)")
    assert not named.abstained
    assert "I answered the idea; the TA answers say nothing specific to PyTorch." in named.notices
    for question in ("what log base is the NLL loss using?", "what log base is the NLL loss using in lecture 5?"):
        assert not any("specific to" in notice for notice in tabot.ask(question).notices)
