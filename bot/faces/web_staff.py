"""The chat's "Staff" tab: the gaps table, the latest 👎 with their comments, and why one question was
answered or declined (`tabot ask --why`), behind a password.

The tab exists only when `TABOT_STAFF_PASSWORD` is set. Students use the same page without logging
in, so the password guards the tab, not the app (Gradio's `launch(auth=...)` would lock students
out): the panel is hidden and empty until the session signs in, every staff handler checks the
session's sign-in on the server (a hand-made API call gets nothing), no staff data is sent before,
the password is compared in constant time, and a wrong one costs a second (the sign-in queue is
serial, so guessing runs at one try a second at most, whatever the number of sessions).
"""

from __future__ import annotations

import hmac
import html
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from bot.errors import InputError
from bot.faces.gaps import GAP_QUESTIONS, GapReport
from bot.faces.gaps_report import topics_html

if TYPE_CHECKING:  # the retriever's modules load with the service, not with the page
    from bot.answering.explain import Explanation

log = logging.getLogger(__name__)

TOPICS_SHOWN = 30
DISLIKES_SHOWN = 20
WRONG_PASSWORD = "Wrong password."  # noqa: S105 - the message shown, not a password
WRONG_PASSWORD_DELAY_S = 1.0
SIGNED_OUT = "Sign in to see it."


class StaffViews:
    """The tab's handlers; `gaps` and `feedback` read the stores when called (fresh on every refresh)."""

    def __init__(self, password: str, gaps: Callable[[], GapReport],
                 feedback: Callable[[], list[dict[str, Any]]],
                 explain: Callable[[str], Explanation] | None = None) -> None:
        if not password:
            raise ValueError("the staff tab needs a password")
        self._password = password.encode("utf-8", "surrogatepass")
        self.gaps = gaps
        self.feedback = feedback
        self.explain = explain  # `Tabot.explain`; None: the tab has no "Why?" box

    def sign_in(self, password: str, signed_in: bool | None) -> tuple[Any, ...]:
        """(signed-in state, status line, panel update, gaps html, dislikes html, cleared password box)."""
        typed = (password or "").encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(typed, self._password):
            time.sleep(WRONG_PASSWORD_DELAY_S)
            log.warning("wrong staff password")
            return False, WRONG_PASSWORD, gr.update(visible=False), "", "", ""
        gaps, dislikes = self.refresh(True)
        return True, "Signed in.", gr.update(visible=True), gaps, dislikes, ""

    def refresh(self, signed_in: bool | None) -> tuple[str, str]:
        """(gaps html, recent 👎 html) for a signed-in session; nothing for anyone else."""
        if signed_in is not True:
            return SIGNED_OUT, ""
        try:
            report = self.gaps()
            gaps = (f"<p>{report.questions} {GAP_QUESTIONS} in {len(report.topics)} topics "
                    f"(most students first; <code>tabot gaps --out DIR</code> for all of them with a plot)</p>"
                    + topics_html(report, TOPICS_SHOWN))
        except Exception as error:  # the tab stays usable: the dislikes below may still load
            log.exception("the staff tab could not compute the gaps")
            gaps = f"<p>The gaps could not be computed: {html.escape(_first_line(error))}</p>"
        try:
            rows = [r for r in self.feedback() if r["rating"] == -1][-DISLIKES_SHOWN:][::-1]
            dislikes = dislikes_html(rows)
        except Exception as error:
            log.exception("the staff tab could not read the feedback")
            dislikes = f"<p>The feedback could not be read: {html.escape(_first_line(error))}</p>"
        return gaps, dislikes

    def why(self, question: str, signed_in: bool | None) -> str:
        """Why the bot would answer `question` or decline it (`Tabot.explain`), as HTML, for a
        signed-in session only. The post is a student's text: escaped, never rendered."""
        if signed_in is not True:
            return SIGNED_OUT
        if self.explain is None:
            return "<p>Not available here: run <code>tabot ask --why \"...\"</code>.</p>"
        try:
            text = self.explain(question).text()
        except InputError as error:
            return f"<p>{html.escape(str(error))}</p>"
        except Exception as error:
            log.exception("the staff tab could not explain a question")
            return f"<p>The question could not be explained: {html.escape(_first_line(error))}</p>"
        return f"<pre class='tabot-why'>{html.escape(text)}</pre>"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def dislikes_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No 👎 yet.</p>"
    body = "".join(f"<tr><td>{html.escape(r['created_at'][:16])}</td><td>{html.escape(r['channel'])}</td>"
                   f"<td>{html.escape(r['question'][:300])}</td><td>{html.escape(', '.join(r['sources']) or '—')}</td>"
                   f"<td>{html.escape(r['comment'] or '')}</td></tr>" for r in rows)
    return ("<table class='tabot-dislikes'><tr><th>when (UTC)</th><th>where</th><th>question</th><th>entries shown</th>"
            f"<th>comment</th></tr>{body}</table>")


def staff_tab(staff: StaffViews) -> None:
    """Lay out the Staff tab's contents (call inside `with gr.Tab("Staff")`)."""
    signed_in = gr.State(False)
    with gr.Row():
        password = gr.Textbox(label="Staff password", type="password", elem_id="staff-password", scale=4)
        button = gr.Button("Sign in", elem_id="staff-sign-in", scale=1)
    status = gr.Markdown(elem_id="staff-status", elem_classes="tabot-status")
    with gr.Column(visible=False, elem_id="staff-panel") as panel:
        refresh = gr.Button("Refresh", elem_id="staff-refresh", size="sm")
        gr.Markdown("### Questions no TA answer covers")
        gaps = gr.HTML(elem_id="staff-gaps")
        gr.Markdown("### Latest 👎")
        dislikes = gr.HTML(elem_id="staff-dislikes")
        if staff.explain is not None:
            gr.Markdown("### Why was a question answered or declined?")
            with gr.Row():
                why_question = gr.Textbox(label="A student's question or post", lines=2, max_lines=12,
                                          elem_id="staff-why-question", scale=5)
                why_button = gr.Button("Why?", elem_id="staff-why", scale=1)
            why = gr.HTML(elem_id="staff-why-result")
            why_button.click(staff.why, [why_question, signed_in], why, api_visibility="private")
    outputs = [signed_in, status, panel, gaps, dislikes, password]
    # Serial, so a wrong password's delay also limits guessing from many sessions at once.
    sign_in = {"concurrency_limit": 1, "concurrency_id": "staff-sign-in", "api_visibility": "private"}
    button.click(staff.sign_in, [password, signed_in], outputs, **sign_in)
    password.submit(staff.sign_in, [password, signed_in], outputs, **sign_in)
    refresh.click(staff.refresh, signed_in, [gaps, dislikes], api_visibility="private")
