"""The Discord bot driven through discord.py itself, with only the HTTP layer faked (issue 12 #11).

tests/test_discord.py drives the handlers with hand-made fakes; those fakes hid that the message
`followup.send` returns has no guild, so `/ask` never opened its thread. Here gateway events go
through discord.py's own parsers (`parse_interaction_create` -> the real command tree;
`parse_message_create` -> `on_message`) and every REST call the bot makes reaches `FakeDiscordAPI`,
which records the method, path and JSON payload and answers with what Discord would return (an
interaction follow-up message carries no `guild_id`, as on the real API).
"""

from __future__ import annotations

import asyncio
import json
import re
import types
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.config import Settings
from bot.conversation import FAILURE_TEXT
from bot.faces.discord.app import TabotDiscordBot
from bot.feedback import FeedbackStore
from bot.schema import Answer
from tests.fake_tabot import FakeTabot, tiny_png

GUILD, CHANNEL, BOT, APP, STUDENT = 700, 701, 702, 703, 704
_ids = count(900_000)
TIMESTAMP = "2026-01-01T00:00:00+00:00"


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "discriminator": "0", "global_name": name, "avatar": None,
            "bot": bot, "public_flags": 0}


def text_channel() -> dict[str, Any]:
    return {"id": str(CHANNEL), "type": 0, "guild_id": str(GUILD), "name": "questions", "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "rate_limit_per_user": 0, "flags": 0}


def message(mid: int, channel_id: int, content: str, author: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": str(mid), "channel_id": str(channel_id), "content": content, "author": author,
            "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
            "flags": 0, "components": [], **extra}


@dataclass
class Call:
    method: str
    path: str
    payload: dict[str, Any]


class FakeDiscordAPI:
    """Discord's REST API as far as the bot uses it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail: dict[str, BaseException] = {}  # path pattern -> what that call raises
        self.threads: list[dict[str, Any]] = []

    @staticmethod
    def _payload(json_body: Any, form: Any) -> dict[str, Any]:
        if json_body is not None:
            return dict(json_body)
        for part in form or []:  # multipart (a message with files): the JSON is the payload_json part
            if part.get("name") == "payload_json":
                return json.loads(part["value"])
        return {}

    async def http(self, route: Any, *, files: Any = None, form: Any = None, **kwargs: Any) -> Any:
        return self._answer(route, self._payload(kwargs.get("json"), form))

    async def webhook(self, route: Any, session: Any, *, payload: Any = None, multipart: Any = None,
                      **kwargs: Any) -> Any:
        return self._answer(route, self._payload(payload, multipart))

    def _answer(self, route: Any, payload: dict[str, Any]) -> Any:
        path = route.url.removeprefix(route.BASE)
        self.calls.append(Call(route.method, path, payload))
        for pattern, error in self.fail.items():
            if re.fullmatch(pattern, path):
                raise error
        bot_user = user(BOT, "tabot", bot=True)
        if path.endswith("/callback"):
            return {"interaction": {"id": path.split("/")[2], "type": 2, "response_message_loading": True}}
        if re.fullmatch(rf"/webhooks/{APP}/[^/]+", path):  # an interaction follow-up: no guild_id, as on Discord
            return message(next(_ids), CHANNEL, payload.get("content", ""), bot_user)
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            thread = {"id": str(next(_ids)), "type": 11, "guild_id": str(GUILD), "parent_id": match[1],
                      "owner_id": str(BOT), "name": payload["name"], "message_count": 0, "member_count": 1,
                      "rate_limit_per_user": 0, "flags": 0,
                      "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                          "archive_timestamp": TIMESTAMP, "locked": False}}
            self.threads.append(thread)
            return thread
        if match := re.fullmatch(r"/channels/(\d+)/messages", path):
            return message(next(_ids), int(match[1]), payload.get("content", ""), bot_user)
        raise AssertionError(f"unexpected call {route.method} {path}")

    def sent(self) -> list[Call]:
        """Every call that puts text in front of someone (messages and follow-ups)."""
        return [c for c in self.calls if c.method == "POST" and not c.path.endswith(("/callback", "/threads"))]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscordAPI:
    fake = FakeDiscordAPI()
    monkeypatch.setattr(AsyncWebhookAdapter, "request", fake.webhook)
    return fake


async def started_bot(tmp_path: Path, api: FakeDiscordAPI, service: Any = None) -> TabotDiscordBot:
    """The bot as `run()` builds it, connected to the fake API instead of Discord."""
    service = service or FakeTabot(plot_path=tiny_png(tmp_path / "kl.png"))
    service.reindex = lambda: "index: unchanged"
    bot = TabotDiscordBot(service=service, feedback=FeedbackStore(tmp_path / "feedback.sqlite3"),
                          settings=Settings(data_dir=tmp_path), sync_commands=False)
    bot.http.request = api.http  # type: ignore[method-assign]
    await bot._async_setup_hook()  # what login() does: the loop, the application id
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=user(BOT, "tabot", bot=True))
    state.application_id = APP
    await bot.setup_hook()
    # What the gateway's GUILD_CREATE would put in the cache: the server and its text channel.
    state._add_guild_from_data({"id": str(GUILD), "name": "course", "owner_id": str(STUDENT), "features": [],
                                "roles": [{"id": str(GUILD), "name": "@everyone", "permissions": "0", "position": 0,
                                           "color": 0, "hoist": False, "managed": False, "mentionable": False,
                                           "flags": 0}],
                                "channels": [text_channel()], "members": [], "emojis": [], "stickers": []})
    return bot


async def settle() -> None:
    """Wait for every task discord.py scheduled for the event (handlers, the command tree)."""
    for _ in range(50):
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if not tasks:
            return
        await asyncio.wait(tasks, timeout=30)


def slash_ask(question: str) -> dict[str, Any]:
    """An INTERACTION_CREATE for `/ask question:` in the guild's text channel."""
    return {"id": str(next(_ids)), "application_id": str(APP), "type": 2, "token": "interaction-token", "version": 1,
            "guild_id": str(GUILD), "channel_id": str(CHANNEL), "channel": text_channel(),
            "member": {"user": user(STUDENT, "student"), "roles": [], "joined_at": TIMESTAMP, "deaf": False,
                       "mute": False, "flags": 0, "permissions": "0"},
            "data": {"id": str(next(_ids)), "name": "ask", "type": 1,
                     "options": [{"name": "question", "type": 3, "value": question}]},
            "app_permissions": "0", "attachment_size_limit": 10 << 20, "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD)}, "context": 0}


def mention(content: str, channel_id: int = CHANNEL) -> dict[str, Any]:
    """A MESSAGE_CREATE from a student in the guild."""
    mentions = [user(BOT, "tabot", bot=True)] if f"<@{BOT}>" in content else []
    return message(next(_ids), channel_id, content, user(STUDENT, "student"), guild_id=str(GUILD), mentions=mentions,
                   member={"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0})


def assert_never_pings(api: FakeDiscordAPI) -> None:
    for call in api.sent():
        mentions = call.payload.get("allowed_mentions")
        assert mentions is not None and mentions["parse"] == [], call
        assert not mentions.get("users") and not mentions.get("roles") and not mentions.get("replied_user"), call
        assert "@everyone" not in json.dumps(call.payload) and "@here" not in json.dumps(call.payload), call


def run(body: Any) -> None:
    asyncio.run(body())


def test_slash_ask_opens_its_thread_on_the_answer(tmp_path: Path, api: FakeDiscordAPI) -> None:
    async def body() -> None:
        bot = await started_bot(tmp_path, api)
        try:
            bot._connection.parse_interaction_create(slash_ask("@everyone why is KL divergence not symmetric?"))
            await settle()
        finally:
            await bot.close()
        defer, followup, thread = api.calls[:3]
        assert defer.path.endswith("/callback")
        assert followup.path == f"/webhooks/{APP}/interaction-token" and "KL" in followup.payload["content"]
        # The thread starts on the follow-up message, created from the channel (issue 12 #11).
        assert re.fullmatch(rf"/channels/{CHANNEL}/messages/\d+/threads", thread.path)
        assert thread.payload["name"] == "@\u200beveryone why is KL divergence not symmetric?"
        assert all(FAILURE_TEXT not in json.dumps(c.payload) for c in api.calls)
        assert_never_pings(api)

    run(body)


def test_a_mention_is_answered_with_a_thread_and_follow_ups_there_keep_context(tmp_path: Path,
                                                                              api: FakeDiscordAPI) -> None:
    async def body() -> None:
        service = FakeTabot(plot_path=tiny_png(tmp_path / "kl.png"))
        bot = await started_bot(tmp_path, api, service)
        try:
            state = bot._connection
            state.parse_message_create(mention(f"<@{BOT}> why is KL divergence not symmetric? @here123"))
            await settle()
            reply, thread_call = api.calls[:2]
            assert reply.path == f"/channels/{CHANNEL}/messages"
            assert str(reply.payload["message_reference"]["channel_id"]) == str(CHANNEL)
            assert re.fullmatch(rf"/channels/{CHANNEL}/messages/\d+/threads", thread_call.path)
            # The gateway then announces the thread; a plain "why?" in it is a follow-up to the answer.
            state.parse_thread_create({**api.threads[0], "newly_created": True})
            state.parse_message_create(mention("why?", channel_id=int(api.threads[0]["id"])))
            await settle()
        finally:
            await bot.close()
        assert [q for q, _ in service.calls] == ["why is KL divergence not symmetric? @here123", "why?"]
        assert service.calls[1][1] is not None  # the previous answer went along
        assert api.calls[-1].path == f"/channels/{api.threads[0]['id']}/messages"
        assert_never_pings(api)

    run(body)


def long_answer(question: str, previous: Answer | None = None) -> Answer:
    return Answer(question, " ".join(f"Sentence number {i} of a long TA answer." for i in range(150)), False)


def ask_both_ways(bot: TabotDiscordBot, via: str, question: str) -> None:
    if via == "slash":
        bot._connection.parse_interaction_create(slash_ask(question))
    else:
        bot._connection.parse_message_create(mention(f"<@{BOT}> {question}"))


def answer_parts(api: FakeDiscordAPI) -> list[Call]:
    """What the student saw in the channel: follow-ups, or messages in the text channel itself."""
    where = (f"/webhooks/{APP}/interaction-token", f"/channels/{CHANNEL}/messages")
    return [c for c in api.sent() if c.path in where]


FORBIDDEN = discord.Forbidden(types.SimpleNamespace(status=403, reason="Forbidden"),
                              {"message": "Missing Permissions", "code": 50013})


@pytest.mark.parametrize("via", ["slash", "mention"])
@pytest.mark.parametrize("failure", [ConnectionResetError("reset by peer"), FORBIDDEN], ids=["reset", "forbidden"])
def test_a_thread_that_cannot_be_opened_never_turns_the_answer_into_an_error(tmp_path: Path, api: FakeDiscordAPI,
                                                                             failure: BaseException, via: str) -> None:
    # Issue 12 #11: a failure other than HTTPException/ValueError gave the answer *and then* FAILURE_TEXT.
    async def body() -> None:
        service = FakeTabot()
        service.ask = long_answer  # several messages: the rest must still arrive
        bot = await started_bot(tmp_path, api, service)
        api.fail[r"/channels/\d+/messages/\d+/threads"] = failure
        try:
            ask_both_ways(bot, via, "a long one")
            await settle()
        finally:
            await bot.close()
        parts = answer_parts(api)
        assert len(parts) >= 3 and parts == api.sent()  # everything where the answer started
        assert all(FAILURE_TEXT not in json.dumps(c.payload) for c in api.calls)
        assert " ".join(c.payload["content"] for c in parts).endswith(long_answer("q").answer)

    run(body)


@pytest.mark.parametrize("via", ["slash", "mention"])
def test_a_thread_that_refuses_messages_sends_the_rest_where_the_answer_started(tmp_path: Path, api: FakeDiscordAPI,
                                                                               via: str) -> None:
    async def body() -> None:
        service = FakeTabot()
        service.ask = long_answer
        bot = await started_bot(tmp_path, api, service)
        api.fail[r"/channels/9\d+/messages"] = FORBIDDEN  # the thread's id, never the text channel's (701)
        try:
            ask_both_ways(bot, via, "a long one")
            await settle()
        finally:
            await bot.close()
        assert api.threads  # the thread was opened, then refused the rest of the answer
        parts = answer_parts(api)
        assert len(parts) >= 3 and all(FAILURE_TEXT not in json.dumps(c.payload) for c in api.calls)
        assert " ".join(c.payload["content"] for c in parts).endswith(long_answer("q").answer)

    run(body)
