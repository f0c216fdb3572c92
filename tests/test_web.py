"""The chat handlers as plain functions, against the hand-written fake service."""

import re
import shutil
import urllib.parse
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest
from markdown_it import MarkdownIt

from bot.answering.guard import EMPTY_MESSAGE
from bot.config import Settings
from bot.conversation import FAILURE_TEXT, NOT_RATABLE
from bot.demo_runs.runner import COMMON
from bot.faces.render import echo_html
from bot.faces.standalone import standalone_script
from bot.faces.web import ECHO_CHARS, WebChat, build_app, launch_kwargs, nearest_options
from bot.faces.web_files import PublicFiles, RefuseUploads, public_dir
from bot.feedback import FeedbackStore
from tests.fake_tabot import KL_QUESTION, LOG_QUESTION, FakeTabot, abstain_answer, kl_answer, tiny_png

MD = MarkdownIt("commonmark", {"html": True}).enable("table")


@pytest.fixture
def chat(tmp_path):
    settings = Settings(data_dir=tmp_path, demos_dir=tmp_path / "staff_demos")
    settings.demos_dir.mkdir()
    plot = tiny_png(settings.demo_cache_dir / "artifacts" / "kl_asymmetry" / "kl_fits.png")
    return WebChat(FakeTabot(plot_path=plot, settings=settings), FeedbackStore(settings.feedback_db),
                   PublicFiles(public_dir(settings)))


def text_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else content[0]


def served(chat: WebChat, url: str) -> Path:
    """The file behind a link of a card (checking it points into the public folder)."""
    assert url.startswith("gradio_api/file=")
    path = Path(urllib.parse.unquote(url.removeprefix("gradio_api/file=")))
    assert path.is_relative_to(chat.files.folder) and path.is_file()
    return path


def links_of(reply: str, attribute: str) -> list[str]:
    return re.findall(attribute + r'="(gradio_api/file=[^"]+)"', reply)


def like(index: int, liked: bool | str) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": [], "liked": liked})


def test_cited_answer_is_one_card_with_its_plot_and_script_published(chat):
    history, state, box, picker = chat.respond("why is KL divergence not symmetric", [], None)
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == echo_html("why is KL divergence not symmetric")
    reply = history[1]["content"]
    assert isinstance(reply, str)  # one message: the card holds its plot, so 👍 names the whole reply
    assert reply.startswith("minimising") and "[1]" not in reply  # one source: no markers
    assert reply.index("tabot-source") < reply.index("tabot-demo")
    assert "<b>kl_asymmetry</b> · 2/2 checks" in reply
    # the plot is a copy in the public folder, never the demo cache's own file
    [plot_url] = links_of(reply, "src")
    plot = served(chat, plot_url)
    assert plot.read_bytes() == Path(chat.service.plot_path).read_bytes() and plot.name == "kl_asymmetry.png"
    # "Run it yourself" downloads the standalone script made from the demo the runner would run
    script_url, notebook_url = links_of(reply, "href")
    script = served(chat, script_url)
    assert script.name == "kl_asymmetry.py" and served(chat, notebook_url).name == "kl_asymmetry.ipynb"
    assert script.read_text(encoding="utf-8") == standalone_script(
        "kl_asymmetry", chat.service.demo_source("kl_asymmetry"), COMMON.read_text(encoding="utf-8"))
    assert picker["choices"] == ["kl_asymmetry"] and picker["value"] == "kl_asymmetry"
    assert state.previous.entry_ids == ["kl-asymmetry"]
    assert state.answer_for(1) is state.previous


def test_the_public_folder_holds_only_what_cards_link_to(chat):
    chat.respond("why is KL divergence not symmetric", [], None)
    chat.respond("and KL again?", [], None)  # the same files again: published once
    published = sorted(p.name for p in chat.files.folder.rglob("*") if p.is_file())
    assert published == ["kl_asymmetry.ipynb", "kl_asymmetry.png", "kl_asymmetry.py"]


