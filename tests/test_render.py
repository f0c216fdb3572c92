from dataclasses import replace

from markdown_it import MarkdownIt

from bot.faces.cards import answer_body, demo_badge, demo_checks, demo_claims, demo_verdict, format_value, headline
from bot.faces.render import (
    DemoLinks,
    abstention_markdown,
    answer_markdown,
    answer_text,
    echo_html,
    escape_user_text,
    nowrap_numbers,
    value_html,
)
from bot.schema import Answer, CheckResult, DemoAttachment, Source, Verdict
from tests.fake_tabot import KL_QUESTION, KL_TA, LOG_QUESTION, abstain_answer, kl_answer

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


def test_echo_shows_exactly_what_was_typed_and_renders_no_markdown_html_or_maths():
    typed = ("# big\n| a | b |\n|---|---|\n\n$$x^2$$ and \\(y\\) http://evil.example www.x.com *em* __u__\n"
             "- item\n> quote\n    indented\n```\ncode\n```\n</pre><script>alert(1)</script>")
    html = MD.render(echo_html(typed))
    assert html.startswith('<pre class="tabot-echo">') and html.rstrip().endswith("</pre>")
    for tag in ("<h1", "<table", "<a ", "<em", "<strong", "<li", "<blockquote", "<code", "<script"):
        assert tag not in html, tag
    inner = html.strip().removeprefix('<pre class="tabot-echo">').removesuffix("</pre>")
    assert inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == typed
    # `pre` is one of the tags the chat's LaTeX typesetter (KaTeX auto-render) skips: $$ stays text
    assert "$$x^2$$" in inner


def test_cited_answer_has_text_sources_then_demo_card_in_that_order():
    md = answer_markdown(kl_answer("why is KL not symmetric"))
    assert md.startswith("minimising")
    i_source, i_demo = md.index('class="tabot-source"'), md.index('class="tabot-demo')
    assert 0 < i_source < i_demo
    assert "<code>kl-asymmetry</code>" in md
    # the TA's original question is the source's footnote line
    assert "<summary>I found this gif on Twitter demonstrating KL divergence asymmetry" in md
    assert KL_TA in md  # the full TA answer, in the fold-out
    html = MD.render(md)
    assert "<details" in html and "<table" in html and "<summary>" in html


def test_citation_markers_only_when_more_than_one_ta_answer_is_cited():
    one = kl_answer("q")
    assert "[1]" in one.answer
    assert answer_body(one).endswith("different curves.") and "[1]" not in answer_markdown(one)
    two = kl_answer("q")
    two.answer = "First sentence. [1] Second sentence. [2]"
    two.sources.append(Source("log-base", LOG_QUESTION, 0.5, "The base does not matter."))
    md = answer_markdown(two)
    assert md.startswith("First sentence. [1] Second sentence. [2]")
    assert '<span class="tabot-fn">[1]</span>' in md and '<span class="tabot-fn">[2]</span>' in md
    assert "Sources ·" in md


def test_source_line_is_short_and_the_fold_out_has_the_whole_question_and_answer():
    answer = kl_answer("q")
    long_question = "why " * 60 + "is that?"
    answer.sources = [Source("kl-asymmetry", long_question, 0.9, KL_TA)]
    source = answer_markdown(answer).split('<details class="tabot-source">')[1]
    summary = source[source.index("<summary>") + 9:source.index("</summary>")]
    assert len(summary) <= 110 and summary.endswith("…")
    assert long_question.strip() in source and KL_TA in source


