"""The browser chat: a thin Gradio 6 front end around plain handler methods.

`WebChat` holds the handlers (`respond`, `rate`, `demo_source`) as ordinary methods that tests
call directly; `build_app` only lays out components and wires events to them; `serve` starts
the service and launches the app (`tabot chat`).

A reply is one answer card (`bot.faces.render.answer_markdown`): the answer, its sources, one line
per demo. Its demo plots and standalone scripts are published to `bot.faces.web_files.PublicFiles`,
the only folder the chat serves; uploads are refused. After a reply arrives the page brings its
start into view (Gradio would scroll to the bottom, i.e. to the last rows of the last demo).

The user's own message is echoed by `bot.faces.render.echo_html`, as plain text: no HTML, Markdown or
LaTeX typed by a user is rendered, and the Chatbot also sanitises HTML, so user text is shown, never run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

# Must be set before gradio is imported: it reads the variable at import time.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from starlette.middleware import Middleware

from bot.config import Settings
from bot.conversation import AnswerService, Conversation, FeedbackRecorder, QuestionRecorder
from bot.demo_runs.runner import COMMON
from bot.errors import DemoError
from bot.faces.cards import demo_summaries
from bot.faces.render import SOURCE_LINE_CHARS, DemoLinks, answer_markdown, clip, echo_html, escape_user_text
from bot.faces.standalone import standalone_notebook, standalone_script
from bot.faces.web_files import PublicFiles, RefuseUploads, public_dir
from bot.faces.web_staff import StaffViews, staff_tab
from bot.faces.web_style import CSS, SHOW_REPLY_JS
from bot.schema import Answer

if TYPE_CHECKING:
    from bot.answering.explain import Explanation

log = logging.getLogger(__name__)

# Display only: a chat bubble echoing a 100 kB paste helps nobody, so the echo shows the start and
# says how long the message was. What is *searched* is bounded by the service (bot/answering/guard.py).
ECHO_CHARS = 1500

# `\(...\)` is what the TA answers use for inline maths. `\[...\]` is deliberately absent:
# escaped user brackets look like `\[`, and must stay text.
LATEX_DELIMITERS = [{"left": "$$", "right": "$$", "display": True},
                    {"left": "\\(", "right": "\\)", "display": False}]
# Questions answered at once. Measured with `python -m eval.bench.chat --vs-engine --clients 32
# --questions 96 --concurrency 1 2 4 --repeat 3` on 2 cores (load average ~6): 26.2, 29.0 and 29.2
# questions/s (medians) against 29.2 for the engine alone. ONNX Runtime, Chroma and SQLite release
# the GIL, so a second answer overlaps the first's native work; a fourth adds nothing on 2 cores but
# spread (one run fell to 24.0), so two, one per core. (Clients there skip gradio_client's CA-bundle
# load on http, ~55 ms CPU a question on the client side; with it the same chat measures 15.7 vs 30.5.)
ASK_CONCURRENCY = 2
# Seconds between queue-position updates to waiting clients. Gradio's "auto" sends one to every
# waiting event each time a job starts (O(queue length) messages per answer): with 32 clients,
# a fixed 2 s cut the server's CPU per run ~4% and the clients' ~30% (same throughput within noise),
# and a browser still sees its place in the queue move every 2 s.
QUEUE_STATUS_UPDATE_S = 2.0
# Standalone script/notebook pairs kept by `WebChat._standalone` (one per demo version in use).
STANDALONE_CACHE = 256


class ChatService(AnswerService, Protocol):
    """What the browser chat needs of `bot.service.Tabot` beyond answering."""

    def topics(self) -> list[tuple[str, str]]: ...
    def example_questions(self) -> list[str]: ...
    def demo_source(self, name: str) -> str: ...


class WebChat:
    """The chat's handlers, independent of Gradio components so they can be tested as functions.

    The session state is the student's `Conversation` (created on their first question); each bot
    message is named in it by its index in the chat history, which is what a 👍 click reports.
    """

    def __init__(self, service: ChatService, store: FeedbackRecorder, files: PublicFiles | None = None,
                 questions: QuestionRecorder | None = None) -> None:
        self.service = service
        self.store = store
        self.files = files  # where plots and scripts are published; None: cards link to nothing
        self.questions = questions  # the question log (None: not logging)
        self._standalone_cache: dict[tuple[str, str, str], tuple[str, str] | DemoError] = {}

    def conversation(self, state: Conversation | None) -> Conversation:
        if isinstance(state, Conversation):
            return state
        return Conversation(self.service, self.store, "web", questions=self.questions)

    # -- asking ---------------------------------------------------------------------------
    def respond(self, message: str, history: list | None, state: Conversation | None
                ) -> tuple[list, Conversation, str, Any]:
        """Main chat event: returns (history, state, cleared textbox, demo-picker update)."""
        conversation = self.conversation(state)
        history = list(history or [])
        history.append({"role": "user", "content": _echo(message if isinstance(message, str) else "")})
        turn = conversation.ask(message, key=len(history))
        content = turn.text
        latest: list[str] = []
        reply: dict[str, Any] = {"role": "assistant"}
        if turn.answer is not None:
            content = answer_markdown(turn.answer, self.publish(turn.answer))
            latest = [d.name for d in turn.answer.demos]
            if options := nearest_options(turn.answer):
                reply["options"] = options
        # One message per reply (the card holds its plots), so the history index names it for 👍/👎.
        history.append(reply | {"content": content})
        # The picker offers every demo seen in this conversation and jumps to the newest answer's.
        seen = conversation.demo_names()
        picker = gr.update(choices=seen, value=latest[0]) if latest else gr.update(choices=seen)
        return history, conversation, "", picker

    def respond_example(self, history: list | None, state: Conversation | None, evt: gr.SelectData
                        ) -> tuple[list, Conversation, str, Any]:
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        return self.respond(str(value.get("text", "")), history, state)

    def respond_option(self, history: list | None, state: Conversation | None, evt: gr.SelectData
                       ) -> tuple[list, Conversation, str, Any]:
        """A click on one of a decline's closest topics asks that entry's question, as if typed (the
        value comes back from the browser, so it goes through the same guard as any question)."""
        return self.respond(evt.value if isinstance(evt.value, str) else "", history, state)

    # -- feedback -------------------------------------------------------------------------
    def rate(self, comment: str, state: Conversation | None, data: gr.LikeData) -> tuple[str, str]:
        """`.like()` event: returns (status line, cleared comment box)."""
        if data.liked is True or data.liked == "Like":
            rating = 1
        elif data.liked is False or data.liked == "Dislike":
            rating = -1
        else:  # the button was clicked again to take the rating back; nothing to store
            return "", comment
        # Each reply is one message, so the history index names it exactly.
        index = data.index[0] if isinstance(data.index, list | tuple) else int(data.index)
        return self.conversation(state).rate(index, rating, comment), ""

    def clear(self) -> None:
        """The chat's 🗑 button: forget the conversation, so ratings and follow-ups start afresh."""
        return None

    # -- files a card links to ------------------------------------------------------------
    def publish(self, answer: Answer) -> dict[str, DemoLinks]:
        """Publish each demo's plot and standalone script; returns the links for the card."""
        if self.files is None:
            return {}
        links = {}
        for summary in demo_summaries(answer.demos):
            plot = self.files.publish_plot(summary.plot_path, f"{summary.name}.png") if summary.plot_path else None
            links[summary.name] = DemoLinks(plot=self.files.url(plot) if plot else None, **self._scripts(summary.name))
        return links

    def _scripts(self, name: str) -> dict[str, Any]:
        try:
            source, common = self.service.demo_source(name), COMMON.read_text(encoding="utf-8")
            made = self._standalone(name, source, common)
            if isinstance(made, DemoError):  # StandaloneError says why this demo cannot stand alone
                log.warning("no standalone script for demo %s: %s", name, made)
                return {"no_script": "no standalone copy of this demo"}
            script = self.files.publish(made[0].encode(), f"{name}.py")
            notebook = self.files.publish(made[1].encode(), f"{name}.ipynb")
        except DemoError as error:  # demo_source: not a demo the runner would run
            log.warning("no standalone script for demo %s: %s", name, error)
            return {"no_script": "no standalone copy of this demo"}
        except (OSError, ValueError):  # a full disk, an unreadable or undecodable source
            log.exception("publishing the standalone script of demo %s failed", name)
            return {"no_script": "the standalone copy could not be made just now"}
        return {"script": self.files.url(script), "notebook": self.files.url(notebook)}

    def _standalone(self, name: str, source: str, common: str) -> tuple[str, str] | DemoError:
        """The standalone script and notebook of demo `name`, made once per (source, _common) text.

        Making them parses and walks both sources (~11 ms of pure Python, GIL held): uncached it was
        a quarter of a reply's server time and did not overlap with other replies. Keyed by the texts
        themselves, so an edited demo gets new copies; a DemoError (cannot stand alone) is kept and returned."""
        key = (name, source, common)
        made = self._standalone_cache.get(key)
        if made is None:
            try:
                made = (standalone_script(name, source, common), standalone_notebook(name, source, common))
            except DemoError as error:
                made = error
            if len(self._standalone_cache) >= STANDALONE_CACHE:  # demos are few; a bound all the same
                self._standalone_cache.clear()
            self._standalone_cache[key] = made
        return made

    # -- demo code ------------------------------------------------------------------------
    def demo_source(self, name: str | None) -> str:
        """The source of demo `name`, if it is one the service's runner would run.

        The runner (`bot.demo_runs.runner.DemoRunner.path`) is the one authority on which names are
        demos, so the picker shows exactly the runnable ones and never, say, `_common` or a path.
        """
        if not name:
            return ""
        try:
            return self.service.demo_source(name)
        except DemoError as error:  # one line: "unknown demo 'x'; available demos: ..."
            return f"# {error}"
        except (OSError, UnicodeDecodeError):
            log.exception("reading the source of demo %r failed", name)
            return f"# the source of demo {name} could not be read"


