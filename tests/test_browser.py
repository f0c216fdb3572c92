"""A real browser (Debian Chromium via Playwright) against the launched app and the real engine.

Gradio keeps a websocket/SSE connection open, so pages never reach "networkidle": every wait
here is for a selector or text. Chromium missing is a failure, not a skip — CI installs it.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, sync_playwright

from bot.config import PROJECT_ROOT
from tests.web_server import running_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TIMEOUT_MS = 60_000  # the first answer on a busy 2-core CI box can take a while

BOT = '#chat [data-testid="bot"]'
USER = '#chat [data-testid="user"]'
ATTACK = ('<script>window.__pwned = 1; alert(1)</script> '
          '<img src=x onerror="window.__pwned = 2; alert(2)"> what is <b>bold</b>?')


@pytest.fixture(scope="module")
def server(tabot, session_settings):
    # `tabot` (tests/conftest.py): the real engine, started once per test session.
    with running_app(tabot, session_settings) as (url, store):
        yield url, store


@pytest.fixture
def dialogs() -> list[str]:
    return []


@pytest.fixture
def page(server, dialogs):
    assert CHROMIUM.exists(), "Debian chromium is missing: apt-get install chromium (CI installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server[0], wait_until="domcontentloaded")
        page.wait_for_selector("#question textarea")
        try:
            yield page
        finally:
            browser.close()


def ask(page: Page, question: str) -> Locator:
    """Type and send a question; returns the text part of the reply (a plot is a separate part)."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    reply = page.locator(BOT).nth(before)
    reply.wait_for()
    return reply


@pytest.mark.slow
def test_cited_answer_demo_badge_and_thumbs_up_reach_the_database(server, page):
    _, store = server
    # the start screen lists topics and example questions
    assert "Topics I can answer" in page.inner_text("#chat")
    reply = ask(page, "why is KL divergence not symmetric")
    text = reply.inner_text()
    assert "[1]" in text and "kl-asymmetry" in text
    assert "✅ verified" in text  # the passed demo badge
    assert "python -m demos.kl_asymmetry" in text
    ARTIFACTS.mkdir(exist_ok=True)
    reply.evaluate("e => e.scrollIntoView({block: 'start'})")  # the answer and its sources
    page.screenshot(path=str(ARTIFACTS / "browser_chat.png"), full_page=True)
    # the full TA answer is one click away
    reply.locator("details summary").first.click()
    assert "mode-seeking" in reply.locator("details").first.inner_text()
    # the KL demo's plot is shown in the chat
    assert page.locator(f"{BOT} img").count() >= 1
    # the demo's code, on request
    page.get_by_text("Demo code").click()
    first_line = (PROJECT_ROOT / "demos" / "kl_asymmetry.py").read_text(encoding="utf-8").splitlines()[0]
    page.locator("#demo-code .cm-content").get_by_text(first_line[:40]).first.wait_for()
    # 👍 with a comment
    seen = {r["id"] for r in store.rows()}  # the database is shared with other tests of the session
    page.fill("#comment textarea", "the plot helped")
    page.locator('#chat button[aria-label="Like"]').last.click()
    page.locator("#feedback-status").get_by_text("Thanks").wait_for()
    rows = [r for r in store.rows() if r["id"] not in seen]
    assert len(rows) == 1
    row = rows[0]
    assert (row["rating"], row["channel"], row["comment"]) == (1, "web", "the plot helped")
    assert row["question"] == "why is KL divergence not symmetric"
    assert row["sources"][0] == "kl-asymmetry"
    page.locator(f"{BOT} img").last.evaluate("e => e.scrollIntoView({block: 'end'})")  # card and plot
    page.screenshot(path=str(ARTIFACTS / "browser_demo.png"), full_page=True)


@pytest.mark.slow
def test_script_and_img_onerror_in_a_question_render_as_text(page, dialogs):
    assert "forum" in ask(page, ATTACK).inner_text()
    page.wait_for_timeout(500)  # give any injected handler a moment to fire
    assert page.locator(USER).last.inner_text().strip() == ATTACK  # shown literally
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator('#chat img[src="x"]').count() == 0
    assert page.locator("#chat script").count() == 0
    assert page.locator(f"{USER} b").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_injection.png"), full_page=True)
