"""Discord front end, offline: hand-written fake interactions/messages record what the bot sends.

No gateway and no HTTP: handlers are called directly (slash commands through the registered
command's callback, mentions through `on_message`, buttons through the dynamic item's callback).
"""

from __future__ import annotations

import asyncio
import logging
import types
from dataclasses import dataclass, field, replace
from itertools import count
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.config import RateLimit, Settings
from bot.conversation import FAILURE_TEXT
from bot.errors import ConfigError
from bot.faces.discord import app as discord_app
from bot.faces.discord.app import NO_MENTIONS, TabotDiscordBot, is_staff
from bot.faces.discord.limits import SlidingWindow
from bot.faces.discord.render import EMBED_TOTAL_LIMIT, FIELD_COUNT_LIMIT, FIELD_VALUE_LIMIT, pack_embeds, render_answer
from bot.faces.discord.text import (
    MESSAGE_LIMIT,
    ZWSP,
    as_read,
    neutralise,
    split_text,
    thread_name,
    to_discord_markdown,
)
from bot.faces.discord.views import FeedbackButton, TopicButton
from bot.feedback import FeedbackStore
from bot.schema import Answer, CheckResult, DemoAttachment, Source, Verdict
from tests.fake_tabot import KL_QUESTION, LOG_QUESTION, FakeTabot, abstain_answer, kl_answer, tiny_png

BOT_ID = 999_000_000_000_000_001
_ids = count(1000)


# --- fakes --------------------------------------------------------------------------------------

class FakeService(FakeTabot):
    """The shared fake answer engine plus `reindex()`, which can be told to fail."""

    def __init__(self, plot_path: Path | None = None) -> None:
        super().__init__(plot_path)
        self.reindexed = 0

    def reindex(self) -> str:
        self.reindexed += 1
        return f"index: 1 added, 0 updated, 0 removed, 9 unchanged - run {self.reindexed}"


STAFF_ROLE_ID = 555_000_000_000_000_001


@dataclass
class Role:
    name: str
    id: int = field(default_factory=lambda: next(_ids))


@dataclass
class Perms:
    administrator: bool = False


@dataclass
class User:
    id: int = field(default_factory=lambda: next(_ids))
    bot: bool = False
    roles: list[Role] = field(default_factory=list)
    guild_permissions: Perms = field(default_factory=Perms)


@dataclass
class Sent:
    where: str  # "channel:<id>", "reply", "followup", "response"
    content: str | None
    kwargs: dict[str, Any]


