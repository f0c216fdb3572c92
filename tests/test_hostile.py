"""The hostile corpus of issue 12 (tests/data/hostile.jsonl, written by tests/data/make_hostile.py)
through every face, with the real engine (MiniLM, Chroma, the committed knowledge):

- the batch CLI, `tabot ask --batch FILE --json`, in a real subprocess: no traceback, exactly one
  JSON record per input line, each one parsing, with its id echoed; also a raw file no JSON writer
  would produce (a BOM, Latin-1 lines, malformed and over-long lines, raw NULs, CRLF);
- the browser chat's handler `WebChat.respond`: the user's echo is plain text (no tag, no Markdown
  construct renders), and the reply renders no HTML the user wrote;
- the Discord renderer `render_answer` (and `thread_name`): no ping survives, every message fits
  Discord's limits; and the mention class through discord.py's own parsers and command tree over
  the faked HTTP layer of tests/test_discord_wire.py: `allowed_mentions` parses nothing.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.webhook.async_ import AsyncWebhookAdapter
from markdown_it import MarkdownIt

from bot.answering.guard import EMPTY_MESSAGE
from bot.faces.batch import MAX_LINE_BYTES
from bot.faces.discord.render import OutgoingMessage, render_answer
from bot.faces.discord.text import MESSAGE_LIMIT, THREAD_NAME_LIMIT, thread_name
from bot.faces.web import ECHO_CHARS, WebChat
from bot.faces.web_files import PublicFiles
from bot.feedback import FeedbackStore
from bot.schema import Answer
from tests.test_discord_wire import BOT, FakeDiscordAPI, assert_never_pings, mention, settle, slash_ask, started_bot

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "hostile.jsonl"
ISSUE_CLASSES = {"empty", "huge", "binary", "control", "surrogate", "separator", "bom", "bidi", "emoji", "html",
                 "markdown", "mention", "injection", "many_parts", "latin1", "long_word"}
# The only refusals a hostile line may get: what the guard says of an empty or non-text question.
REFUSALS = (EMPTY_MESSAGE, "I could not find any words in your message.", "Please send your question as text.")
ANSWER_KEYS = {"question", "answer", "abstained", "sources", "demos", "backend", "timings_ms"}
# A ping, as Discord parses one: @everyone / @here (no word boundary after them: `@everyone_x` pings),
# a user (<@1>, <@!1>) or a role (<@&1>). Case-insensitive, to be strict.
PING = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>", re.IGNORECASE)
# An independent CommonMark renderer with raw HTML *enabled*, as in tests/test_render.py.
MD = MarkdownIt("commonmark", {"html": True}).enable("table")


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_hostile", DATA / "make_hostile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_hostile = _generator()


def load_corpus() -> list[dict[str, Any]]:
    # Split on "\n" only: a question may hold a raw U+2028, which str.splitlines would split at.
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").split("\n") if line]


CORPUS_ITEMS = load_corpus()


def test_the_corpus_is_what_its_script_writes_and_covers_every_class_of_the_issue() -> None:
    raw = CORPUS.read_bytes()
    assert raw == make_hostile.build(), "rerun: python tests/data/make_hostile.py"
    items = CORPUS_ITEMS
    assert len(items) >= 250
    assert len({item["id"] for item in items}) == len(items)
    assert all(set(item) == {"id", "question", "class"} for item in items)
    assert ISSUE_CLASSES <= {item["class"] for item in items}
    questions = [item["question"] for item in items if isinstance(item["question"], str)]
    assert make_hostile.MANY_PARTS in questions  # issue 12 #1, verbatim
    assert max(len(q) for q in questions) >= 100_000
    # The bytes a student's paste would carry: raw U+2028/U+2029 and C1 controls, lone surrogates as escapes.
    assert "\u2028".encode() in raw and "\u2029".encode() in raw and "\x85".encode() in raw
    assert b'\\ud800"' in raw and "\ud800" in questions
    for needle in ("@everyone", "@here", "@everyone_x", "<@123>", "<@&456>", "<#789>", "\ufeff", "\u202e",
                   "<iframe", "onerror=", "javascript:", "$$", "| a | b |", "Ignore previous instructions",
                   "SYSTEM", "system prompt", "\x00"):
        assert any(needle in q for q in questions), needle


# --- (a) the batch CLI, in a subprocess ------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_env(tabot, session_settings, tmp_path_factory) -> dict[str, str]:
    """Environment for a `tabot` subprocess on a copy of the session's built index (the exported
    model linked, not copied), so no Chroma folder is open in two processes at once."""
    source = session_settings.data_dir
    data = tmp_path_factory.mktemp("hostile-cli") / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("models", "public", "feedback.sqlite3*"))
    if (source / "models").is_dir():
        (data / "models").symlink_to(source / "models", target_is_directory=True)
    env = dict(os.environ)
    env["TABOT_DATA_DIR"] = str(data)
    return env


def run_batch_cli(path: Path, env: dict[str, str]) -> tuple[int, list[str], str]:
    """(exit status, stdout lines, stderr) of `tabot ask --batch PATH --json`."""
    tabot = Path(sys.executable).parent / "tabot"
    done = subprocess.run([str(tabot), "ask", "--batch", str(path), "--json"], env=env, capture_output=True,
                          timeout=900)
    out = done.stdout.decode("utf-8")  # strict: the output must be valid UTF-8
    assert out.endswith("\n") or not out
    # "\n" only: an answer may carry a raw U+2028 inside a JSON string.
    return done.returncode, out.split("\n")[:-1], done.stderr.decode("utf-8", "replace")


def check_record(record: dict[str, Any], number: int) -> bool:
    """True for an answer, False for an error record; fails on anything else."""
    if "error" in record:
        assert set(record) == {"id", "line", "error"} and record["line"] == number, record
        error = record["error"]
        assert isinstance(error, str) and error and "\n" not in error and "internal error" not in error, record
        return False
    assert ANSWER_KEYS <= set(record), record
    assert isinstance(record["answer"], str) and isinstance(record["abstained"], bool)
    if not record["abstained"]:
        assert record["answer"].strip() and record["sources"], record
    return True


def summary_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("tabot: ")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


@pytest.mark.slow
def test_batch_cli_answers_every_hostile_line_without_a_traceback(cli_env) -> None:
    items = CORPUS_ITEMS
    status, lines, stderr = run_batch_cli(CORPUS, cli_env)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert len(lines) == len(items)  # 0 lost lines, none extra
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [item["id"] for item in items]
    answered = {item["id"]: check_record(r, n) for n, (item, r) in enumerate(zip(items, records, strict=True), 1)}
    errors = [r for r in records if "error" in r]
    # An error record only ever says what the guard says of an empty or non-text question, never "internal".
    assert all(r["error"].startswith(REFUSALS) for r in errors), [r for r in errors if not
                                                                   r["error"].startswith(REFUSALS)]
    by_class: dict[str, list[bool]] = {}
    for item in items:
        by_class.setdefault(item["class"], []).append(answered[item["id"]])
    assert not any(by_class["empty"]) and not any(by_class["non_text"])
    # A real question wrapped in hostile text is still answered from the TAs.
    for item, record in zip(items, records, strict=True):
        if item["class"] in ("plain", "wrapped"):
            assert answered[item["id"]] and not record["abstained"], item["id"]
        if item["class"] == "injection" and answered[item["id"]]:
            said = record["answer"] + " ".join(s.get("text", "") for s in record.get("sentences", []))
            assert make_hostile.CANARY not in said, item["id"]  # no injected instruction was followed
    assert sum(answered.values()) >= 200
    assert status == 1  # some lines got an error record, and the exit status says so
    assert f"{len(errors)} of {len(items)} lines" in summary_line(stderr)


def raw_batch(items: list[dict[str, Any]]) -> tuple[bytes, list[tuple[Any, bool]]]:
    """A file only a clumsy tool writes, and the (id, answered?) record expected for each line."""
    by_id = {item["id"]: item for item in items}

    def line(item_id: str) -> bytes:
        return json.dumps({"id": item_id, "question": by_id[item_id]["question"]}).encode()

    data = b"\xef\xbb\xbf" + line("plain-000") + b"\n"  # a BOM before the first line
    expected: list[tuple[Any, bool]] = [("plain-000", True)]
    # Latin-1 lines (the corpus's own latin1 questions, as a Windows editor would save them): a line is
    # answered only if its bytes happen to be valid UTF-8 (Latin-1 "Ã©" is UTF-8 "é"), else an error record.
    for item in items:
        text = json.dumps({"id": item["id"], "question": item["question"]}, ensure_ascii=False)
        if item["class"] != "latin1" or any(ord(ch) > 0xFF for ch in text):
            continue
        encoded = text.encode("latin-1")
        try:
            question = json.loads(encoded.decode("utf-8"))["question"]
        except UnicodeDecodeError:
            question = None
        data += encoded + b"\n"
        expected.append((item["id"], question is not None and any(ch.isalnum() for ch in question)))
    data += b"\n   \n\t\n"  # blank lines: no record
    malformed = [(b'{"id": "broken", "question": "unterminated', None), (b"not json at all", None),
                 (b"[1, 2, 3]", None), (b'{"id": "noq"}', "noq"), (b'{"id": "nan", "question": NaN}', None),
                 (b'{"id": "bad-utf8", "question": "why \xff\xfe KL divergence"}', "bad-utf8"),
                 (b'{"id": "too-long", "question": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}', None),
                 (b'{"id": "deep", "question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None)]
    for raw, item_id in malformed:
        data += raw + b"\n"
        expected.append((item_id, False))
    # Raw control characters inside a string (not valid strict JSON), a CRLF line, a raw U+2028.
    data += b'{"id": "raw-ctl", "question": "why\x00is\x01KL divergence\x1b[31m not symmetric"}\n'
    data += b'{"id": "crlf", "question": "what is the derivative of softmax"}\r\n'
    data += '{"id": "raw-sep", "question": "which log base\u2028should I use"}\n'.encode()
    data += line("plain-001")  # no newline at the end of the file
    expected += [("raw-ctl", True), ("crlf", True), ("raw-sep", True), ("plain-001", True)]
    return data, expected


@pytest.mark.slow
def test_batch_cli_survives_a_raw_file_with_a_bom_latin1_and_malformed_lines(cli_env, tmp_path: Path) -> None:
    data, expected = raw_batch(CORPUS_ITEMS)
    assert sum(1 for item_id, _ in expected if str(item_id).startswith("latin1")) >= 5
    path = tmp_path / "raw.jsonl"
    path.write_bytes(data)
    status, lines, stderr = run_batch_cli(path, cli_env)
    assert "Traceback" not in stderr, stderr[-3000:]
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [item_id for item_id, _ in expected]
    answered = ["error" not in r for r in records]
    assert answered == [ok for _, ok in expected], [(r["id"], r.get("error")) for r in records]
    assert all(r["sources"] and not r["abstained"] for r in records if r["id"] in ("plain-000", "crlf", "plain-001"))
    assert status == 1
    summary = summary_line(stderr)
    assert f"{answered.count(False)} of {len(records)} lines" in summary and "Latin-1" in summary


# --- (b) the browser chat's handler, with the real engine ------------------------------------------

@pytest.fixture(scope="module")
def web_turns(tabot, tmp_path_factory) -> list[tuple[dict[str, Any], Any, Any]]:
    """Each corpus item asked in a fresh browser session: (item, history or the traceback, conversation)."""
    folder = tmp_path_factory.mktemp("hostile-web")
    chat = WebChat(tabot, FeedbackStore(folder / "feedback.sqlite3"), PublicFiles(folder / "public"))
    turns = []
    for item in CORPUS_ITEMS:
        try:
            history, state, box, _picker = chat.respond(item["question"], [], None)
            assert box == ""
            turns.append((item, history, state))
        except Exception:
            turns.append((item, traceback.format_exc(), None))
    return turns


class Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


# What an answer card is made of (bot/faces/render.py, bot/faces/cards.py); `ol`: a TA sentence that
# starts "2) ..." renders as a list. Anything else in a reply came from somewhere it should not.
CARD_TAGS = {"p", "span", "b", "i", "em", "strong", "code", "br", "ul", "ol", "li", "blockquote", "details",
             "summary", "div", "table", "thead", "tbody", "tr", "th", "td", "a", "img"}
PUBLISHED = "gradio_api/file="


def unsafe_markup(html: str, allowed: set[str]) -> list[str]:
    problems = []
    for tag, attrs in Tags(html).tags:
        if tag not in allowed:
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "action"):
                problems.append(f"<{tag} {name}>")
            if name in ("href", "src") and not (value or "").startswith(PUBLISHED):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


def shown_echo(question: object) -> str:
    text = question if isinstance(question, str) else ""
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + f"… ({len(text):,} characters)"


def test_chat_handler_echoes_hostile_text_as_text_and_renders_no_user_html(web_turns) -> None:
    crashed = [(item["id"], history) for item, history, _ in web_turns if isinstance(history, str)]
    assert not crashed, crashed[:3]
    problems: dict[str, list[str]] = {}
    answered = 0
    for item, history, state in web_turns:
        assert [m["role"] for m in history] == ["user", "assistant"], item["id"]
        echo, reply = history[0]["content"], history[1]["content"]
        assert isinstance(echo, str) and isinstance(reply, str) and reply.strip(), item["id"]
        # The echo: one <pre>, exactly the characters typed (shortened past ECHO_CHARS), no tag inside.
        assert echo.startswith('<pre class="tabot-echo">') and echo.endswith("</pre>"), item["id"]
        inner = echo.removeprefix('<pre class="tabot-echo">').removesuffix("</pre>")
        assert "<" not in inner, item["id"]
        assert inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == shown_echo(item["question"])
        found = [f"echo: {p}" for p in unsafe_markup(MD.render(echo), {"pre"})]
        assert MD.render(echo).count("<pre") == 1, item["id"]  # headings, tables, links... never start
        # The reply, alone and under the echo as the chat shows them: only the card's own markup.
        found += [f"reply: {p}" for p in unsafe_markup(MD.render(reply), CARD_TAGS)]
        together = MD.render(echo + "\n\n" + reply)
        found += [f"together: {p}" for p in unsafe_markup(together, CARD_TAGS | {"pre"})]
        if together.count("<pre") != 1:
            found.append("together: the echo's <pre> did not stay one block")
        if found:
            problems[item["id"]] = found
        answered += state.previous is not None and not state.previous.abstained
    assert not problems, problems
    assert answered >= 19  # the plain and wrapped questions at least: real cards were rendered


# --- (c) the Discord renderer ----------------------------------------------------------------------

def discord_problems(messages: list[OutgoingMessage]) -> list[str]:
    """Pings and Discord limit violations in what would be sent."""
    found = []
    for message in messages:
        texts = [message.content] + [json.dumps(e.to_dict(), ensure_ascii=False) for e in message.embeds]
        found += [f"ping {m.group()!r}" for text in texts for m in PING.finditer(text)]
        if len(message.content) > MESSAGE_LIMIT:
            found.append(f"content of {len(message.content)} characters")
        if len(message.embeds) > 10 or sum(len(e) for e in message.embeds) > 6000:
            found.append(f"{len(message.embeds)} embeds of {sum(len(e) for e in message.embeds)} characters")
        for embed in message.embeds:
            if len(embed.title or "") > 256 or len(embed.description or "") > 4096 or len(embed.fields) > 25:
                found.append("an embed over a per-part limit")
        if not message.content and not message.embeds:
            found.append("an empty message")
    return found


def test_discord_renderer_pings_no_one_and_fits_discord(web_turns) -> None:
    problems: dict[str, list[str]] = {}
    rendered = 0
    for item, _history, state in web_turns:
        question = item["question"]
        found: list[str] = []
        answer = state.previous if state is not None else None
        if answer is not None:  # the real answer, as /ask (question quoted) and a mention reply show it
            found += discord_problems(render_answer(answer, echo_question=True))
            found += discord_problems(render_answer(answer))
            rendered += 1
        if isinstance(question, str):
            # Worst case: an answer that repeats the user's words (as an LLM backend might), in the
            # text, the quoted question and a notice.
            parrot = Answer(question=question, answer=question, abstained=False, notices=[question])
            found += discord_problems(render_answer(parrot, echo_question=True))
            name = thread_name(question)
            if PING.search(name) or not name or len(name) > THREAD_NAME_LIMIT:
                found.append(f"thread name {name!r}")
        if found:
            problems[item["id"]] = sorted(set(found))
    assert not problems, problems
    assert rendered >= 200


class Engine:
    """The real engine, as the Discord bot sees its service (started_bot sets `reindex` on it)."""

    def __init__(self, tabot: Any) -> None:
        self.tabot = tabot

    def ask(self, question: object, previous: Answer | None = None) -> Answer:
        return self.tabot.ask(question, previous)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscordAPI:
    fake = FakeDiscordAPI()
    monkeypatch.setattr(AsyncWebhookAdapter, "request", fake.webhook)
    return fake


MENTION_ITEMS = [item for item in CORPUS_ITEMS if item["class"] == "mention"
                 or (item["class"] == "wrapped" and "@" in item["question"])]


@pytest.mark.parametrize("via", ["slash", "mention"])
def test_mentions_through_discord_py_send_with_no_mentions_allowed(tabot, tmp_path: Path, api: FakeDiscordAPI,
                                                                   via: str) -> None:
    async def body() -> None:
        for item in MENTION_ITEMS:
            calls = len(api.calls)
            bot = await started_bot(tmp_path / item["id"], api, Engine(tabot))  # a fresh bot: no rate limit hit
            try:
                if via == "slash":
                    bot._connection.parse_interaction_create(slash_ask(item["question"]))
                else:
                    bot._connection.parse_message_create(mention(f"<@{BOT}> {item['question']}"))
                await settle()
            finally:
                await bot.close()
            assert len(api.sent()) and len(api.calls) > calls, item["id"]

    for item in MENTION_ITEMS:
        (tmp_path / item["id"]).mkdir()
    asyncio.run(body())
    assert_never_pings(api)
    # Thread names and every other payload too, not only the messages.
    pings = [(c.path, m.group()) for c in api.calls for m in PING.finditer(json.dumps(c.payload, ensure_ascii=False))]
    assert not pings, pings[:5]
    assert not any(isinstance(c.payload.get("allowed_mentions"), dict) and c.payload["allowed_mentions"].get("parse")
                   for c in api.calls)


def test_ping_pattern_catches_what_discord_parses() -> None:
    # The checks above are only as good as this pattern: it must see the pings of the issue.
    for text in ("@everyone", "@here", "@everyone_x", "@here123", "<@123>", "<@!123>", "<@&456>", "x@Everyone"):
        assert PING.search(text), text
    for text in ("@\u200beveryone", "<@\u200b123>", "<#789>", "@ everyone", "@\u200bhere"):
        assert not PING.search(text), text
    assert discord.utils.escape_mentions("@everyone") != "@everyone"  # discord.py agrees these are mentions
