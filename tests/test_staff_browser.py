"""The chat's Staff tab in a real browser (Debian Chromium via Playwright) over a real question log,
feedback database and MiniLM: absent without a staff password, a wrong password refused (and nothing
staff-only sent), the gaps table, the latest 👎 and the "Why?" box shown after signing in.

Never `wait_until="networkidle"` (Gradio keeps a connection open): every wait is for a selector or text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.faces.web import staff_views
from bot.faces.web_staff import SIGNED_OUT, WRONG_PASSWORD, StaffViews
from bot.feedback import FeedbackStore
from bot.question_log import QuestionLog
from tests.fake_tabot import abstain_answer, kl_answer
from tests.test_browser import browser, open_chat, shot  # noqa: F401 - `browser` is a fixture
from tests.web_server import running_app

PASSWORD = "correct horse battery staple"
SECRET_QUESTION = "how do transformers use positional encodings?"
COMMENT = "this did not answer my question about label smoothing"


@pytest.fixture()
def staff_settings(tmp_path: Path, session_settings: Settings) -> Settings:
    """A data folder whose question log and feedback hold what the tab should show."""
    models = session_settings.data_dir / "models"
    if models.is_dir():  # the ONNX MiniLM exported for the session, not exported again
        (tmp_path / "models").symlink_to(models)
    settings = session_settings.with_(data_dir=tmp_path, staff_password=PASSWORD)
    questions = QuestionLog.from_settings(settings)
    for user, text in (("a", SECRET_QUESTION), ("b", "why does a transformer need positional encoding at all")):
        questions.record("web", abstain_answer(text), user=user)
    FeedbackStore(settings.feedback_db).record("web", "what is label smoothing", kl_answer("what is label smoothing"),
                                               -1, comment=COMMENT, user="c")
    return settings


def test_no_password_means_no_staff_tab() -> None:
    assert staff_views(Settings(staff_password=None)) is None
    assert Settings.from_env({"TABOT_STAFF_PASSWORD": PASSWORD}).staff_password == PASSWORD


def test_handlers_give_nothing_to_a_session_that_has_not_signed_in(staff_settings: Settings, tabot) -> None:
    views = staff_views(staff_settings)
    assert isinstance(views, StaffViews)
    assert views.refresh(None) == (SIGNED_OUT, "") and views.refresh(False) == (SIGNED_OUT, "")
    refused = views.sign_in("correct horse", None)
    assert refused[0] is False and refused[1] == WRONG_PASSWORD and refused[3:5] == ("", "")
    signed = views.sign_in(PASSWORD, None)
    assert signed[0] is True and SECRET_QUESTION in signed[3] and COMMENT in signed[4]


def test_why_explains_for_a_signed_in_session_only_and_never_renders_the_post(staff_settings: Settings,
                                                                               tabot) -> None:
    views = staff_views(staff_settings, tabot.explain)
    # The reader drops the tag itself; what it keeps of the student's text is escaped.
    hostile = "<img src=x onerror=alert(1)> is adagrad a momentum method if lr < 0.1 & beta > 0.9?"
    assert views.why(hostile, None) == SIGNED_OUT and views.why(hostile, False) == SIGNED_OUT
    shown = views.why(hostile, True)
    assert shown.startswith("<pre class='tabot-why'>") and "adaptive-optimizers" in shown
    assert "<img" not in shown and "lr &lt; 0.1 &amp; beta &gt; 0.9" in shown
    assert "Please type a question" in views.why("   ", True)
    assert "tabot ask --why" in staff_views(staff_settings).why("why is kl not symmetric", True)  # no service


@pytest.mark.slow
def test_staff_tab_absent_without_password_refuses_a_wrong_one_and_shows_gaps(
        tabot, staff_settings: Settings, browser) -> None:  # noqa: F811
    with running_app(tabot, staff_settings) as (url, _):
        page = open_chat(browser, url)
        assert page.get_by_role("tab", name="Staff").count() == 0
        assert page.locator("#staff-password").count() == 0
        page.context.close()

    with running_app(tabot, staff_settings, staff=staff_views(staff_settings, tabot.explain)) as (url, _):
        page = open_chat(browser, url)
        page.get_by_role("tab", name="Staff").click()
        page.fill("#staff-password input", "guess")
        page.click("#staff-sign-in")
        page.locator("#staff-status").get_by_text(WRONG_PASSWORD).wait_for()
        assert not page.locator("#staff-panel").is_visible()
        assert SECRET_QUESTION not in page.content() and COMMENT not in page.content()

        page.fill("#staff-password input", PASSWORD)
        page.press("#staff-password input", "Enter")
        page.locator("#staff-gaps").get_by_text(SECRET_QUESTION).wait_for()
        page.locator("#staff-dislikes").get_by_text(COMMENT).wait_for()
        assert page.locator("#staff-password input").input_value() == ""  # the password does not linger
        table = page.locator("#staff-gaps table tr").nth(1).inner_text()
        assert "2" in table.split()[:3]  # one topic, asked by two students
        page.fill("#staff-why-question textarea", "is adagrad a momentum method or not?")
        page.click("#staff-why")
        page.locator("#staff-why-result").get_by_text("Answered from adaptive-optimizers").wait_for()
        shot(page, "staff-tab")
        page.get_by_role("tab", name="Chat").click()
        page.wait_for_selector("#question textarea")
        page.context.close()