def test_a_demo_attached_to_several_claims_shows_its_plot_once(chat):
    def ask(question, previous=None):
        answer = kl_answer(question, chat.service.plot_path)
        answer.demos = answer.demos * 3
        return answer
    chat.service.ask = ask
    history, *_ = chat.respond("kl", [], None)
    assert history[1]["content"].count("<img") == 1


@pytest.mark.parametrize("plot", ["gone.png", "results.json"])
def test_a_missing_or_non_png_plot_is_left_out_rather_than_served(tmp_path, plot):
    settings = Settings(data_dir=tmp_path)
    (tmp_path / "results.json").write_text('{"secret": 1}', encoding="utf-8")
    chat = WebChat(FakeTabot(plot_path=tmp_path / plot), FeedbackStore(settings.feedback_db),
                   PublicFiles(public_dir(settings)))
    history, *_ = chat.respond("kl?", [], None)
    reply = history[1]["content"]
    assert "<img" not in reply and "<b>kl_asymmetry</b>" in reply
    assert not list(public_dir(settings).rglob("*.png")) and not list(public_dir(settings).rglob("*.json"))


def test_a_demo_that_cannot_stand_alone_gets_no_download_and_says_so(chat, tmp_path, caplog):
    chat.service.demo_source = lambda name: "from demos.other import x\ndef run(): pass\n"
    history, *_ = chat.respond("kl?", [], None)
    reply = history[1]["content"]
    assert 'download="' not in reply and "no standalone copy of this demo" in reply
    assert "python -m demos.kl_asymmetry" in reply and "imports demos.other" in caplog.text


def test_a_reply_survives_a_public_folder_that_cannot_be_written(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path)
    public_dir(settings).write_text("a file where the folder should be", encoding="utf-8")
    chat = WebChat(FakeTabot(plot_path=tiny_png(tmp_path / "p.png")), FeedbackStore(settings.feedback_db),
                   PublicFiles(public_dir(settings)))
    reply = chat.respond("kl?", [], None)[0][1]["content"]
    assert "<b>kl_asymmetry</b> · 2/2 checks" in reply and "gradio_api/file=" not in reply
    assert "the standalone copy could not be made just now" in reply
    assert "demo plot" in caplog.text


def test_a_deleted_public_folder_is_made_again(chat):
    chat.respond("kl?", [], None)
    shutil.rmtree(chat.files.folder)
    reply = chat.respond("kl?", [], None)[0][1]["content"]
    assert len(links_of(reply, "src")) == 1 and all(served(chat, u) for u in links_of(reply, "href"))


def test_without_a_public_folder_cards_link_to_nothing(tmp_path):
    settings = Settings(data_dir=tmp_path)
    chat = WebChat(FakeTabot(plot_path=tiny_png(tmp_path / "p.png")), FeedbackStore(settings.feedback_db))
    reply = chat.respond("kl?", [], None)[0][1]["content"]
    assert "gradio_api/file=" not in reply and "<b>kl_asymmetry</b>" in reply


def test_follow_up_gets_the_previous_answer(chat):
    history, state, *_ = chat.respond("why is KL divergence not symmetric", [], None)
    first = state.previous
    history, state, *_ = chat.respond("why?", history, state)
    assert chat.service.calls[-1] == ("why?", first)
    assert len(history) == 4 and "tabot-source" in text_of(history[3])
    assert state.answer_for(1) is first and state.answer_for(3) is state.previous


def test_abstention_reads_well(chat):
    history, _state, _, picker = chat.respond("what is a transformer?", [], None)
    reply = text_of(history[1])
    assert "couldn't find a TA answer" in reply and "Closest topics I can answer" in reply
    assert "course forum" in reply
    assert picker["choices"] == [] and "value" not in picker


def test_a_decline_offers_its_closest_topics_as_buttons_that_ask_them(chat):
    history, state, *_ = chat.respond("what is a transformer?", [], None)
    assert [o["value"] for o in history[1]["options"]] == [KL_QUESTION, LOG_QUESTION]
    assert all(o["label"] for o in history[1]["options"])
    # A click asks the entry's own question: the next reply is that entry's answer, not a decline.
    data = gr.SelectData(None, {"index": 0, "value": KL_QUESTION})
    history, state, *_ = chat.respond_option(history, state, data)
    assert chat.service.calls[-1][0] == KL_QUESTION
    assert history[2]["content"] == echo_html(KL_QUESTION)
    assert "tabot-source" in text_of(history[3]) and "options" not in history[3]
    # A value that is not text (a hand-made request) is an empty question, answered politely.
    history, *_ = chat.respond_option(history, state, gr.SelectData(None, {"index": 0, "value": {"x": 1}}))
    assert text_of(history[-1]) == EMPTY_MESSAGE


