from markdown_it import MarkdownIt

from bot.faces.cards import demo_badge, demo_checks, demo_claims, demo_verdict, format_value
from bot.faces.render import answer_markdown, answer_text, escape_user_text
from bot.schema import Answer, CheckResult, DemoAttachment, Source, Verdict
from tests.fake_tabot import KL_QUESTION, KL_TA, abstain_answer, kl_answer

# An independent CommonMark renderer with raw HTML *enabled*: if escaping failed, tags would
# come through as tags.
MD = MarkdownIt("commonmark", {"html": True}).enable("table")

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "<http://evil.example>",
    "&lt;b&gt;bold?&lt;/b&gt;",
]


def test_escaped_user_text_renders_as_the_same_text_and_no_tags():
    for attack in ATTACKS:
        html = MD.render(escape_user_text(attack))
        assert "<script" not in html and "<img" not in html and "<a " not in html and "<b>" not in html, html
        # What the reader sees is exactly what was typed.
        shown = html.removeprefix("<p>").removesuffix("</p>\n")
        shown = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        assert shown == attack


def test_escape_keeps_backslashes_and_newlines_literal():
    assert MD.render(escape_user_text("a\\[b](c)\nsecond line")) == "<p>a\\[b](c)\nsecond line</p>\n"


def test_cited_answer_has_text_sources_then_demo_card_in_that_order():
    md = answer_markdown(kl_answer("why is KL not symmetric"))
    assert md.startswith("minimising")
    i_text, i_sources, i_demos = md.index("[1]"), md.index("### Sources"), md.index("### Demos")
    assert i_text < i_sources < i_demos
    assert "`kl-asymmetry`" in md
    # the TA's original question is shown as the source
    assert "I found this gif on Twitter demonstrating KL divergence asymmetry" in md
    assert "✅ verified — 2/2 checks passed" in md
    assert "| ✅ `forward_ne_reverse` | 0.4312 | 1.202 |" in md
    assert "- `forward_ne_reverse`: KL(p||q) != KL(q||p) at the fitted q" in md
    assert "`python -m demos.kl_asymmetry`" in md
    # key numbers: short values shown, the 50-point grid left to the JSON output
    assert "| `mu_reverse` | 2.987 |" in md
    assert "`grid`" not in md
    assert "<details>" not in md  # only the browser asks for expandable panels


def test_expandable_sources_carry_the_full_ta_text():
    md = answer_markdown(kl_answer("q"), expandable=True)
    assert "<details><summary>Full TA answer</summary>" in md
    assert KL_TA in md
    assert "<details><summary>What each check compares</summary>" in md
    html = MD.render(md)
    assert "<details>" in html and "<table>" in html


def test_source_question_is_escaped_because_it_was_written_by_a_student():
    answer = kl_answer("q")
    answer.sources = [Source("kl-asymmetry", "what about <img src=x onerror=alert(1)>?", 0.9, KL_TA)]
    answer.notices = ["<script>alert(2)</script>"]
    html = MD.render(answer_markdown(answer))
    assert "<img" not in html and "<script" not in html


def test_failed_and_unverified_demos_never_show_a_pass():
    failed = kl_answer("q", passed=False)
    md = answer_markdown(failed)
    assert "❌ failed — 1/2 checks passed" in md
    assert "| ❌ `reverse_is_mode_seeking` |" in md
    assert "✅ verified" not in md
    unverified = DemoAttachment("kl_asymmetry", "claim", "kl-asymmetry", Verdict.NOT_VERIFIED, "source changed")
    assert demo_badge(unverified) == "⚠️ not verified: source changed"
    no_checks = DemoAttachment("x", "claim", "e", Verdict.PASSED)
    assert demo_badge(no_checks) == "✅ verified"


def test_table_cells_cannot_break_out_of_their_row():
    demo = DemoAttachment("d", "c", "e", Verdict.PASSED, checks=(CheckResult("a|b", True, "", 1.0, "x\ny|z"),))
    answer = Answer("q", "text [1].", False, sources=[Source("e", "Q", 1.0)], demos=[demo])
    row = [line for line in answer_markdown(answer).splitlines() if "a\\|b" in line]
    assert row == ["| ✅ `a\\|b` | 1 | x y\\|z |"]


def test_abstention_lists_nearest_topics_and_the_forum_and_no_sources():
    md = answer_markdown(abstain_answer("what is a transformer"))
    assert md.startswith("I don't have a TA answer")
    assert "**Closest topics I can answer:**" in md
    assert KL_QUESTION.replace("[...]", "\\[...\\]") in md
    assert "(`log-base`)" in md
    assert md.count("course forum") == 1
    assert "### Sources" not in md and "### Demos" not in md


