"""What copying does to a post's characters (`eval.copy_artifacts`), and the guard that reads through the invisible
ones, the ligatures and the spaces of other widths (`bot.answering.guard.as_read`; the reader's share is in
tests/test_focus.py)."""

from __future__ import annotations

import random

import pytest

from bot.answering.guard import clean_question
from bot.faces.discord.text import as_read
from bot.search.reading.focus import read_post
from eval.copy_artifacts import (
    ARTIFACTS,
    DECLINED,
    TYPESET_WIDTH,
    WRAP_WIDTH,
    bullets,
    compare,
    discord_markup,
    katex_formulas,
    ligatures,
    mathjax_formulas,
    non_breaking_spaces,
    pdf_formulas,
    soft_hyphens,
    typeset_lines,
    wikipedia_formulas,
    wrapped_lines,
    zero_width_in_words,
    zero_width_spaces,
)
from eval.datasets import Question

# Written for this test: a context-first post with long words, "fi"/"fl"/"ff" inside words, and a quote.
POST = ("Hi all, I'm confused by the official notes on backpropagation. They say the gradient flows "
        "\"in reverse topological order\" and that a breadth-first traversal is insufficient. Is it "
        "really different? What is the difference between topological order and BFS order for backprop?")


@pytest.mark.parametrize("artifact", [soft_hyphens, zero_width_spaces, zero_width_in_words, ligatures,
                                      non_breaking_spaces])
def test_invisible_characters_ligatures_and_other_spaces_are_read_as_the_plain_text(artifact) -> None:
    copied = artifact(POST, random.Random(3))
    assert copied != POST
    assert clean_question(copied, 4000) == clean_question(POST, 4000)


def test_what_is_not_a_letter_in_another_form_stays_as_written() -> None:
    # Sub- and superscripts, Greek letters, Chinese, fullwidth punctuation and the ellipsis are read
    # by the reader's own rules (formulas, the glossary); the guard leaves them.
    text = "σ'(x)² = σ(x)(1 − σ(x)) for xᵢ … 为什么交叉熵？"
    assert clean_question(text, 4000) == (text, [])
    assert clean_question("ℓ(𝑥) with ＡＢ and deﬁne", 4000)[0] == "l(x) with AB and define"


def test_code_a_page_indented_with_no_break_spaces_stays_indented() -> None:
    # A web page's code block copied as text indents with U+00A0: it is read as the spaces it shows.
    pasted = "Why do my gradients differ?\nfor node in order:\n\u00a0\u00a0\u00a0\u00a0node.backward()"
    assert clean_question(pasted, 4000)[0] == "Why do my gradients differ?\nfor node in order:\n    node.backward()"


def test_a_message_of_only_invisible_characters_is_empty() -> None:
    from bot.errors import InputError

    with pytest.raises(InputError):
        clean_question("\u200b\u00ad\ufeff \u2060", 4000)


def test_lines_are_wrapped_between_words_within_the_width() -> None:
    long_line = " ".join(["gradient"] * 40)
    wrapped = wrapped_lines(long_line + "\nshort line", random.Random(0))
    lines = wrapped.split("\n")
    assert len(lines) > 3 and all(len(line) <= WRAP_WIDTH for line in lines)
    assert " ".join(lines) == long_line + " short line"


def test_a_typeset_page_breaks_inside_long_words_with_a_hyphen() -> None:
    text = ("Backpropagating through a computational graph requires visiting the intermediate nodes in reverse "
            "topological order, because breadth-first traversal accumulates gradients incompletely whenever "
            "intermediate representations are reused downstream.")
    lines = typeset_lines(text, random.Random(0)).split("\n")
    assert len(lines) > 3 and all(len(line) <= TYPESET_WIDTH for line in lines)
    cut = [line for line in lines if line.endswith("-") and line[-2].isalpha()]
    assert cut  # the post's long words straddle some breaks
    # Read back without the breaks and the hyphens they put in, it is the post.
    assert "".join(line[:-1] if line in cut else line + " " for line in lines).strip() == text


