"""The chat handlers as plain functions, against the hand-written fake service."""

import gradio as gr
import pytest
from markdown_it import MarkdownIt

from bot.answering.guard import EMPTY_MESSAGE
from bot.config import Settings
from bot.conversation import FAILURE_TEXT, NOT_RATABLE
from bot.faces.web import ECHO_CHARS, WebChat, build_app
from bot.feedback import FeedbackStore
from tests.fake_tabot import FakeTabot, kl_answer, tiny_png

MD = MarkdownIt("commonmark", {"html": True}).enable("table")


@pytest.fixture
def chat(tmp_path):
    settings = Settings(data_dir=tmp_path, demos_dir=tmp_path / "staff_demos")
    plot = tiny_png(tmp_path / "demos" / "kl_fits.png")
    return WebChat(FakeTabot(plot_path=plot, settings=settings), FeedbackStore(settings.feedback_db))


def text_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else content[0]


def like(index: int, liked: bool | str) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": [], "liked": liked})


def test_cited_answer_with_demo_plot_and_demo_picker(chat, tmp_path):
    history, state, box, picker = chat.respond("why is KL divergence not symmetric", [], None)
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "why is KL divergence not symmetric"
    reply = history[1]["content"]
    assert "[1]" in reply[0] and "### Sources" in reply[0] and "`kl-asymmetry`" in reply[0]
    assert "✅ verified" in reply[0]
    assert "<details><summary>Full TA answer</summary>" in reply[0]  # full TA text, expandable
    assert reply[1]["path"] == str(tmp_path / "demos" / "kl_fits.png")
    assert picker["choices"] == ["kl_asymmetry"] and picker["value"] == "kl_asymmetry"
    assert state.previous.entry_ids == ["kl-asymmetry"]
    assert state.answer_for(1) is state.previous


def test_a_demo_attached_to_several_claims_shows_its_plot_once(chat):
    def ask(question, previous=None):
        answer = kl_answer(question, chat.service.plot_path)
        answer.demos = answer.demos * 3
        return answer
    chat.service.ask = ask
    history, *_ = chat.respond("kl", [], None)
    assert [type(c) for c in history[1]["content"]] == [str, dict]


def test_missing_plot_file_is_left_out_rather_than_breaking_the_message(tmp_path):
    settings = Settings(data_dir=tmp_path)
    chat = WebChat(FakeTabot(plot_path=tmp_path / "gone.png"), FeedbackStore(settings.feedback_db))
    history, *_ = chat.respond("kl?", [], None)
    assert len(history[1]["content"]) == 1


def test_follow_up_gets_the_previous_answer(chat):
    history, state, *_ = chat.respond("why is KL divergence not symmetric", [], None)
    first = state.previous
    history, state, *_ = chat.respond("why?", history, state)
    assert chat.service.calls[-1] == ("why?", first)
    assert len(history) == 4 and "### Sources" in text_of(history[3])
    assert state.answer_for(1) is first and state.answer_for(3) is state.previous


def test_abstention_reads_well(chat):
    history, _state, _, picker = chat.respond("what is a transformer?", [], None)
    reply = text_of(history[1])
    assert "don't have a TA answer" in reply and "Closest topics I can answer" in reply
    assert "course forum" in reply
    assert picker["choices"] == [] and "value" not in picker


def test_demo_picker_keeps_demos_from_earlier_turns(chat):
    history, state, *_ = chat.respond("why is KL divergence not symmetric", [], None)
    history, state, _, picker = chat.respond("what is a transformer?", history, state)
    assert picker["choices"] == ["kl_asymmetry"] and "value" not in picker


@pytest.mark.parametrize("empty", ["", "   \n\t ", None])
def test_empty_input_gets_a_polite_prompt_without_calling_the_service(chat, empty):
    history, state, *_ = chat.respond(empty, [], None)
    assert text_of(history[1]) == EMPTY_MESSAGE
    assert chat.service.calls == []
    assert state.previous is None and state.answer_for(1) is None


def test_huge_input_is_bounded_by_the_service_and_only_its_echo_is_shortened(chat):
    question = "kl " + "x " * 50_000
    history, *_ = chat.respond(question, [], None)
    asked, _ = chat.service.calls[-1]
    assert asked == question  # the web passes the question on whole: bounding it is the service's job
    reply = text_of(history[1])
    assert reply.count("Your message was long, so I searched with its first") == 1  # the service's notice, once
    assert "### Sources" in reply
    # the echo of the question is shortened for display, and says how long it was
    echo = history[0]["content"]
    assert len(echo) < 2000 and echo.startswith("kl x x") and echo.endswith("… (100,003 characters)")


