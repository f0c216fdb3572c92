"""A real browser (Debian Chromium via Playwright) against the launched app and the real engine,
at a phone's 390 x 844 and a laptop's 1280 x 800.

Gradio keeps a websocket/SSE connection open, so pages never reach "networkidle": every wait here is
for a selector, a text or a condition. Chromium missing is a failure, not a skip — CI installs it.
Screenshots of what is in view after asking go to test-artifacts/ (kept by CI as artifacts).
"""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from bot.config import PROJECT_ROOT
from tests.clean_python import numpy_only_python, run_clean
from tests.web_server import running_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TIMEOUT_MS = 60_000  # the first answer on a busy 2-core CI box can take a while
SIZES = {"phone": (390, 844), "laptop": (1280, 800)}
SMALL_PHONE = (360, 740)  # the width the demo tables must fit

BOT = '#chat [data-testid="bot"]'
USER = '#chat [data-testid="user"]'
KL = "why is the KL divergence asymmetric?"
DECLINED = "what is the capital of France?"
ATTACK = ('<script>window.__pwned = 1; alert(1)</script> '
          '<img src=x onerror="window.__pwned = 2; alert(2)"> what is <b>bold</b>?')
MARKDOWN = "# big\n| a | b |\n|---|---|\n| 1 | 2 |\n\n$$x^2$$ and \\(y\\) see http://evil.example *em*"

# The reply's first sentence (text nodes up to the first sentence end, MathML copies skipped): every
# line box of it inside the viewport, and the topmost element at its first and last line is the reply
# itself, so it is not scrolled away inside the chat box nor covered by anything.
FIRST_SENTENCE_JS = """
(reply) => {
  const walker = document.createTreeWalker(reply, NodeFilter.SHOW_TEXT, {acceptNode: (n) =>
    n.textContent.trim() && !n.parentElement.closest('.katex-mathml') ? 1 : 3});
  const range = document.createRange();
  let node = walker.nextNode(), text = '';
  if (!node) return {text, inside: false, seen: false, lines: 0};
  range.setStart(node, 0);
  for (; node; node = walker.nextNode()) {
    const end = node.textContent.search(/[.?!](\\s|$)/);
    text += end >= 0 ? node.textContent.slice(0, end + 1) : node.textContent;
    range.setEnd(node, end >= 0 ? end + 1 : node.textContent.length);
    if (end >= 0) break;
  }
  const rects = [...range.getClientRects()].filter((r) => r.width > 0);
  const inside = rects.every((r) => r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth);
  const seen = [rects[0], rects[rects.length - 1]].every((r) =>
    reply.contains(document.elementFromPoint(r.left + 3, (r.top + r.bottom) / 2)));
  return {text, inside, seen, lines: rects.length};
}
"""
# Every number in an open table: on one line and inside its cell, the cell inside the viewport.
SQUEEZED_NUMBERS_JS = """
() => {
  const spans = [...document.querySelectorAll('#chat .tabot-table .n, #chat .tabot-headline .n')]
    .filter((s) => s.offsetParent);
  const bad = spans.filter((s) => {
    const r = s.getBoundingClientRect(), cell = s.closest('td, summary').getBoundingClientRect();
    return s.getClientRects().length !== 1 || r.right > cell.right + 0.5 || r.left < cell.left - 0.5
      || r.right > innerWidth;
  }).map((s) => s.textContent);
  return {checked: spans.length, bad, pageWidth: document.documentElement.scrollWidth};
}
"""
CONTRAST_JS = """
(el) => {
  const rgba = (c) => { const v = c.match(/[\\d.]+/g).map(Number); return v.length === 3 ? [...v, 1] : v; };
  const lum = (c) => 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  const ch = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  let bg = [255, 255, 255], alpha = 1;
  for (let n = el; n; n = n.parentElement) {
    alpha *= Number(getComputedStyle(n).opacity);
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c[3] > 0.5) { bg = c; break; }
  }
  const fg = rgba(getComputedStyle(el).color).slice(0, 3).map((v, i) => v * alpha + bg[i] * (1 - alpha));
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""


@pytest.fixture(scope="module")
def server(tabot, session_settings):
    # `tabot` (tests/conftest.py): the real engine, started once per test session.
    with running_app(tabot, session_settings) as (url, store):
        yield url, store


@pytest.fixture(scope="module")
def browser() -> Browser:
    assert CHROMIUM.exists(), "Debian chromium is missing: apt-get install chromium (CI installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_chat(browser: Browser, url: str, size: str = "laptop", theme: str = "light",
              dialogs: list | None = None) -> Page:
    width, height = SIZES.get(size, SMALL_PHONE)
    page = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    if dialogs is not None:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}?__theme={theme}", wait_until="domcontentloaded")
    page.wait_for_selector("#question textarea")
    return page


def ask(page: Page, question: str) -> Locator:
    """Type and send a question; returns the reply once the page has brought it into view."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    # SHOW_REPLY_JS marks the reply it scrolled to (bot/faces/web_style.py)
    page.wait_for_function("n => document.querySelectorAll('#chat [data-tabot-shown]').length > n", arg=before)
    return page.locator(BOT).nth(before)