class Recorder:
    """Everything the bot sent, in order, across channels, threads and interactions."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.threads: list[FakeChannel] = []
        self.threads_allowed = True  # False: as without the Create Public Threads permission

    def add(self, where: str, content: str | None, kwargs: dict[str, Any]) -> None:
        self.sent.append(Sent(where, content, kwargs))

    @property
    def texts(self) -> list[str]:
        return [s.content or "" for s in self.sent]


class FakeChannel:
    def __init__(self, rec: Recorder, kind: discord.ChannelType = discord.ChannelType.text,
                 parent_id: int | None = None, owner_id: int | None = None) -> None:
        self.rec, self.type, self.parent_id, self.owner_id = rec, kind, parent_id, owner_id
        self.id = next(_ids)

    async def send(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        self.rec.add(f"channel:{self.id}", content, kwargs)
        return FakeMessage(self.rec, content or "", User(BOT_ID, bot=True), self)

    async def create_thread(self, *, name: str, message: Any = None, **kwargs: Any) -> FakeChannel:
        if not self.rec.threads_allowed:
            response = types.SimpleNamespace(status=403, reason="Forbidden")
            raise discord.Forbidden(response, {"message": "Missing Permissions", "code": 50013})
        thread = FakeChannel(self.rec, discord.ChannelType.public_thread, parent_id=self.id, owner_id=BOT_ID)
        thread.name, thread.starter_id = name, message.id
        self.rec.threads.append(thread)
        return thread


class FakeMessage:
    def __init__(self, rec: Recorder, content: str, author: User, channel: FakeChannel,
                 guild: object | None = "guild", mentions: list[User] | None = None) -> None:
        self.rec, self.content, self.author, self.channel = rec, content, author, channel
        self.guild = guild
        self.mentions = mentions or []
        self.id = next(_ids)
        self.reference: Any = None  # a reply's `discord.MessageReference`, `resolved` to what it replies to
        self.attachments: list[Any] = []
        self.message_snapshots: list[Any] = []  # what a forwarded message forwards

    async def reply(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        self.rec.add("reply", content, kwargs)
        return FakeMessage(self.rec, content or "", User(BOT_ID, bot=True), self.channel)


class FakeResponse:
    def __init__(self, rec: Recorder) -> None:
        self.rec, self.done, self.deferred = rec, False, None

    def is_done(self) -> bool:
        return self.done

    async def defer(self, **kwargs: Any) -> None:
        assert not self.done, "responded twice"
        self.done, self.deferred = True, kwargs

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        assert not self.done, "responded twice"
        self.done = True
        self.rec.add("response", content, kwargs)


class FakeFollowup:
    def __init__(self, interaction: FakeInteraction) -> None:
        self.interaction = interaction

    async def send(self, content: str | None = None, *, wait: bool = False, **kwargs: Any) -> FakeMessage | None:
        assert self.interaction.response.done, "a followup needs a response (or defer) first"
        self.interaction.rec.add("followup", content, kwargs)
        message = FakeMessage(self.interaction.rec, content or "", User(BOT_ID, bot=True), self.interaction.channel)
        return message if wait else None


class FakeInteraction:
    def __init__(self, rec: Recorder, bot: TabotDiscordBot, user: User | None = None,
                 channel: FakeChannel | None = None, guild: object | None = "guild") -> None:
        self.rec, self.client = rec, bot
        self.user = user or User()
        self.channel = channel or FakeChannel(rec)
        self.channel_id = self.channel.id
        self.guild = guild
        self.response = FakeResponse(rec)
        self.followup = FakeFollowup(self)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    bot: TabotDiscordBot
    service: FakeService
    store: FeedbackStore
    clock: Clock
    rec: Recorder = field(default_factory=Recorder)

    def interaction(self, **kwargs: Any) -> FakeInteraction:
        return FakeInteraction(self.rec, self.bot, **kwargs)

    async def ask(self, question: str, **kwargs: Any) -> FakeInteraction:
        interaction = self.interaction(**kwargs)
        command = self.bot.tree.get_command("ask")
        await command.callback(self.bot.get_cog("TabotCommands"), interaction, question=question)
        return interaction

    async def reindex(self, **kwargs: Any) -> FakeInteraction:
        interaction = self.interaction(**kwargs)
        command = self.bot.tree.get_command("reindex")
        await command.callback(self.bot.get_cog("TabotCommands"), interaction)
        return interaction

    def message(self, content: str, *, channel: FakeChannel | None = None, author: User | None = None,
                guild: object | None = "guild", mentions: list[User] | None = None) -> FakeMessage:
        return FakeMessage(self.rec, content, author or User(), channel or FakeChannel(self.rec), guild, mentions)


def harness(tmp_path: Path, service: Any = None, **settings: Any) -> Harness:
    """Build the bot as `run()` does, minus the gateway; call inside a running event loop."""
    service = service or FakeService(plot_path=tiny_png(tmp_path / "kl.png"))
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    clock = Clock()
    bot = TabotDiscordBot(service=service, feedback=store, settings=Settings(data_dir=tmp_path, **settings),
                          clock=clock, sync_commands=False)
    bot._connection.user = User(BOT_ID, bot=True)  # what the gateway's READY would set
    return Harness(bot, service, store, clock)


def scenario(tmp_path: Path, body: Any, service: Any = None, **settings: Any) -> Harness:
    async def main() -> Harness:
        h = harness(tmp_path, service, **settings)
        await h.bot.setup_hook()
        try:
            await body(h)
        finally:
            await h.bot.close()
        return h
    return asyncio.run(main())


def assert_no_pings(sent: list[Sent]) -> None:
    for s in sent:
        mentions = s.kwargs.get("allowed_mentions")
        assert mentions is NO_MENTIONS or (
            mentions is not None and not mentions.everyone and not mentions.users and not mentions.roles
            and not mentions.replied_user), s


# --- slash command and mention --------------------------------------------------------------------

def test_ask_renders_answer_with_sources_demo_plot_and_opens_thread(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        interaction = await h.ask("why is KL divergence not symmetric?")
        assert interaction.response.deferred == {"thinking": True}
        first = h.rec.sent[0]
        assert first.where == "followup"
        assert first.content.startswith("> why is KL divergence not symmetric?")  # Discord hides the option
        assert "`KL(p‖q)`" in first.content  # LaTeX shown as code, not eaten by markdown
        titles = [e.title for e in first.kwargs["embeds"]]
        assert titles[0] == f"[1] {KL_QUESTION}"
        assert titles[1] == "✅ Demo: kl_asymmetry"
        demo = first.kwargs["embeds"][1]
        assert [f.name for f in demo.fields[:2]] == ["✅ forward_ne_reverse", "✅ reverse_is_mode_seeking"]
        assert "`mu_reverse` = 2.987" in demo.fields[2].value
        assert "`grid`" not in demo.fields[2].value  # long arrays stay out of the card
        assert demo.image.url == "attachment://kl_asymmetry.png"
        assert [f.filename for f in first.kwargs["files"]] == ["kl_asymmetry.png"]
        assert {i.custom_id.split(":")[2] for i in first.kwargs["view"].children} == {"up", "down"}
        assert [t.name for t in h.rec.threads] == ["why is KL divergence not symmetric?"]
        assert h.bot._conversations[h.rec.threads[0].id].previous.sources[0].entry_id == "kl-asymmetry"
        assert_no_pings(h.rec.sent)

    scenario(tmp_path, body)


def test_mention_is_answered_in_a_reply_and_follow_up_in_thread_keeps_context(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        channel = FakeChannel(h.rec)
        await h.bot.on_message(h.message(f"<@{BOT_ID}> why is KL divergence not symmetric?", channel=channel))
        assert h.service.calls[-1] == ("why is KL divergence not symmetric?", None)  # mention stripped
        assert h.rec.sent[0].where == "reply" and h.rec.sent[0].kwargs["mention_author"] is False
        assert not h.rec.sent[0].content.startswith(">")  # a reply already shows the question
        thread = h.rec.threads[0]
        first_answer = h.bot._conversations[thread.id].previous

        # No mention needed inside the bot's thread; the previous answer goes along.
        await h.bot.on_message(h.message("why?", channel=thread))
        question, previous = h.service.calls[-1]
        assert question == "why?" and previous is first_answer
        assert h.rec.sent[-1].where == "reply" and "KL" in h.rec.sent[-1].content
        assert len(h.rec.threads) == 1  # no thread inside a thread
        assert h.bot._conversations[thread.id].previous is not first_answer  # context moves on to the latest answer

        # /ask inside the thread is a follow-up too.
        latest = h.bot._conversations[thread.id].previous
        await h.ask("why?", channel=thread)
        assert h.service.calls[-1][1] is latest
        assert h.rec.sent[-1].where == "followup" and len(h.rec.threads) == 1
        assert_no_pings(h.rec.sent)

    scenario(tmp_path, body)


def test_a_question_is_read_without_the_markup_discord_shows_as_pictures_names_and_spoilers(tmp_path: Path) -> None:
    emoji, ta, channel_link = "<:thonk:123456789012345678>", "<@223456789012345678>", "<#323456789012345678>"

    async def body(h: Harness) -> None:
        await h.bot.on_message(h.message(f"<@{BOT_ID}> {emoji} ||why is KL not symmetric?|| asked {ta} in "
                                         f"{channel_link} <t:1764950400:R> <a:cry:423456789012345678>",
                                         channel=FakeChannel(h.rec)))
        assert " ".join(h.service.calls[-1][0].split()) == "why is KL not symmetric? asked in"
        await h.ask(f"KL(p||q) vs KL(q||p) {emoji}, and see </ask:523456789012345678>")
        assert " ".join(h.service.calls[-1][0].split()) == "KL(p||q) vs KL(q||p) , and see /ask"
        # A mention with nothing but pictures after it asks nothing.
        await h.bot.on_message(h.message(f"<@{BOT_ID}> {emoji} {emoji}", channel=FakeChannel(h.rec)))
        assert h.rec.sent[-1].content == discord_app.EMPTY_MENTION and len(h.service.calls) == 2

    scenario(tmp_path, body)


def test_a_reply_that_mentions_the_bot_is_read_with_the_message_it_replies_to(tmp_path: Path) -> None:
    classmates = "does anyone know why minimizing KL(q||p) <:thonk:123456789012345678> locks onto one mode?"
    seen = "does anyone know why minimizing KL(q||p)   locks onto one mode?"

    async def body(h: Harness) -> None:
        channel = FakeChannel(h.rec)

        def reply(content: str, to: FakeMessage) -> FakeMessage:
            message = h.message(content, channel=channel)
            message.reference = types.SimpleNamespace(resolved=to)
            return message

        asked = h.message(classmates, channel=channel)
        # A reply with nothing but the mention asks the message it replies to.
        await h.bot.on_message(reply(f"<@{BOT_ID}>", asked))
        assert h.service.calls[-1][0] == seen
        assert h.rec.threads[-1].name == thread_name(seen)
        # Words of their own come under it, quoted, as a TA reads a reply.
        await h.bot.on_message(reply(f"<@{BOT_ID}> can you answer this?", asked))
        assert h.service.calls[-1][0] == f"> {seen}\n\ncan you answer this?"
        assert not h.rec.threads[-1].name.startswith(">")
        # A reply to a bot's message, or to one Discord did not send along, is read alone.
        bots = FakeMessage(h.rec, "An earlier answer about KL.", User(BOT_ID, bot=True), channel)
        await h.bot.on_message(reply(f"<@{BOT_ID}> why is KL not symmetric?", bots))
        assert h.service.calls[-1][0] == "why is KL not symmetric?"
        await h.bot.on_message(reply(f"<@{BOT_ID}> why is KL not symmetric?", None))
        assert h.service.calls[-1][0] == "why is KL not symmetric?"
        assert_no_pings(h.rec.sent)

    scenario(tmp_path, body)


def test_a_message_forwarded_into_the_bots_thread_asks_what_it_forwards(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.bot.on_message(h.message(f"<@{BOT_ID}> why is KL not symmetric?", channel=FakeChannel(h.rec)))
        thread = h.rec.threads[0]
        forwarded = h.message("", channel=thread)
        classmates = "is KL(q||p) mode seeking <:thonk:123456789012345678>"
        forwarded.message_snapshots = [types.SimpleNamespace(content=classmates, attachments=[])]
        await h.bot.on_message(forwarded)
        assert h.service.calls[-1][0] == "is KL(q||p) mode seeking"
        # A forwarded screenshot alone gets the note about attachments.
        picture = h.message("", channel=thread)
        picture.message_snapshots = [types.SimpleNamespace(content="", attachments=["kl.png"])]
        await h.bot.on_message(picture)
        assert h.rec.sent[-1].content == discord_app.ATTACHMENTS_NOT_READ and len(h.service.calls) == 2

    scenario(tmp_path, body)


def test_a_message_with_an_attachment_hears_that_only_its_text_was_read(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        channel = FakeChannel(h.rec)
        screenshot = h.message(f"<@{BOT_ID}> why is KL not symmetric here?", channel=channel)
        screenshot.attachments = [types.SimpleNamespace(filename="kl.png", content_type="image/png")]
        await h.bot.on_message(screenshot)
        assert h.service.calls[-1][0] == "why is KL not symmetric here?"
        assert discord_app.ATTACHMENTS_NOT_READ in h.rec.sent[0].content
        only = h.message(f"<@{BOT_ID}>", channel=channel)
        only.attachments = screenshot.attachments
        await h.bot.on_message(only)
        assert h.rec.sent[-1].content == discord_app.ATTACHMENTS_NOT_READ and len(h.service.calls) == 1
        # Without an attachment, no word about them.
        await h.bot.on_message(h.message(f"<@{BOT_ID}> why is KL not symmetric?", channel=channel))
        assert discord_app.ATTACHMENTS_NOT_READ not in h.rec.sent[-1].content
        assert_no_pings(h.rec.sent)

    scenario(tmp_path, body)


def test_as_read_leaves_code_and_bars_inside_expressions_as_written() -> None:
    assert as_read("code `a || b <:x:123456789012345678>` and ||hidden words||") == (
        "code `a || b <:x:123456789012345678>` and hidden words")
    assert as_read("KL(p||q) || (q||p)") == "KL(p||q) || (q||p)"
    assert as_read("<@!123> is not an id") == "<@!123> is not an id"


def test_long_answer_continues_in_the_thread_or_in_followups_without_one(tmp_path: Path) -> None:
    long_text = " ".join(f"Sentence number {i} of a long TA answer." for i in range(150))

    async def body(h: Harness) -> None:
        h.service.ask = lambda question, previous=None: Answer(question, long_text, False)
        await h.ask("a long one")
        thread = h.rec.threads[0]
        assert [s.where for s in h.rec.sent] == ["followup"] + [f"channel:{thread.id}"] * (len(h.rec.sent) - 1)
        assert len(h.rec.sent) >= 3 and all(len(t) <= MESSAGE_LIMIT for t in h.rec.texts)
        assert " ".join(h.rec.texts).endswith(long_text)
        assert "view" in h.rec.sent[0].kwargs and all("view" not in s.kwargs for s in h.rec.sent[1:])

        # Without the Create Public Threads permission the answer still arrives, as followups.
        h.rec.sent.clear()
        h.rec.threads_allowed = False
        await h.ask("a long one", user=User())
        assert len(h.rec.threads) == 1
        assert {s.where for s in h.rec.sent} == {"followup"} and len(h.rec.sent) >= 3

    scenario(tmp_path, body)


def test_thread_opened_before_a_restart_is_still_followed(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        old_thread = FakeChannel(h.rec, discord.ChannelType.public_thread, parent_id=1, owner_id=BOT_ID)
        await h.bot.on_message(h.message("what about KL?", channel=old_thread))
        assert h.service.calls == [("what about KL?", None)]  # answered, no context to carry

        stranger_thread = FakeChannel(h.rec, discord.ChannelType.public_thread, parent_id=1, owner_id=42)
        await h.bot.on_message(h.message("what about KL?", channel=stranger_thread))
        assert len(h.service.calls) == 1  # someone else's thread, no mention: not for us

    scenario(tmp_path, body)


def test_ignores_bots_unaddressed_messages_and_chat_to_others_in_its_thread(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.bot.on_message(h.message("what is KL divergence?"))
        await h.bot.on_message(h.message(f"<@{BOT_ID}> KL?", author=User(bot=True)))
        await h.bot.on_message(h.message("@everyone what is KL?"))  # @everyone is not a mention of the bot
        await h.bot.on_message(h.message(f"<@!{BOT_ID}>   "))
        assert h.rec.texts == [discord_app.EMPTY_MENTION]
        await h.ask("what is KL?")
        thread = h.rec.threads[0]
        alice = User()
        await h.bot.on_message(h.message(f"<@{alice.id}> thanks for asking!", channel=thread, mentions=[alice]))
        assert [q for q, _ in h.service.calls] == ["what is KL?"]

    scenario(tmp_path, body)


def test_abstention_reads_as_in_the_browser(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.ask("what is the capital of France?")
        text = h.rec.sent[0].content
        assert "couldn't find a TA answer" in text
        assert f"- *{discord.utils.escape_markdown(KL_QUESTION)}* (`kl-asymmetry`)" in text
        assert "course forum" in text
        assert "embeds" not in h.rec.sent[0].kwargs  # nothing cited, nothing to show as a source

    scenario(tmp_path, body)


def test_a_declines_closest_topics_are_buttons_that_ask_them(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.ask("what is the capital of France?")
        view = h.rec.sent[0].kwargs["view"]
        topics = [i for i in view.children if i.custom_id.startswith("tabot:topic:")]
        assert [t.custom_id for t in topics] == ["tabot:topic:kl-asymmetry", "tabot:topic:log-base"]
        assert topics[1].item.label == LOG_QUESTION
        assert len(topics[0].item.label) <= 80 and topics[0].item.label.endswith("…")  # clipped to Discord's limit
        sent = len(h.rec.sent)
        await topics[0].callback(h.interaction())
        # The click asked the entry's question, as /ask would: an answer with its source.
        assert h.service.calls[-1][0] == KL_QUESTION
        answer = h.rec.sent[sent:]
        assert "couldn't find a TA answer" not in answer[0].content and "embeds" in answer[-1].kwargs
        assert not any(i.custom_id.startswith("tabot:topic:") for i in answer[0].kwargs["view"].children)

        # A click routed after a restart, for an entry that has since gone: said so, to the clicker only.
        match = TopicButton.__discord_ui_compiled_template__.fullmatch("tabot:topic:no-such-entry")
        gone = await TopicButton.from_custom_id(h.interaction(), topics[0].item, match)
        await gone.callback(h.interaction())
        assert "no longer" in h.rec.sent[-1].content and h.rec.sent[-1].kwargs["ephemeral"]

    scenario(tmp_path, body)


def test_mentions_in_a_question_are_neutralised_and_never_allowed(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        question = "@everyone @here <@&123456789012345678> <@!222> <@333> why is KL not symmetric?"
        await h.ask(question)
        first = h.rec.sent[0]
        for raw in ("@everyone", "@here", "<@&1", "<@!2", "<@3"):
            assert raw not in first.content
        assert f"@{ZWSP}everyone" in first.content
        assert "@" + ZWSP + "here" in h.rec.threads[0].name and "@everyone" not in h.rec.threads[0].name
        await h.bot.on_message(h.message(f"<@{BOT_ID}> @everyone tell me about KL", channel=FakeChannel(h.rec)))
        assert h.rec.sent and all("@everyone" not in t for t in h.rec.texts)
        assert_no_pings(h.rec.sent)
        assert h.bot.allowed_mentions is NO_MENTIONS
        assert (NO_MENTIONS.everyone, NO_MENTIONS.users, NO_MENTIONS.roles, NO_MENTIONS.replied_user) == (
            False, False, False, False)

    scenario(tmp_path, body)


def test_dms_refused_by_default_and_answered_when_allowed(tmp_path: Path) -> None:
    async def refused(h: Harness) -> None:
        dm = FakeChannel(h.rec, discord.ChannelType.private)
        author = User()
        await h.bot.on_message(h.message("what is KL?", channel=dm, guild=None, author=author))
        await h.bot.on_message(h.message("what is KL?", channel=dm, guild=None, author=author))
        assert h.service.calls == []
        assert h.rec.texts == [discord_app.DM_REFUSAL]  # told once, not once per message
        interaction = await h.ask("what is KL?", guild=None, channel=dm)
        assert h.rec.sent[-1].where == "response" and h.rec.sent[-1].kwargs["ephemeral"] is True
        assert interaction.response.deferred is None and h.service.calls == []

    scenario(tmp_path, refused)

    async def allowed(h: Harness) -> None:
        dm = FakeChannel(h.rec, discord.ChannelType.private)
        await h.bot.on_message(h.message("what is KL?", channel=dm, guild=None))
        await h.bot.on_message(h.message("why?", channel=dm, guild=None))
        assert [q for q, _ in h.service.calls] == ["what is KL?", "why?"]
        assert h.service.calls[1][1] is not None  # a DM is one conversation
        assert h.rec.threads == []  # no threads in DMs

    scenario(tmp_path / "dm", allowed, discord_allow_dms=True)


@pytest.mark.slow
def test_real_service_answer_and_follow_up_through_discord(tmp_path: Path, tabot) -> None:
    """One end-to-end pass with the real `Tabot` (MiniLM, Chroma, verified demos)."""
    async def body(h: Harness) -> None:
        await h.ask("why is kl divergence not symmetric?")
        first = h.rec.sent[0]
        assert first.kwargs["embeds"][0].footer.text.startswith("TA answer · kl-asymmetry")
        demos = [e for s in h.rec.sent for e in s.kwargs.get("embeds", []) if "Demo: kl_asymmetry" in (e.title or "")]
        assert demos and demos[0].title.startswith("✅")  # the demo ran and passed on this code
        thread = h.rec.threads[0]
        before = len(h.rec.sent)
        await h.bot.on_message(h.message("why?", channel=thread))
        reply = h.rec.sent[before]
        assert reply.where == "reply" and "Answered as a follow-up" in reply.content
        assert reply.kwargs["embeds"][0].footer.text.startswith("TA answer · kl-asymmetry")
        # A real decline's first closest topic asks its entry's own question, which the bot answers.
        before = len(h.rec.sent)
        await h.ask("what is the capital of France?")
        topic = next(i for i in h.rec.sent[before].kwargs["view"].children if i.custom_id.startswith("tabot:topic:"))
        entry_id = topic.custom_id.removeprefix("tabot:topic:")
        assert h.service.entry_question(entry_id) == h.service.entries[entry_id].question
        assert h.service.entry_question("no-such-entry") is None
        before = len(h.rec.sent)
        await topic.callback(h.interaction())
        assert h.rec.sent[before].kwargs["embeds"][0].footer.text.startswith(f"TA answer · {entry_id}")
        await h.reindex(user=User(roles=[Role("TA", STAFF_ROLE_ID)]))  # nothing changed on disk: nothing re-embedded
        assert h.rec.sent[-1].content.startswith("Reindexed: index: 0 added, 0 updated, 0 removed, 9 unchanged")
        for s in h.rec.sent:
            assert len(s.content or "") <= MESSAGE_LIMIT
            assert sum(len(e) for e in s.kwargs.get("embeds", [])) <= EMBED_TOTAL_LIMIT
        assert_no_pings(h.rec.sent)

    scenario(tmp_path, body, service=tabot, discord_staff_role_id=STAFF_ROLE_ID)


# --- rate limits -----------------------------------------------------------------------------------

def test_sliding_window_counts_per_key_and_frees_up_as_hits_age() -> None:
    clock = Clock()
    window = SlidingWindow(RateLimit(2, 10.0), clock)
    assert window.retry_after("a") == 0
    window.hit("a")
    clock.now += 4
    window.hit("a")
    assert window.retry_after("a") == pytest.approx(6.0)
    assert window.retry_after("b") == 0
    clock.now += 6  # the first hit is now exactly 10 s old: out of the window
    assert window.retry_after("a") == 0
    window.hit("a")
    assert window.retry_after("a") == pytest.approx(4.0)


def test_sliding_window_forgets_idle_keys_without_them_asking_again() -> None:
    clock = Clock()
    window = SlidingWindow(RateLimit(2, 10.0), clock)
    for user in range(1000):  # a thousand people ask once each, and never again
        window.hit(("user", user))
    assert len(window) == 1000
    clock.now += 5
    window.hit(("user", "regular"))
    assert len(window) == 1001  # within the window nobody is forgotten
    clock.now += 5.5  # the thousand are now 10.5 s old, "regular" 5.5 s
    assert window.retry_after(("user", "someone new")) == 0
    assert len(window) == 1  # only "regular" is still inside its window
    window.hit(("user", "regular"))
    assert window.retry_after(("user", "regular")) == pytest.approx(4.5)  # its two hits still count
    clock.now += 30
    window.hit(("user", "late"))
    assert len(window) == 1


def test_user_rate_limit_friendly_message_then_allowed_again(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        student = User()
        for _ in range(2):
            await h.ask("what is KL?", user=student)
        await h.ask("what is KL?", user=student)
        refusal = h.rec.sent[-1]
        assert refusal.where == "response" and refusal.kwargs["ephemeral"] is True
        assert "please wait 60 s" in refusal.content and "2 questions per 60 s" in refusal.content
        assert len(h.service.calls) == 2
        await h.ask("what is KL?")  # another student is not affected
        assert len(h.service.calls) == 3
        h.clock.now += 60.5
        await h.ask("what is KL?", user=student)
        assert len(h.service.calls) == 4

    scenario(tmp_path, body, discord_user_rate=RateLimit(2, 60.0))


def test_channel_rate_limit_covers_its_threads_and_warns_once_for_messages(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        channel = FakeChannel(h.rec)
        await h.bot.on_message(h.message(f"<@{BOT_ID}> what is KL?", channel=channel))
        await h.bot.on_message(h.message(f"<@{BOT_ID}> what is KL?", channel=channel))
        thread = h.rec.threads[0]
        sent_before = len(h.rec.sent)
        await h.bot.on_message(h.message("why?", channel=thread))  # the thread shares the channel's budget
        await h.bot.on_message(h.message("why?", channel=thread))
        assert len(h.service.calls) == 2
        busy = h.rec.sent[sent_before:]
        assert len(busy) == 1 and "This channel is busy" in busy[0].content
        h.clock.now += 31
        await h.bot.on_message(h.message("why?", channel=thread))
        assert len(h.service.calls) == 3

    scenario(tmp_path, body, discord_channel_rate=RateLimit(2, 30.0))


# --- staff, feedback, errors -----------------------------------------------------------------------

def test_reindex_is_staff_only(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.reindex(user=User(roles=[Role("student")]))
        assert h.service.reindexed == 0
        assert "only course staff" in h.rec.sent[-1].content and h.rec.sent[-1].kwargs["ephemeral"] is True

        # Issue 12 #8: a role merely *named* TA (any case) used to pass.
        await h.reindex(user=User(roles=[Role("ta"), Role("TA")]))
        assert h.service.reindexed == 0

        ta = await h.reindex(user=User(roles=[Role("student"), Role("Teaching staff", STAFF_ROLE_ID)]))
        assert h.service.reindexed == 1 and ta.response.deferred == {"ephemeral": True, "thinking": True}
        assert h.rec.sent[-1].content == "Reindexed: index: 1 added, 0 updated, 0 removed, 9 unchanged - run 1"

        await h.reindex(user=User(guild_permissions=Perms(administrator=True)))
        assert h.service.reindexed == 2
        await h.reindex(user=User(roles=[Role("TA", STAFF_ROLE_ID)]), guild=None)  # no roles outside a server
        assert h.service.reindexed == 2

    scenario(tmp_path, body, discord_staff_role_id=STAFF_ROLE_ID)


def test_is_staff_uses_the_configured_role_id() -> None:
    assert is_staff(User(roles=[Role("anything", STAFF_ROLE_ID)]), STAFF_ROLE_ID)
    assert not is_staff(User(roles=[Role("TA")]), STAFF_ROLE_ID)
    assert not is_staff(User(roles=[Role("TA")]), None)  # no role configured: administrators only
    assert is_staff(User(guild_permissions=Perms(administrator=True)), None)
    assert not is_staff(object(), STAFF_ROLE_ID)  # a plain user (DM) has neither roles nor permissions
    assert Settings.from_env({"TABOT_DISCORD_STAFF_ROLE_ID": str(STAFF_ROLE_ID)}).discord_staff_role_id == STAFF_ROLE_ID
    with pytest.raises(ConfigError, match="TABOT_DISCORD_STAFF_ROLE_ID"):
        Settings.from_env({"TABOT_DISCORD_STAFF_ROLE_ID": "TA"})


def test_unset_staff_role_says_how_to_set_it(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.reindex(user=User(roles=[Role("TA")]))
        assert h.service.reindexed == 0 and "TABOT_DISCORD_STAFF_ROLE_ID" in h.rec.sent[-1].content

    scenario(tmp_path, body)


def test_reindex_failure_is_one_line(tmp_path: Path) -> None:
    from bot.errors import KnowledgeError

    async def body(h: Harness) -> None:
        def broken() -> str:
            raise KnowledgeError("knowledge/answers/x.md", "claim not found verbatim in the answer", 7)
        h.service.reindex = broken
        await h.reindex(user=User(roles=[Role("TA", STAFF_ROLE_ID)]))
        assert h.rec.sent[-1].content == (
            "Reindex failed: knowledge/answers/x.md:7: claim not found verbatim in the answer")

    scenario(tmp_path, body, discord_staff_role_id=STAFF_ROLE_ID)


def test_feedback_buttons_record_to_the_store(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await h.ask("why is KL divergence not symmetric?")
        buttons = {i.custom_id.split(":")[2]: i for i in h.rec.sent[0].kwargs["view"].children}
        assert h.rec.sent[0].kwargs["view"].timeout is None  # persistent
        student = User()
        click = h.interaction(user=student)
        await buttons["down"].callback(click)
        assert "Thanks for the feedback" in h.rec.sent[-1].content and h.rec.sent[-1].kwargs["ephemeral"]
        again = h.interaction(user=student)
        await buttons["down"].callback(again)
        assert "already rated" in h.rec.sent[-1].content

        # A click routed after a restart: the custom_id still parses, the answer is gone.
        match = FeedbackButton.__discord_ui_compiled_template__.fullmatch(buttons["up"].custom_id)
        rebuilt = await FeedbackButton.from_custom_id(h.interaction(), buttons["up"].item, match)
        assert rebuilt.rating == 1 and rebuilt.key == buttons["up"].key
        h.bot._rateable.clear()
        await rebuilt.callback(h.interaction())
        assert "restarted" in h.rec.sent[-1].content

    scenario(tmp_path, body)
    rows = FeedbackStore(tmp_path / "feedback.sqlite3").rows()
    assert len(rows) == 1
    assert (rows[0]["channel"], rows[0]["rating"], rows[0]["question"]) == (
        "discord", -1, "why is KL divergence not symmetric?")
    assert len(rows[0]["user"]) == 32 and not rows[0]["user"].isdigit()  # the voter's pseudonym, not the Discord id


def test_exception_inside_answering_is_one_short_message_and_bot_keeps_going(tmp_path: Path, caplog) -> None:
    async def body(h: Harness) -> None:
        with caplog.at_level(logging.ERROR, logger="bot.faces.discord.app"):
            await h.ask("boom")
        assert h.rec.sent[-1].content == FAILURE_TEXT
        assert "secret internals" not in h.rec.sent[-1].content
        assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)

        await h.ask("backend down")  # a TabotError: its own one-line message
        assert h.rec.sent[-1].content == "The answer backend is unreachable; try again in a minute."

        await h.bot.on_message(h.message(f"<@{BOT_ID}> boom", channel=FakeChannel(h.rec)))
        assert h.rec.sent[-1].where == "reply" and h.rec.sent[-1].content == FAILURE_TEXT

        await h.ask("what is KL?")  # still answering
        assert "will give us different curves" in h.rec.sent[-1].content

    scenario(tmp_path, body)


def test_failure_while_sending_is_reported_and_tree_errors_are_handled(tmp_path: Path, caplog) -> None:
    async def body(h: Harness) -> None:
        channel = FakeChannel(h.rec)

        async def broken_reply(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("Discord said no")
        message = h.message(f"<@{BOT_ID}> what is KL?", channel=channel)
        message.reply = broken_reply
        with caplog.at_level(logging.ERROR, logger="bot.faces.discord.app"):
            await h.bot.on_message(message)
        assert h.rec.texts == [FAILURE_TEXT]
        assert any("handling a message failed" in r.getMessage() for r in caplog.records)

        interaction = h.interaction()
        error = discord.app_commands.CommandInvokeError(h.bot.tree.get_command("ask"), ValueError("bad"))
        await h.bot.tree.on_error(interaction, error)
        assert h.rec.sent[-1].content == FAILURE_TEXT and h.rec.sent[-1].kwargs["ephemeral"]
        interaction = h.interaction(guild=None)
        await h.bot.tree.on_error(interaction, discord.app_commands.NoPrivateMessage())
        assert h.rec.sent[-1].content == "That command only works in the course server."

        try:
            raise KeyError("from an event")
        except KeyError:
            await h.bot.on_error("on_message")  # logs, does not raise
        assert any("unhandled error in on_message" in r.getMessage() and r.exc_info for r in caplog.records)

    scenario(tmp_path, body)


def test_commands_are_registered_as_slash_commands(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        ask = h.bot.tree.get_command("ask")
        assert [p.name for p in ask.parameters] == ["question"] and ask.parameters[0].required
        assert h.bot.tree.get_command("reindex").guild_only
        assert h.bot.intents.message_content and h.bot.intents.guilds
        assert FeedbackButton in h.bot._connection._view_store._dynamic_items.values()
        assert TopicButton in h.bot._connection._view_store._dynamic_items.values()

    scenario(tmp_path, body)


# --- run() -----------------------------------------------------------------------------------------

def test_missing_token_is_a_config_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No Discord token found - set TABOT_DISCORD_TOKEN") as info:
        discord_app.run(Settings(data_dir=tmp_path))
    assert "\n" not in str(info.value)
    assert Settings.from_env({"DISCORD_TOKEN": "abc"}).discord_token == "abc"


def test_rejected_token_is_a_config_error(tmp_path: Path, monkeypatch) -> None:
    def login_fails(self: TabotDiscordBot, token: str, **kwargs: Any) -> None:
        assert token == "not-a-token"
        raise discord.LoginFailure("Improper token has been passed.")
    monkeypatch.setattr(TabotDiscordBot, "run", login_fails)
    with pytest.raises(ConfigError, match="Discord rejected the token"):
        discord_app.run(Settings(data_dir=tmp_path, discord_token="not-a-token"),
                        service=FakeService(), feedback=FeedbackStore(tmp_path / "f.sqlite3"))


def test_missing_message_content_intent_stops_with_what_to_enable(tmp_path: Path, monkeypatch) -> None:
    # The bot always asks for the intent (thread follow-ups need it), so Discord refusing it is fatal.
    def intent_refused(self: TabotDiscordBot, token: str, **kwargs: Any) -> None:
        assert self.intents.message_content
        raise discord.PrivilegedIntentsRequired(None)
    monkeypatch.setattr(TabotDiscordBot, "run", intent_refused)
    with pytest.raises(ConfigError, match="Enable the Message Content intent") as info:
        discord_app.run(Settings(data_dir=tmp_path, discord_token="token"),
                        service=FakeService(), feedback=FeedbackStore(tmp_path / "f.sqlite3"))
    assert "\n" not in str(info.value)


# --- pure rendering at Discord's limits ------------------------------------------------------------

def test_split_keeps_exact_limit_in_one_message_and_splits_one_over() -> None:
    words = ("word " * 400)[:MESSAGE_LIMIT]
    assert split_text(words.strip() + "x" * (MESSAGE_LIMIT - len(words.strip()))) == [
        words.strip() + "x" * (MESSAGE_LIMIT - len(words.strip()))]
    paragraph = "a" * 1000
    two = f"{paragraph}\n\n{paragraph}"  # 2002 characters
    assert split_text(two) == [paragraph, paragraph]


def test_split_prefers_sentences_then_words_and_never_cuts_a_word() -> None:
    sentence = "The gradient flows backwards through the graph in reverse topological order. "
    text = (sentence * 60).strip()
    chunks = split_text(text)
    assert len(chunks) > 1 and all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert all(c.endswith("order.") for c in chunks)
    assert " ".join(chunks) == text

    one_long_sentence = " ".join(f"w{i}" for i in range(1500))
    chunks = split_text(one_long_sentence)
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert " ".join(chunks) == one_long_sentence  # every cut between words

    giant_word = "x" * 4500
    assert [len(c) for c in split_text(giant_word)] == [2000, 2000, 500]


def test_split_never_cuts_inside_a_code_block_that_fits() -> None:
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(150)) + "\n```"
    assert len(code) < MESSAGE_LIMIT
    text = "a" * 1500 + "\n\n" + code + "\n\nafter"
    chunks = split_text(text)
    assert len(chunks) == 2 and chunks[1].startswith(code)  # the block moved whole to the next message
    assert all(c.count("```") % 2 == 0 for c in chunks)


def test_split_refences_a_code_block_longer_than_a_message() -> None:
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})" for i in range(300)) + "\n```"
    chunks = split_text(code)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= MESSAGE_LIMIT
        assert chunk.startswith("```python\n") and chunk.endswith("\n```")
    lines = [line for c in chunks for line in c.split("\n")[1:-1]]
    assert lines == [f"value_{i} = compute({i})" for i in range(300)]


def test_split_keeps_list_lines_and_does_not_split_inside_inline_code() -> None:
    items = "\n".join(f"- item {i} is here" for i in range(200))
    chunks = split_text(items)
    assert all(line.startswith("- item") for c in chunks for line in c.split("\n"))
    tricky = ("x" * 1990) + " `a. B` tail. Next."
    chunks = split_text(tricky)
    assert all(c.count("`") % 2 == 0 for c in chunks)


def _big_answer(n_sources: int, n_demos: int, n_checks: int, text_len: int) -> Answer:
    base = kl_answer("q")
    checks = tuple(CheckResult(f"check_{i}", i % 3 != 0, "d" * 2000, 1.0 / (i + 1), 0.5) for i in range(n_checks))
    demos = [DemoAttachment(f"demo_{i}", "c" * 3000, "e", Verdict.PASSED, checks=checks, metrics={"m": 1.5})
             for i in range(n_demos)]
    sources = [Source(f"entry-{i}", "Q" * 400, 0.5, "TA text. " * 1000) for i in range(n_sources)]
    return Answer(question="q", answer="Sentence here. " * (text_len // 15), abstained=False, sources=sources,
                  sentences=base.sentences, demos=demos)


def test_render_respects_every_discord_limit_on_a_huge_answer() -> None:
    messages = render_answer(_big_answer(n_sources=6, n_demos=12, n_checks=40, text_len=9000), echo_question=True)
    for m in messages:
        assert len(m.content) <= MESSAGE_LIMIT
        assert len(m.embeds) <= 10 and len(m.files) <= 10
        assert sum(len(e) for e in m.embeds) <= EMBED_TOTAL_LIMIT
        for e in m.embeds:
            assert len(e.title or "") <= 256 and len(e.description or "") <= 4096
            assert len(e.fields) <= FIELD_COUNT_LIMIT
            assert all(len(f.value) <= FIELD_VALUE_LIMIT and len(f.name) <= 256 for f in e.fields)
    embeds = [e for m in messages for e in m.embeds]
    assert len(embeds) == 18  # nothing dropped: 6 sources + 12 demos
    assert embeds[6].fields[-1].name == "…" and "more not shown" in embeds[6].fields[-1].value
    assert [m.feedback for m in messages].count(True) == 1 and messages[0].feedback


def test_pack_embeds_at_the_6000_and_10_embed_limits() -> None:
    def embed(chars: int) -> discord.Embed:
        return discord.Embed(description="x" * chars)
    groups = pack_embeds([(embed(3000), []), (embed(3000), []), (embed(1), [])])
    assert [len(g[0]) for g in groups] == [2, 1]  # exactly 6000 fits
    groups = pack_embeds([(embed(10), []) for _ in range(11)])
    assert [len(g[0]) for g in groups] == [10, 1]


def test_failed_and_unverified_demos_never_show_as_verified(tmp_path: Path) -> None:
    failed = kl_answer("q", passed=False)
    demo = render_answer(failed)[0].embeds[1]
    assert demo.title == "❌ Demo: kl_asymmetry"
    assert [f.name[0] for f in demo.fields[:2]] == ["✅", "❌"]
    stale = kl_answer("q")
    stale.demos[0] = replace(stale.demos[0], verdict=Verdict.NOT_VERIFIED, reason="source changed")
    demo = render_answer(stale)[0].embeds[1]
    assert demo.title.startswith("⚠️") and "not verified: source changed" in demo.description
    assert "✅" not in "".join(f.name for f in demo.fields)


def test_claims_backed_by_one_demo_share_one_card_and_one_plot(tmp_path: Path) -> None:
    answer = kl_answer("q", plot_path=str(tiny_png(tmp_path / "p.png")))
    demo = answer.demos[0]
    failing = replace(demo, claim="a second claim", verdict=Verdict.FAILED,
                      checks=(CheckResult("reverse_is_mode_seeking", False, "off by 0.5", 0.5, 0.0),))
    answer.demos = [demo, failing]
    message = render_answer(answer)[0]
    cards = [e for e in message.embeds if "Demo:" in e.title]
    assert len(cards) == 1 and [f.filename for f in message.files] == ["kl_asymmetry.png"]
    card = cards[0]
    assert card.title == "❌ Demo: kl_asymmetry"  # one failing claim makes the card fail
    assert "\n• minimising KL(p||q) and" in card.description and "\n• a second claim\n" in card.description
    assert [f.name for f in card.fields[:2]] == ["✅ forward_ne_reverse", "❌ reverse_is_mode_seeking"]


def test_neutralise_and_markdown_helpers() -> None:
    assert neutralise("hi @everyone and @HERE") == f"hi @{ZWSP}everyone and @{ZWSP}HERE"
    # Issue 12 #8: a word character after the keyword hid it from the old pattern; Discord still pings.
    assert neutralise("@everyone_x @here123 @everyoneee") == f"@{ZWSP}everyone_x @{ZWSP}here123 @{ZWSP}everyoneee"
    assert neutralise("<@&12> <@!34> <@56> a@b.com @someone") == (
        f"<@{ZWSP}&12> <@{ZWSP}!34> <@{ZWSP}56> a@b.com @someone")
    assert to_discord_markdown(r"with \(W \in \mathbb{R}^{2\times2}\) here") == "with `W ∈ ℝ^{2×2}` here"
    assert to_discord_markdown(r"\(\int_0^\infty x\) and \(KL(q||p)\)") == r"`\int_0^∞ x` and `KL(q||p)`"
    assert to_discord_markdown("keep `\\(x\\)` code") == "keep `\\(x\\)` code"
    assert thread_name("  line one\nline two " + "z" * 200).startswith("line one line two")
    assert len(thread_name("z" * 500)) <= 100
    assert thread_name("   ") == "Question"


def test_a_declines_topic_buttons_and_list_name_each_entry_by_its_short_name() -> None:
    answer = abstain_answer("what is a transformer")
    answer.nearest = [replace(s, title=f"short name {i}") for i, s in enumerate(answer.nearest)]
    [message] = render_answer(answer)
    assert message.topics == [(s.entry_id, f"short name {i}") for i, s in enumerate(answer.nearest)]
    assert "- *short name 0* (`kl-asymmetry`)" in message.content and "I found this gif" not in message.content