def test_echo_is_shortened_whatever_the_service_says(chat):
    def ask(question, previous=None):
        answer = kl_answer(question)
        answer.notices = ["This question is long."]  # the web must not react to notice wording
        return answer
    chat.service.ask = ask
    history, *_ = chat.respond("y" * ECHO_CHARS, [], None)
    assert history[0]["content"] == "y" * ECHO_CHARS  # exactly at the limit: shown whole
    reply = text_of(history[1])
    assert reply.count("ℹ️") == 1 and "This question is long." in reply  # the web adds no notice of its own
    history, *_ = chat.respond("y" * (ECHO_CHARS + 1), [], None)
    assert history[0]["content"] == "y" * ECHO_CHARS + f"… ({ECHO_CHARS + 1:,} characters)"


@pytest.mark.parametrize("attack", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                    "kl <img src=x onerror=alert(1)> [x](javascript:alert(1))"])
def test_user_html_comes_back_escaped(chat, attack):
    history, *_ = chat.respond(attack, [], None)
    echoed = history[0]["content"]
    assert "<" not in echoed and "&lt;" in echoed
    html = MD.render(echoed + "\n\n" + text_of(history[1]))
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html


def test_service_bug_becomes_one_short_message(chat, caplog):
    history, state, *_ = chat.respond("boom", [], None)
    reply = text_of(history[1])
    assert reply == FAILURE_TEXT
    assert "Traceback" not in reply and "\n" not in reply
    assert "answering failed" in caplog.text  # the details go to the server log instead
    assert state.answer_for(1) is None


def test_tabot_error_is_shown_as_its_message(chat):
    history, *_ = chat.respond("backend down", [], None)
    assert text_of(history[1]) == "The answer backend is unreachable; try again in a minute."


def test_like_and_dislike_write_rows_with_the_right_answer(chat):
    history, state, *_ = chat.respond("why is KL divergence not symmetric", [], None)
    history, state, *_ = chat.respond("what is a transformer?", history, state)
    status, comment = chat.rate("very clear", state, like(1, True))
    assert status.startswith("Thanks") and comment == ""
    chat.rate("", state, like(3, False))
    chat.rate("", state, like(3, ""))  # clicking again takes the rating back: nothing stored
    rows = chat.store.rows()
    assert [(r["rating"], r["question"], r["sources"], r["comment"], r["channel"]) for r in rows] == [
        (1, "why is KL divergence not symmetric", ["kl-asymmetry"], "very clear", "web"),
        (-1, "what is a transformer?", [], None, "web")]
    assert rows[1]["abstained"] is True


def test_rating_a_non_answer_stores_nothing(chat):
    history, state, *_ = chat.respond("why is KL divergence not symmetric", [], None)
    history, state, *_ = chat.respond("", history, state)
    history, state, *_ = chat.respond("boom", history, state)
    assert state.rate(3, 1) == NOT_RATABLE
    assert state.rate(5, -1) == NOT_RATABLE
    assert state.rate(0, 1) == NOT_RATABLE  # the user's own message
    assert chat.store.rows() == []


def test_clearing_the_chat_forgets_answers_and_follow_up_context(chat):
    chat.respond("why is KL divergence not symmetric", [], None)
    state = chat.clear()
    assert state is None  # the next question starts a new Conversation
    _, state, *_ = chat.respond("what is a transformer?", [], state)
    assert chat.service.calls[-1] == ("what is a transformer?", None)
    assert state.demo_names() == []
    state.rate(1, 1)
    assert chat.store.rows()[0]["question"] == "what is a transformer?"


def test_clicking_an_example_asks_it(chat):
    data = gr.SelectData(None, {"index": 0, "value": {"text": "why is KL divergence not symmetric"}})
    history, *_ = chat.respond_example([], None, data)
    assert history[0]["content"] == "why is KL divergence not symmetric"
    assert "### Sources" in text_of(history[1])


def test_demo_source_shows_exactly_the_demos_the_runner_would_run(chat, tmp_path):
    (tmp_path / "staff_demos").mkdir()
    (tmp_path / "staff_demos" / "staff_demo.py").write_text('"""A staff demo."""\n', encoding="utf-8")
    (tmp_path / "staff_demos" / "Shouty.py").write_text("x = 1\n", encoding="utf-8")
    runner = chat.service.demos
    assert chat.demo_source("staff_demo") == '"""A staff demo."""\n'
    assert chat.demo_source("kl_asymmetry") == runner.path("kl_asymmetry").read_text(encoding="utf-8")
    for name in runner.names():
        assert not chat.demo_source(name).startswith("# unknown demo")
    # files in demos/ the runner refuses to run are not demos, so their source is not shown
    for refused in ["_common", "__init__", "Shouty", "../bot/config", "kl_asymmetry\n", "no_such_demo"]:
        shown = chat.demo_source(refused)
        assert shown.startswith("# unknown demo ") and "available demos: " in shown and "\n" not in shown
        assert "staff_demo" in shown and "kl_asymmetry" in shown
    assert chat.demo_source(None) == ""
    assert chat.demo_source("") == ""


def test_build_app_wires_the_ask_endpoint(chat):
    app = build_app(chat.service, chat.store)
    names = [d.get("api_name") for d in app.config["dependencies"]]
    assert "ask" in names
    assert not app.analytics_enabled