def test_each_demo_is_one_line_that_opens_to_its_checks():
    md = answer_markdown(kl_answer("q"))
    demo = md[md.index('<details class="tabot-demo'):]
    summary = demo[demo.index("<summary>") + 9:demo.index("</summary>")]
    assert summary.startswith('<span class="tabot-icon">✅</span> <b>kl_asymmetry</b> · 2/2 checks · ')
    # the most telling number: the first check, with its reference
    assert 'forward_ne_reverse <span class="n">0.4312</span> vs <span class="n">1.202</span>' in summary
    assert "\n\n" not in demo  # one HTML block: Markdown never runs inside it
    body = demo[demo.index("</summary>"):]
    assert '✅ <code>forward_ne_reverse</code></td><td class="tabot-val"><span class="tabot-lbl">Value </span>' \
           '<span class="n">0.4312</span>' in body
    assert "<li><code>forward_ne_reverse</code>: KL(p||q) != KL(q||p) at the fitted q</li>" in body
    assert "<code>mu_reverse</code>" in body and '<span class="n">2.987</span>' in body
    # the 50-point grid is shortened, its full value one click away
    grid = body[body.index("<code>grid</code>"):]
    assert '<details class="tabot-vec"><summary title="all 50 values">' in grid
    assert grid.count('<span class="n">') >= 50
    # without published files the card says where the code lives
    assert "<code>python -m demos.kl_asymmetry</code> in the course repository" in body


def test_published_plot_and_script_are_linked_with_alt_text_and_a_download():
    links = {"kl_asymmetry": DemoLinks(plot="gradio_api/file=/p/kl.png", script="gradio_api/file=/p/kl_asymmetry.py",
                                       notebook="gradio_api/file=/p/kl_asymmetry.ipynb")}
    md = answer_markdown(kl_answer("q"), links)
    assert '<img class="tabot-plot" src="gradio_api/file=/p/kl.png" alt="Plot drawn by demo kl_asymmetry, ' \
           'which checks that minimising KL(p||q) and minimising KL(q||p) will give us different curves"' in md
    assert '<a class="tabot-download" href="gradio_api/file=/p/kl_asymmetry.py" download="kl_asymmetry.py">' in md
    assert 'download="kl_asymmetry.ipynb"' in md and "python -m demos" not in md
    html = MD.render(md)
    assert html.count("<img") == 1 and 'download="kl_asymmetry.py"' in html