def echo_of(page: Page) -> Locator:
    """The student's last message as the chat shows it (rendered apart from the reply, so waited for)."""
    echo = page.locator(USER).last.locator("pre.tabot-echo")
    echo.wait_for()
    return echo


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # the viewport: what the student sees


def assert_first_sentence_in_view(reply: Locator) -> str:
    seen = reply.evaluate(FIRST_SENTENCE_JS)
    assert seen["inside"] and seen["seen"] and seen["lines"] >= 1, seen
    return seen["text"]


def assert_notice_then_answer_in_view(reply: Locator, notice: str) -> None:
    """On a phone: the reply opens with `notice`, read before the answer it qualifies, and the TA's
    answer starts in view right under it."""
    assert assert_first_sentence_in_view(reply).startswith(notice)
    answer = reply.locator(".message-content p:not(blockquote p)").first.bounding_box()
    assert 0 <= answer["y"] and answer["y"] + 40 <= SIZES["phone"][1], answer


def toggle(details: Locator, body_text: str) -> None:
    """A fold-out opens on a click of its summary (its text shown) and closes on a second click."""
    summary = details.locator("> summary")
    assert details.get_attribute("open") is None and not details.get_by_text(body_text).first.is_visible()
    summary.click()
    details.get_by_text(body_text).first.wait_for(state="visible")
    assert details.get_attribute("open") is not None
    summary.click()
    details.get_by_text(body_text).first.wait_for(state="hidden")
    assert details.get_attribute("open") is None


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_answer_card_reads_answer_sources_demos_with_the_first_sentence_in_view(server, browser, size):
    page = open_chat(browser, server[0], size)
    reply = ask(page, KL)
    first = assert_first_sentence_in_view(reply)
    assert len(first) > 20 and "TA answer" not in first and "[1]" not in reply.inner_text()  # one source
    shot(page, f"answer-{size}")
    # answer, then the sources, then the demos, top-down
    tops = [reply.locator(sel).first.bounding_box()["y"] for sel in
            (".message-content p", "details.tabot-source", "details.tabot-demo")]
    assert tops == sorted(tops)
    # each demo is one line; the TA's answer and the demo's numbers fold out and back
    demo = reply.locator("details.tabot-demo").first
    line = demo.locator("> summary").inner_text()
    assert line.startswith("✅ kl_asymmetry · ") and " checks · " in line
    toggle(reply.locator("details.tabot-source").first, "mode-seeking")
    toggle(demo, "What each check compares")
    demo.locator("> summary").click()
    toggle(demo.locator("details.tabot-what"), "closed form")
    numbers = page.evaluate(SQUEEZED_NUMBERS_JS)
    assert numbers["checked"] >= 10 and numbers["bad"] == [] and numbers["pageWidth"] <= SIZES[size][0], numbers
    plot = demo.locator("img.tabot-plot")
    plot.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    assert "Plot drawn by demo kl_asymmetry" in plot.get_attribute("alt")
    assert plot.bounding_box()["width"] >= 0.8 * min(SIZES[size][0] - 60, 720)  # a readable size, not 30vw
    demo.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, f"demo-open-{size}")


@pytest.mark.slow
def test_every_demo_table_fits_a_360_px_phone(server, browser):
    page = open_chat(browser, server[0], "small")
    for question in (KL, "are adagrad and rmsprop momentum methods?", "softmax with 2 outputs vs sigmoid?"):
        for summary in ask(page, question).locator("details.tabot-demo > summary").all():
            summary.click()
    numbers = page.evaluate(SQUEEZED_NUMBERS_JS)
    assert numbers["checked"] >= 30 and numbers["bad"] == [] and numbers["pageWidth"] <= SMALL_PHONE[0], numbers


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_a_declined_question_says_so_in_view(server, browser, size):
    page = open_chat(browser, server[0], size)
    reply = ask(page, DECLINED)
    assert assert_first_sentence_in_view(reply).startswith("I couldn't find a TA answer")
    assert "Closest topics I can answer" in reply.inner_text()
    assert reply.locator("details").count() == 0
    shot(page, f"declined-{size}")


@pytest.mark.slow
def test_an_unsure_answer_says_so_before_the_answer_on_a_phone(server, browser, monkeypatch):
    from bot.answering import compose

    monkeypatch.setattr(compose, "UNSURE_BELOW", 1.01)  # the app runs in this process: every answer is unsure
    page = open_chat(browser, server[0], "phone")
    assert_notice_then_answer_in_view(ask(page, KL), "ℹ️ This is the closest TA answer I have")
    shot(page, "unsure-phone")


# A post pasted with its context, as a student copies it from the forum: the question is its last line.
LONG_POST = ("Hi all, for the autograd homework my backward() walks the graph with a queue, starting at the loss "
             "and appending each node's parents as it goes. On a graph where one node feeds two others, the first "
             "node's gradient comes out too small, while on a chain everything matches finite differences. "
             "Someone on the forum said the visiting order matters. Why isn't a breadth-first visit enough here?")