def test_compare_counts_changed_decisions_by_whether_they_were_right() -> None:
    questions = [Question(id="in", question="why is the softmax derivative a matrix", expected=("softmax-derivative",)),
                 Question(id="out", question="what batch size should I use", expected=())]

    def decide(text: str) -> str:  # reads a soft hyphen as a different post: answers the one, declines the other
        if "\u00ad" in text:
            return "softmax-derivative" if "batch" in text else DECLINED
        return "softmax-derivative"

    good, changes = compare(decide, questions, {"soft hyphens": lambda text, rng: text.replace("ax", "a\u00adx"),
                                                "nothing": lambda text, rng: text})
    assert good == 1
    found = changes["soft hyphens"]
    assert (found.rows, found.rewritten, found.changed, found.now_right, found.now_wrong) == (2, 1, 1, 0, 1)
    assert changes["nothing"].rewritten == 0 and changes["nothing"].changed == 0


def test_every_artifact_is_seeded() -> None:
    for artifact in ARTIFACTS.values():
        assert artifact(POST, random.Random(5)) == artifact(POST, random.Random(5))


def test_a_post_copied_from_a_pdf_and_a_page_is_answered_as_typed(tabot) -> None:
    copied = ligatures(zero_width_spaces(soft_hyphens(POST, random.Random(1)), random.Random(2)), random.Random(3))
    plain, read = tabot.ask(POST), tabot.ask(copied)
    assert not plain.abstained and plain.entry_ids[0] == "backprop-order"
    assert read.entry_ids == plain.entry_ids and read.sources[0].score == plain.sources[0].score
    assert read.asked == plain.asked and read.notices == plain.notices


@pytest.mark.parametrize("copy", [wikipedia_formulas, katex_formulas])
def test_formulas_copied_from_a_rendered_page_are_read_as_the_student_typed_them(tabot, copy) -> None:
    # Written for this test: formulas typed in LaTeX, inline and displayed.
    typed = ("Hi, the notes write the loss as $-\\sum_i \\log p_\\theta(y_i \\mid x_i)$ and later\n"
             "$$\\theta^* = \\arg\\min_\\theta -\\sum_i \\log_2 p_\\theta(y_i \\mid x_i)$$\n"
             "If I use $\\log_2$ instead of $\\ln$, does the optimal $\\theta$ change?")
    copied = copy(typed, random.Random(1))
    assert "$" not in copied
    plain, read = read_post(typed), read_post(copied)
    # The copy does not tell a displayed formula from an inline one: both read as inline.
    assert (read.focus, read.prose) == (plain.focus.replace("$$", "$"), plain.prose.replace("$$", "$"))
    answered, plain_answer = tabot.ask(copied), tabot.ask(typed)
    assert answered.entry_ids == plain_answer.entry_ids == ["log-base"]
    # Read as copied, each formula was read two or three times (from Wikipedia: 0.96 against 0.77).
    assert abs(answered.sources[0].score - plain_answer.sources[0].score) < 0.05


def test_a_mathjax_page_copies_a_formula_as_its_symbols_twice() -> None:
    typed = r"Is $D(q\|p) = \sum_x q(x)\log\frac{q(x)}{p(x)}$ mode-seeking?"
    assert mathjax_formulas(typed, random.Random(1)) == "Is " + 2 * "D(q∥p)=∑xq(x)logq(x)p(x)" + " mode-seeking?"


def test_a_katex_page_copies_a_formula_three_times() -> None:
    assert katex_formulas(r"Is $D(q\|p)$ mode-seeking?", random.Random(1)) == r"Is D(q∥p) D(q\|p) D(q∥p) mode-seeking?"
    assert wikipedia_formulas(r"Is $$D(q\|p)$$ mode-seeking?", random.Random(1)) == (
        r"Is {\displaystyle D(q\|p)} mode-seeking?")


def test_a_pdf_copies_a_formula_glyph_by_glyph_and_lists_copy_with_bullets() -> None:
    assert pdf_formulas(r"so $E = -\sum_j t_j \log o_j$?", random.Random(1)) == "so E = − ∑ j t j log o j?"
    assert bullets("Two things:\n- the loss\n  - its base\n* the gradient", random.Random(1)) == (
        "Two things:\n• the loss\n  ◦ its base\n• the gradient")


def test_discord_markup_is_what_the_discord_front_end_reads_away() -> None:
    marked = discord_markup(POST, random.Random(3))
    assert marked.count("<") >= 2 and marked != POST
    assert " ".join(as_read(marked).split()) == " ".join(POST.split())