def test_notices_are_shown():
    answer = kl_answer("q")
    answer.notices = ["Your question was cut to 2000 characters."]
    assert "> ℹ️ Your question was cut to 2000 characters." in answer_markdown(answer)


def test_answer_text_is_plain_for_a_terminal():
    text = answer_text(kl_answer("q"))
    assert "|---" not in text and "<details>" not in text and "###" not in text
    assert "Sources:\n  [1] I found this gif" in text
    assert "(kl-asymmetry, score 0.91)" in text
    assert "Demo kl_asymmetry: PASS" in text
    assert "  [ok] forward_ne_reverse: 0.4312 (reference 1.202)" in text
    assert "  run: python -m demos.kl_asymmetry" in text
    failed = answer_text(kl_answer("q", passed=False))
    assert "Demo kl_asymmetry: FAIL" in failed and "[FAIL] reverse_is_mode_seeking" in failed


def test_answer_text_abstention():
    text = answer_text(abstain_answer("q"))
    assert "Closest topics I can answer:" in text and "(log-base)" in text and "course forum" in text
    assert "Sources:" not in text


def test_format_value():
    assert format_value(0.123456789) == "0.1235"
    assert format_value(3) == "3"
    assert format_value(True) == "yes"
    assert format_value(None) == "—"
    assert format_value(float("nan")) == "nan"
    assert format_value([1.0, 2.0, 3.0, 4.0, 5.0]) == "[1, 2, 3, 4, …]"
    assert format_value({"a": 0.5}) == "a=0.5"
    assert format_value("x" * 100).endswith("…") and len(format_value("x" * 100)) == 58


def test_one_demo_backing_several_claims_is_one_card_with_each_check_once():
    shared = CheckResult("shared", True, "", 1.0, 1.0)
    a = DemoAttachment("d", "first claim", "e", Verdict.PASSED, checks=(shared, CheckResult("a", True)))
    b = DemoAttachment("d", "second claim", "e", Verdict.PASSED, checks=(shared, CheckResult("b", True)))
    answer = Answer("q", "text [1].", False, sources=[Source("e", "Q", 1.0)], demos=[a, b])
    md = answer_markdown(answer)
    assert md.count("#### Demo `d`") == 1
    assert "✅ verified — 3/3 checks passed" in md
    assert "- first claim\n- second claim" in md
    assert md.count("`shared`") == 1
    # if the checks behind one claim failed, the whole card is not shown as verified
    b_failed = DemoAttachment("d", "second claim", "e", Verdict.FAILED, checks=(shared, CheckResult("b", False)))
    answer.demos = [a, b_failed]
    md = answer_markdown(answer)
    assert "❌ failed — 2/3 checks passed" in md and "✅ verified" not in md
    text = answer_text(answer)
    assert "Demo d: FAIL" in text and text.count("[ok] shared") == 1 and "  backs: second claim" in text


def test_a_check_that_failed_for_any_claim_is_shown_failed_whatever_the_order():
    passed = CheckResult("shared", True, "", 0.0, 0.0)
    failed = CheckResult("shared", False, "off by 0.5", 0.5, 0.0)
    a = DemoAttachment("d", "first claim", "e", Verdict.PASSED, checks=(passed, CheckResult("a", True)))
    b = DemoAttachment("d", "second claim", "e", Verdict.FAILED, checks=(failed,))
    for group in [(a, b), (b, a)]:
        assert [(c.name, c.passed, c.detail) for c in demo_checks(group)] == [("shared", False, "off by 0.5"),
                                                                              ("a", True, "")]
        assert demo_verdict(group) == "failed"
        assert demo_badge(group) == "❌ failed — 1/2 checks passed"
    assert demo_claims((a, b, a)) == ["first claim", "second claim"]


def test_a_group_with_any_unverified_run_is_not_verified():
    failed = DemoAttachment("d", "one", "e", Verdict.FAILED, checks=(CheckResult("c", False),))
    stale = DemoAttachment("d", "two", "e", Verdict.NOT_VERIFIED, "source changed")
    ok = DemoAttachment("d", "three", "e", Verdict.PASSED, checks=(CheckResult("c", True),))
    assert demo_verdict((ok,)) == "passed"
    assert demo_verdict((ok, failed)) == "failed"
    assert demo_verdict((failed, stale)) == demo_verdict((ok, stale)) == "not verified"
    assert demo_badge((ok, stale)) == "⚠️ not verified: source changed"
    assert "Demo d: NOT VERIFIED" in answer_text(Answer("q", "t", False, demos=[ok, stale]))