@pytest.mark.slow
def test_a_long_post_says_which_question_it_answers_with_the_answer_in_view_on_a_phone(server, browser):
    page = open_chat(browser, server[0], "phone")
    assert_notice_then_answer_in_view(ask(page, LONG_POST), "ℹ️ The question I found in your message: “Why isn't")
    shot(page, "long-post-phone")


@pytest.mark.slow
def test_a_closest_topic_under_a_decline_is_one_click_from_its_answer(server, browser):
    page = open_chat(browser, server[0], "phone")
    ask(page, DECLINED)
    topics = page.locator("#chat button.option")
    assert topics.count() >= 1
    before = page.locator(BOT).count()
    topics.first.click()
    page.wait_for_function("n => document.querySelectorAll('#chat [data-tabot-shown]').length > n", arg=before)
    reply = page.locator(BOT).nth(before)
    assert "I couldn't find a TA answer" not in reply.inner_text() and reply.locator(".tabot-source").count() >= 1
    shot(page, "closest-topic-clicked")


@pytest.mark.slow
def test_run_it_yourself_downloads_a_script_that_runs_with_numpy_alone(server, browser, tmp_path):
    page = open_chat(browser, server[0], "phone")
    demo = ask(page, KL).locator("details.tabot-demo").first
    demo.locator("> summary").click()
    with page.expect_download() as download:
        demo.locator("a.tabot-download").click()
    assert download.value.suggested_filename == "kl_asymmetry.py"
    (tmp_path / "run").mkdir()
    download.value.save_as(tmp_path / "run" / "kl_asymmetry.py")
    python = numpy_only_python(tmp_path / "venv")
    done = run_clean(python, ["kl_asymmetry.py"], tmp_path / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "all checks passed" in done.stdout and "kl_asymmetric" in done.stdout


@pytest.mark.slow
def test_thumbs_are_reachable_by_keyboard_and_reach_the_database(server, browser):
    url, store = server
    page = open_chat(browser, url, "phone")
    ask(page, KL)
    seen = {r["id"] for r in store.rows()}  # the database is shared with other tests of the session
    page.fill("#comment textarea", "the plot helped")
    page.focus("#question textarea")
    for _ in range(40):  # backwards from the question box, through the reply's controls
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Like":
            break
    else:
        pytest.fail("👍 cannot be reached with the keyboard")
    page.keyboard.press("Enter")
    page.locator("#feedback-status").get_by_text("Thanks").wait_for()
    rows = [r for r in store.rows() if r["id"] not in seen]
    assert [(r["rating"], r["channel"], r["comment"], r["question"], r["sources"][0]) for r in rows] == [
        (1, "web", "the plot helped", KL, "kl-asymmetry")]
    # 👎 is the next control: reachable the same way
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Dislike"
    # the demo's code, on request (the picker jumps to the latest answer's demo)
    page.get_by_text("Demo code").click()
    first_line = (PROJECT_ROOT / "demos" / "kl_asymmetry.py").read_text(encoding="utf-8").splitlines()[0]
    page.locator("#demo-code .cm-content").get_by_text(first_line[:40]).first.wait_for()


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_both_themes_are_legible(server, browser, theme):
    page = open_chat(browser, server[0], "phone", theme)
    reply = ask(page, KL)
    reply.locator("details.tabot-demo > summary").first.click()
    checked = {}
    for part in (".message-content p", ".tabot-label", "details.tabot-source > summary", "details.tabot-demo > summary",
                 ".tabot-table td.tabot-name", ".tabot-table td.tabot-val", ".tabot-lbl", ".tabot-run .tabot-muted",
                 "a.tabot-download"):
        element = reply.locator(part).first
        assert element.is_visible(), part
        checked[part] = round(element.evaluate(CONTRAST_JS), 2)
    assert min(checked.values()) >= 4.5, checked  # WCAG AA for body text
    assert echo_of(page).evaluate(CONTRAST_JS) >= 4.5
    page.locator(BOT).last.locator("details.tabot-demo > summary").first.click()  # closed again for the picture
    reply.scroll_into_view_if_needed()
    shot(page, f"answer-phone-{theme}")


@pytest.mark.slow
def test_script_and_img_onerror_in_a_question_render_as_text(server, browser):
    dialogs: list[str] = []
    page = open_chat(browser, server[0], dialogs=dialogs)
    assert "Topics I can answer" in page.inner_text("#chat")  # the start screen
    assert "forum" in ask(page, ATTACK).inner_text()
    page.wait_for_timeout(500)  # give any injected handler a moment to fire
    assert echo_of(page).inner_text() == ATTACK  # shown literally
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator('#chat img[src="x"]').count() == 0
    assert page.locator("#chat script").count() == 0
    assert page.locator(f"{USER} b").count() == 0
    shot(page, "injection")


@pytest.mark.slow
def test_markdown_and_maths_typed_by_a_student_stay_plain_text(server, browser):
    page = open_chat(browser, server[0])
    ask(page, MARKDOWN)
    echo = echo_of(page)
    assert echo.inner_text() == MARKDOWN
    for rendered in ("h1", "table", "a", "em", ".katex"):
        assert echo.locator(rendered).count() == 0, rendered