def test_a_topic_button_shows_the_entrys_short_name_and_asks_its_question():
    answer = abstain_answer("what is a transformer")
    named = replace(answer, nearest=[replace(s, title=f"short name {i}") for i, s in enumerate(answer.nearest)])
    assert [o["label"] for o in nearest_options(named)] == ["short name 0", "short name 1"]
    assert [o["value"] for o in nearest_options(named)] == [KL_QUESTION, LOG_QUESTION]


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
    assert "tabot-source" in reply
    # the echo of the question is shortened for display, and says how long it was
    echo = history[0]["content"]
    assert echo == echo_html(question[:ECHO_CHARS] + "… (100,003 characters)")


def test_echo_is_shortened_whatever_the_service_says(chat):
    def ask(question, previous=None):
        answer = kl_answer(question)
        answer.notices = ["This question is long."]  # the web must not react to notice wording
        return answer
    chat.service.ask = ask
    history, *_ = chat.respond("y" * ECHO_CHARS, [], None)
    assert history[0]["content"] == echo_html("y" * ECHO_CHARS)  # exactly at the limit: shown whole
    reply = text_of(history[1])
    assert reply.count("ℹ️") == 1 and "This question is long." in reply  # the web adds no notice of its own
    history, *_ = chat.respond("y" * (ECHO_CHARS + 1), [], None)
    assert history[0]["content"] == echo_html("y" * ECHO_CHARS + f"… ({ECHO_CHARS + 1:,} characters)")


@pytest.mark.parametrize("attack", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                    "kl <img src=x onerror=alert(1)> [x](javascript:alert(1))",
                                    "# big\n| a | b |\n|---|---|\n$$x$$ http://evil.example </pre><b>x</b>"])
def test_user_text_comes_back_as_plain_text(chat, attack):
    history, *_ = chat.respond(attack, [], None)
    echoed = history[0]["content"]
    inner = echoed.removeprefix('<pre class="tabot-echo">').removesuffix("</pre>")
    assert "<" not in inner and inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == attack
    echo = MD.render(echoed)
    assert "<h1" not in echo and "<b>" not in echo and "<table" not in echo and 'href="http://evil' not in echo
    html = MD.render(echoed + "\n\n" + text_of(history[1]))
    assert "<script" not in html and '<img src="x"' not in html and 'href="javascript' not in html


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
    assert history[0]["content"] == echo_html("why is KL divergence not symmetric")
    assert "tabot-source" in text_of(history[1])


def test_demo_source_shows_exactly_the_demos_the_runner_would_run(chat, tmp_path):
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
    chatbot = next(c for c in app.config["components"] if c.get("props", {}).get("elem_id") == "chat")
    assert chatbot["props"]["autoscroll"] is False  # the reply's start is shown by SHOW_REPLY_JS instead
    # Every way of asking - typing, the button, an example, a decline's closest topic - asks.
    events = {event for d in app.config["dependencies"] for target, event in d["targets"] if target == chatbot["id"]}
    assert {"example_select", "option_select"} <= events


def test_launch_serves_only_the_public_folder_and_refuses_uploads(tmp_path):
    settings = Settings(data_dir=tmp_path)
    kwargs = launch_kwargs(settings)
    assert kwargs["allowed_paths"] == [str(public_dir(settings))]
    assert not public_dir(settings).is_relative_to(settings.demo_cache_dir)
    assert not settings.demo_cache_dir.is_relative_to(public_dir(settings))
    assert str(settings.feedback_db) in kwargs["blocked_paths"]
    assert kwargs["max_file_size"] == 0
    assert [m.cls for m in kwargs["app_kwargs"]["middleware"]] == [RefuseUploads]