def nearest_options(answer: Answer) -> list[dict[str, str]]:
    """A decline's closest topics as the chat's buttons under the reply: one click asks the entry's
    own question and shows its TA answer. An in-scope post the bot declines nearly always has its
    entry among them (the eval report's last "Real phrasing" column), and a student should not have
    to retype it. Gradio shows the label as text."""
    if not answer.abstained:
        return []
    return [{"label": clip(s.topic, SOURCE_LINE_CHARS), "value": s.question} for s in answer.nearest]


def _echo(message: str) -> str:
    shown = message if len(message) <= ECHO_CHARS else message[:ECHO_CHARS] + f"… ({len(message):,} characters)"
    return echo_html(shown)


def _or_default(service: ChatService, method: str, default: Any) -> Any:
    # The start screen should still load if listing topics fails.
    try:
        return getattr(service, method)()
    except Exception:
        log.exception("%s() failed", method)
        return default


def start_screen(topics: list[tuple[str, str]]) -> str:
    lines = [f"- {escape_user_text(title)}" for _, title in topics]
    return ("**Ask a question about the course.** I answer only from the TAs' own answers, cite them, "
            "and back claims with demos that were run and checked.\n\nTopics I can answer:\n\n" + "\n".join(lines))


# Students are told, under the chat, that what they ask is kept (the question log is on by default).
LOG_NOTICE = ("Questions asked here are kept for the course staff (without your name or address), "
              "so they can add answers to what the bot could not answer.")


