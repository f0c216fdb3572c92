"""The browser chat: a thin Gradio 6 front end around plain handler methods.

`WebChat` holds the handlers (`respond`, `rate`, `demo_source`) as ordinary methods that tests
call directly; `build_app` only lays out components and wires events to them; `serve` starts
the service and launches the app (`tabot chat`).

Every string a user typed is escaped by `bot.faces.render.escape_user_text` before it is put in a
chat bubble, and the Chatbot also sanitises HTML, so user text is shown, never run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

# Must be set before gradio is imported: it reads the variable at import time.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from bot.config import Settings
from bot.conversation import AnswerService, Conversation, FeedbackRecorder
from bot.errors import DemoError
from bot.faces.render import answer_markdown, escape_user_text

log = logging.getLogger(__name__)

# Display only: a chat bubble echoing a 100 kB paste helps nobody, so the echo shows the start and
# says how long the message was. What is *searched* is bounded by the service (bot/answering/guard.py).
ECHO_CHARS = 1500

# `\(...\)` is what the TA answers use for inline maths. `\[...\]` is deliberately absent:
# escaped user brackets look like `\[`, and must stay text.
LATEX_DELIMITERS = [{"left": "$$", "right": "$$", "display": True},
                    {"left": "\\(", "right": "\\)", "display": False}]
CSS = ".tabot-status { min-height: 1.5em; }"
# Questions answered at once. Answering is CPU-bound: on 2 cores, limits of 1, 2 and 4 gave the
# same throughput (7-9 questions/s, 8 gradio_client clients, eval/bench_chat.py), so the queue
# stays serial and the engine never sees concurrent calls.
ASK_CONCURRENCY = 1


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

    def __init__(self, service: ChatService, store: FeedbackRecorder) -> None:
        self.service = service
        self.store = store

    def conversation(self, state: Conversation | None) -> Conversation:
        return state if isinstance(state, Conversation) else Conversation(self.service, self.store, "web")

    # -- asking ---------------------------------------------------------------------------
    def respond(self, message: str, history: list | None, state: Conversation | None
                ) -> tuple[list, Conversation, str, Any]:
        """Main chat event: returns (history, state, cleared textbox, demo-picker update)."""
        conversation = self.conversation(state)
        history = list(history or [])
        history.append({"role": "user", "content": _echo(message or "")})
        turn = conversation.ask(message, key=len(history))
        content: list[Any] = [turn.text]
        latest: list[str] = []
        if turn.answer is not None:
            content = [answer_markdown(turn.answer, expandable=True)]
            # One demo backing several claims is attached once per claim; show its plot once.
            plots = dict.fromkeys((d.plot_path, d.name) for d in turn.answer.demos if d.plot_path)
            for path, name in plots:
                if Path(path).is_file():
                    content.append({"path": path, "alt_text": f"Plot from demo {name}"})
            latest = [d.name for d in turn.answer.demos]
        history.append({"role": "assistant", "content": content})
        # The picker offers every demo seen in this conversation and jumps to the newest answer's.
        seen = conversation.demo_names()
        picker = gr.update(choices=seen, value=latest[0]) if latest else gr.update(choices=seen)
        return history, conversation, "", picker

    def respond_example(self, history: list | None, state: Conversation | None, evt: gr.SelectData
                        ) -> tuple[list, Conversation, str, Any]:
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        return self.respond(str(value.get("text", "")), history, state)

    # -- feedback -------------------------------------------------------------------------
    def rate(self, comment: str, state: Conversation | None, data: gr.LikeData) -> tuple[str, str]:
        """`.like()` event: returns (status line, cleared comment box)."""
        if data.liked is True or data.liked == "Like":
            rating = 1
        elif data.liked is False or data.liked == "Dislike":
            rating = -1
        else:  # the button was clicked again to take the rating back; nothing to store
            return "", comment
        # Each reply is one message (text plus plots), so the history index names it exactly.
        index = data.index[0] if isinstance(data.index, list | tuple) else int(data.index)
        return self.conversation(state).rate(index, rating, comment), ""

    def clear(self) -> None:
        """The chat's 🗑 button: forget the conversation, so ratings and follow-ups start afresh."""
        return None

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