def test_numbers_are_never_split_and_vectors_are_shortened():
    assert nowrap_numbers("1.333e-15 vs -0.5") == '<span class="n">1.333e-15</span> vs <span class="n">-0.5</span>'
    assert nowrap_numbers("information, banana") == "information, banana"
    assert value_html(1 / 3) == '<span class="n">0.3333</span>'
    assert value_html([0.0060551, 0.0781]) == '[<span class="n">0.006055</span>, <span class="n">0.0781</span>]'
    assert value_html({"mean": 0.0, "std": 3.1048}) == '<span class="n">mean=0</span>, <span class="n">std=3.105</span>'
    long = value_html(list(range(300)))
    shown = long[:long.index("</summary>")]
    assert shown.count('<span class="n">') == 3 and "(300)" in shown
    assert long.count('<span class="n">') == 3 + 200 and long.endswith(", …]</details>")
    assert value_html("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def test_source_question_is_escaped_because_it_was_written_by_a_student():
    answer = kl_answer("q")
    answer.sources = [Source("kl-asymmetry", "what about <img src=x onerror=alert(1)>?", 0.9, KL_TA)]
    answer.notices = ["<script>alert(2)</script>"]
    html = MD.render(answer_markdown(answer))
    assert "<img" not in html and "<script" not in html


def test_failed_and_unverified_demos_never_show_a_pass():
    failed = kl_answer("q", passed=False)
    md = answer_markdown(failed)
    assert '<span class="tabot-icon">❌</span> <b>kl_asymmetry</b> · 1/2 checks · ' in md
    # a failure is the news: the headline is the failed check
    assert 'reverse_is_mode_seeking <span class="n">0.013</span>' in md
    assert "❌ <code>reverse_is_mode_seeking</code>" in md and "✅ verified" not in md
    unverified = DemoAttachment("kl_asymmetry", "claim", "kl-asymmetry", Verdict.NOT_VERIFIED, "source changed",
                                checks=(CheckResult("c", True, "", 1.0, 1.0),))
    assert demo_badge(unverified) == "⚠️ not verified: source changed"
    md = answer_markdown(Answer("q", "t [1].", False, sources=[Source("e", "Q", 1.0)], demos=[unverified]))
    assert '⚠️</span> <b>kl_asymmetry</b> · not verified · <span class="tabot-headline">source changed</span>' in md
    assert "⚠️ <code>c</code>" in md and "✅" not in md  # a stale pass is not a pass
    no_checks = DemoAttachment("x", "claim", "e", Verdict.PASSED)
    assert demo_badge(no_checks) == "✅ verified"


def test_headline_picks_the_most_telling_check():
    ok = CheckResult("a", True, "", 1.101, 0.1)
    err = CheckResult("b", True, "", 2.2e-16, 0.0)
    bad = CheckResult("c", False, "", 0.5, 0.0)
    assert headline([ok, err]) == "a 1.101 vs 0.1"
    assert headline([err, ok]) == "b 2.2e-16"  # a reference of 0 (an error that should vanish) adds nothing
    assert headline([ok, err, bad]) == "c 0.5"  # the first failure beats the first check
    assert headline([CheckResult("d", True, "", 3.0, 3.0)]) == "d 3"
    assert headline([CheckResult("e", False)]) == "e"  # no number to show: the name says which
    assert headline([]) == ""


def test_table_cells_cannot_break_out_of_their_row():
    demo = DemoAttachment("d", "c", "e", Verdict.PASSED, checks=(CheckResult("a|b", True, "", 1.0, "x\ny|z</td>"),))
    answer = Answer("q", "text [1].", False, sources=[Source("e", "Q", 1.0)], demos=[demo])
    row = [line for line in answer_markdown(answer).splitlines() if "a|b" in line and "<table" in line]
    assert len(row) == 1
    assert '<span class="n">1</span></td>' in row[0] and "x y|z&lt;/td&gt;</td>" in row[0]


def test_abstention_lists_nearest_topics_and_the_forum_and_no_sources():
    md = answer_markdown(abstain_answer("what is a transformer"))
    assert md.startswith("I couldn't find a TA answer")
    assert "**Closest topics I can answer:**" in md
    assert KL_QUESTION.replace("[...]", "\\[...\\]") in md
    assert "- *Does the base of the log matter in cross-entropy?*" in md and "log-base" not in md  # no ids
    assert md.count("course forum") == 1
    assert "tabot-source" not in md and "tabot-demo" not in md


def test_notices_are_shown_before_what_they_qualify():
    answer = kl_answer("q")
    answer.notices = ["Your question was cut to 2000 characters."]
    md = answer_markdown(answer)
    assert md.startswith("> ℹ️ Your question was cut to 2000 characters.") and answer.answer.strip()[:40] in md
    text = answer_text(answer)
    assert text.index("note: Your question was cut") < text.index("minimising")
    declined = abstain_answer("q")
    declined.notices = ["Written mostly in another script."]
    assert abstention_markdown(declined).startswith("> ℹ️ Written mostly in another script.")


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
    assert md.count('<details class="tabot-demo') == 1
    assert "<b>d</b> · 3/3 checks" in md
    assert "<li>first claim</li><li>second claim</li>" in md
    assert md.count("<code>shared</code>") == 1
    # if the checks behind one claim failed, the whole card is not shown as verified
    b_failed = DemoAttachment("d", "second claim", "e", Verdict.FAILED, checks=(shared, CheckResult("b", False)))
    answer.demos = [a, b_failed]
    md = answer_markdown(answer)
    assert '❌</span> <b>d</b> · 2/3 checks · <span class="tabot-headline">b</span>' in md and "✅</span>" not in md
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


def test_a_declines_topics_are_the_entries_short_names_when_they_have_one():
    """The start screen names a topic by its first alias; so do a decline's list and buttons (a seed
    question can run to 60 words), while a button still asks the entry's own question."""
    answer = abstain_answer("what is a transformer")
    answer.nearest = [replace(s, title=f"short name {i}") for i, s in enumerate(answer.nearest)]
    md = answer_markdown(answer)
    assert "- *short name 0*" in md and KL_QUESTION not in md
    assert "  - short name 0 (" in answer_text(answer)