def build_app(service: ChatService, store: FeedbackRecorder, public: Path | None = None,
              questions: QuestionRecorder | None = None, staff: StaffViews | None = None) -> gr.Blocks:
    """The chat's layout and events; `public` is the folder plots and scripts are published to
    (`web_files.public_dir`, which `launch_kwargs` lets Gradio serve), None to link no files;
    `questions` is the question log (None: questions are not kept, and the footer does not say so);
    `staff` the Staff tab's handlers (None: no Staff tab, as without TABOT_STAFF_PASSWORD)."""
    chat = WebChat(service, store, PublicFiles(public) if public is not None else None, questions)
    topics = _or_default(service, "topics", [])
    examples = _or_default(service, "example_questions", [])
    with gr.Blocks(title="tabot — course Q&A", analytics_enabled=False) as app:
        state = gr.State(None)  # the session's Conversation, made on its first question
        gr.Markdown("## tabot — answers from the TAs, with checked demos")
        # With a staff password the page has two tabs; without one it is the chat alone (no Staff tab).
        with gr.Tabs() if staff is not None else nullcontext():
            with gr.Tab("Chat", elem_id="tab-chat") if staff is not None else nullcontext():
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="chat", label="Chat", height="min(680px, 78vh)", placeholder=start_screen(topics),
                            autoscroll=False,  # SHOW_REPLY_JS shows the reply's start instead of its end
                            examples=[{"text": q} for q in examples] or None,
                            sanitize_html=True, render_markdown=True, latex_delimiters=LATEX_DELIMITERS,
                            feedback_options=("Like", "Dislike"), buttons=["copy"])
                        with gr.Row():
                            box = gr.Textbox(elem_id="question", placeholder="Ask about the course…", show_label=False,
                                             scale=5, lines=1, max_lines=6, autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="ask")
                        comment = gr.Textbox(elem_id="comment", label="Optional comment — type it, then click 👍 or 👎",
                                             lines=1, max_lines=4)
                        status = gr.Markdown(elem_id="feedback-status", elem_classes="tabot-status")
                        if questions is not None:
                            gr.Markdown(LOG_NOTICE, elem_id="log-notice", elem_classes="tabot-status")
                    with gr.Column(scale=1):
                        with gr.Accordion("What I can answer", open=False):
                            gr.Markdown("\n".join(f"- {escape_user_text(t)} (`{i}`)" for i, t in topics) or "—")
                        with gr.Accordion("Demo code", open=False, elem_id="demo-code"):
                            picker = gr.Dropdown(label="Demo", choices=[], interactive=True, elem_id="demo-picker")
                            code = gr.Code(language="python", interactive=False, label="Source", max_lines=40)
            if staff is not None:
                with gr.Tab("Staff", elem_id="tab-staff"):
                    staff_tab(staff)
        outputs = [chatbot, state, box, picker]
        # One queue for every way of asking, so the limit holds across them.
        ask = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "ask"}
        asked = [box.submit(chat.respond, [box, chatbot, state], outputs, api_name="ask", **ask),
                 send.click(chat.respond, [box, chatbot, state], outputs, api_visibility="private", **ask),
                 chatbot.example_select(chat.respond_example, [chatbot, state], outputs, api_visibility="private",
                                        **ask),
                 chatbot.option_select(chat.respond_option, [chatbot, state], outputs, api_visibility="private",
                                       **ask)]
        for event in asked:
            event.then(None, None, None, js=SHOW_REPLY_JS, api_visibility="private")
        chatbot.like(chat.rate, [comment, state], [status, comment], api_visibility="private")
        chatbot.clear(chat.clear, None, state, api_visibility="private")
        picker.change(chat.demo_source, picker, code, api_visibility="private")
    return app


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Arguments for `Blocks.launch`; shared with the tests so they launch what users get."""
    # Only the public folder (copies of plots, generated scripts) may be served: the data dir also
    # holds the feedback database, the index and the demo cache, which must never be downloadable.
    # No upload widget exists, so uploads are refused outright, and capped at 0 bytes should that fail.
    return {"server_name": settings.host, "server_port": settings.port, "share": settings.share,
            "allowed_paths": [str(public_dir(settings))], "blocked_paths": [str(settings.feedback_db)],
            "max_file_size": 0, "app_kwargs": {"middleware": [Middleware(RefuseUploads)]},
            "show_error": False, "css": CSS, "footer_links": ["api"], "ssr_mode": False, "mcp_server": False}


def queue_kwargs() -> dict[str, Any]:
    """Arguments for `Blocks.queue`."""
    return {"status_update_rate": QUEUE_STATUS_UPDATE_S}


def staff_views(settings: Settings, explain: Callable[[str], Explanation] | None = None) -> StaffViews | None:
    """The Staff tab's handlers over `settings`' question log and feedback, and `explain` (the service's
    `Tabot.explain`) for its "Why?" box; None without a staff password."""
    if not settings.staff_password:
        return None
    from bot.faces.gaps import gaps_from_log
    from bot.feedback import FeedbackStore

    return StaffViews(settings.staff_password, lambda: gaps_from_log(settings),
                      FeedbackStore(settings.feedback_db).rows, explain)


def serve(settings: Settings, built: Callable[[], None] | None = None) -> None:
    """`tabot chat`: build/verify what is missing (with progress), then serve until interrupted.

    `built` is called once the chat is built, just before it starts listening (the CLI turns the
    cyclic GC back on there: see `bot.faces.cli.end_of_startup`)."""
    from bot.feedback import FeedbackStore
    from bot.question_log import QuestionLog
    from bot.service import Tabot, console_progress  # imported here: the engine is slow and web tests fake it

    # Demos verify in the background: a hanging staff demo must not keep the chat from serving
    # (answers show "verifying…" until its verdict exists).
    service = Tabot.start(settings, progress=console_progress, verify_in_background=True)
    store = FeedbackStore(settings.feedback_db)
    app = build_app(service, store, public_dir(settings), QuestionLog.from_settings(settings),
                    staff_views(settings, service.explain))
    print(f"tabot chat on http://{settings.host}:{settings.port}  (feedback: {settings.feedback_db})", flush=True)
    if built is not None:
        built()
    app.queue(**queue_kwargs()).launch(**launch_kwargs(settings))