def _echo(message: str) -> str:
    shown = message if len(message) <= ECHO_CHARS else message[:ECHO_CHARS] + f"… ({len(message):,} characters)"
    return escape_user_text(shown)


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


def build_app(service: ChatService, store: FeedbackRecorder) -> gr.Blocks:
    chat = WebChat(service, store)
    topics = _or_default(service, "topics", [])
    examples = _or_default(service, "example_questions", [])
    with gr.Blocks(title="tabot — course Q&A", analytics_enabled=False) as app:
        state = gr.State(None)  # the session's Conversation, made on its first question
        gr.Markdown("## tabot — answers from the TAs, with checked demos")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="chat", label="Chat", height=620, placeholder=start_screen(topics),
                    examples=[{"text": q} for q in examples] or None,
                    sanitize_html=True, render_markdown=True, latex_delimiters=LATEX_DELIMITERS,
                    feedback_options=("Like", "Dislike"), buttons=["copy"])
                with gr.Row():
                    box = gr.Textbox(elem_id="question", placeholder="Ask about the course…", show_label=False,
                                     scale=5, lines=1, max_lines=6, autofocus=True)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                comment = gr.Textbox(elem_id="comment", label="Optional comment — type it, then click 👍 or 👎",
                                     lines=1, max_lines=4)
                status = gr.Markdown(elem_id="feedback-status", elem_classes="tabot-status")
            with gr.Column(scale=1):
                with gr.Accordion("What I can answer", open=False):
                    gr.Markdown("\n".join(f"- {escape_user_text(t)} (`{i}`)" for i, t in topics) or "—")
                with gr.Accordion("Demo code", open=False, elem_id="demo-code"):
                    picker = gr.Dropdown(label="Demo", choices=[], interactive=True, elem_id="demo-picker")
                    code = gr.Code(language="python", interactive=False, label="Source", max_lines=40)
        outputs = [chatbot, state, box, picker]
        # One queue for every way of asking, so the limit holds across them.
        ask = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "ask"}
        box.submit(chat.respond, [box, chatbot, state], outputs, api_name="ask", **ask)
        send.click(chat.respond, [box, chatbot, state], outputs, api_visibility="private", **ask)
        chatbot.example_select(chat.respond_example, [chatbot, state], outputs, api_visibility="private", **ask)
        chatbot.like(chat.rate, [comment, state], [status, comment], api_visibility="private")
        chatbot.clear(chat.clear, None, state, api_visibility="private")
        picker.change(chat.demo_source, picker, code, api_visibility="private")
    return app


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Arguments for `Blocks.launch`; shared with the tests so they launch what users get."""
    # Only the demo cache (where plots are written) may be served: the data dir also holds the
    # feedback database and the index, which must never be downloadable.
    return {"server_name": settings.host, "server_port": settings.port, "share": settings.share,
            "allowed_paths": [str(settings.demo_cache_dir)], "blocked_paths": [str(settings.feedback_db)],
            "show_error": False, "css": CSS, "footer_links": ["api"], "ssr_mode": False, "mcp_server": False}


def serve(settings: Settings) -> None:
    """`tabot chat`: build/verify what is missing (with progress), then serve until interrupted."""
    from bot.feedback import FeedbackStore
    from bot.service import Tabot, console_progress  # imported here: the engine is slow and web tests fake it

    service = Tabot.start(settings, progress=console_progress)
    store = FeedbackStore(settings.feedback_db)
    app = build_app(service, store)
    print(f"tabot chat on http://{settings.host}:{settings.port}  (feedback: {settings.feedback_db})", flush=True)
    app.queue().launch(**launch_kwargs(settings))
