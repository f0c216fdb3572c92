"""`tabot discord`: the course Discord bot, serving the same `Answer` as the browser.

`TabotDiscordBot` receives everything it uses through its constructor (the answer service, the
feedback store, the settings, a clock), as in discord.py's `advanced_startup.py`, so tests drive
its handlers with hand-written fake interactions and messages and no gateway. What the user sees
is built by the pure functions in `bot/faces/discord/render.py`; rate limits are `bot/faces/discord/limits.py`
and the 👍/👎 buttons `bot/faces/discord/views.py`.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.conversation import (
    FAILURE_TEXT,
    AnswerService,
    Conversation,
    FeedbackRecorder,
    QuestionRecorder,
    Turn,
    error_line,
    remember,
)
from bot.errors import ConfigError, TabotError
from bot.faces.discord.limits import RateGate
from bot.faces.discord.render import OutgoingMessage, render_answer
from bot.faces.discord.staff import WHY_FILE, gaps_message, is_staff, why_message
from bot.faces.discord.text import as_read, thread_name, with_the_message_replied_to
from bot.faces.discord.views import FeedbackButton, TopicButton, feedback_view
from bot.faces.gaps import GapReport

if TYPE_CHECKING:
    from bot.answering.explain import Explanation

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# Bounds on per-process memory: the conversations of the latest threads, and of answers that can be rated.
MAX_REMEMBERED = 5000
DM_REFUSAL = "I only answer questions in the course server - please ask me there (mention me or use `/ask`)."
TOPIC_GONE = "That topic is no longer in the knowledge base - please ask your question again."
EMPTY_MENTION = "Ask me a question after the mention, e.g. `@tabot why is KL divergence not symmetric?`"
# A screenshot or a file is often what a question points at ("what's wrong here?"), and the bot reads only
# a message's text: it says so, once with the answer, or instead of one when there is no text to read.
ATTACHMENTS_NOT_READ = ("I read only the text of a message, not its attachments: if the screenshot or file "
                        "holds the question, the formula or the code, paste it as text.")
_THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread, discord.ChannelType.news_thread)
_THREADABLE_TYPES = (discord.ChannelType.text, discord.ChannelType.news)
T = TypeVar("T")


class DiscordService(AnswerService, Protocol):
    """What the Discord bot needs of `bot.service.Tabot`: answering, and `/reindex` for staff."""

    def reindex(self) -> str: ...

    def entry_question(self, entry_id: str) -> str | None: ...


class TabotCommands(commands.Cog):
    """The slash commands; each delegates to the bot so the logic is testable without a tree."""

    def __init__(self, bot: TabotDiscordBot) -> None:
        self.bot = bot

    # Discord caps a description at 100 characters; it tells students their questions are kept.
    @app_commands.command(name="ask", description="Ask about the course (from the TAs' answers); "
                                                   "questions are kept for course staff")
    @app_commands.describe(question="Your question, e.g. why is KL divergence not symmetric?")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        await self.bot.handle_ask(interaction, question)

    @app_commands.command(name="gaps", description="Staff only: topics students asked that no TA answer covers")
    @app_commands.guild_only()
    async def gaps(self, interaction: discord.Interaction) -> None:
        await self.bot.handle_gaps(interaction)

    @app_commands.command(name="why", description="Staff only: why the bot would answer a question or decline it")
    @app_commands.describe(question="A student's question or post, as they wrote it")
    @app_commands.guild_only()
    async def why(self, interaction: discord.Interaction, question: str) -> None:
        await self.bot.handle_why(interaction, question)

    @app_commands.command(name="reindex", description="Staff only: reload the knowledge entries without a restart")
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        await self.bot.handle_reindex(interaction)


def _snapshots(message: discord.Message) -> list[Any]:
    """What a forwarded message forwards (none for any other message)."""
    return list(getattr(message, "message_snapshots", None) or ())


class TabotDiscordBot(commands.Bot):
    def __init__(self, *, service: DiscordService, feedback: FeedbackRecorder, settings: Settings,
                 clock: Callable[[], float] = time.monotonic, sync_commands: bool = True,
                 questions: QuestionRecorder | None = None, gaps: Callable[[], GapReport] | None = None,
                 explain: Callable[[str], Explanation] | None = None) -> None:
        intents = discord.Intents.default()
        # Privileged, and required (`run` stops without it): a follow-up in the bot's thread that
        # does not mention it arrives with empty text otherwise. Mentions and DMs would not need it.
        intents.message_content = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=NO_MENTIONS)
        self.service = service
        self.feedback = feedback
        self.questions = questions  # the question log (None: not logging)
        self.gaps = gaps  # computes `tabot gaps` for /gaps (None: the command says it is unavailable)
        self.explain = explain  # `Tabot.explain` for /why (None: the command says it is unavailable)
        self.settings = settings
        self.sync_commands = sync_commands
        self.rates = RateGate(settings.discord_user_rate, settings.discord_channel_rate, clock)
        # One worker: the service is not built for concurrent calls, and a reindex then never
        # overlaps an answer. Answers take tens of milliseconds, so the queue stays short.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tabot-service")
        self._conversations: OrderedDict[int, Conversation] = OrderedDict()  # thread/DM id -> its conversation
        self._rateable: OrderedDict[str, Conversation] = OrderedDict()  # feedback key -> the conversation showing it
        self._reindexing = asyncio.Lock()
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        await self.add_cog(TabotCommands(self))
        self.add_dynamic_items(FeedbackButton, TopicButton)
        if self.sync_commands:
            synced = await self.tree.sync()
            log.info("synced %d slash commands", len(synced))

    async def close(self) -> None:
        await super().close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    # ----------------------------------------------------------------------------- gates

    @staticmethod
    def _channel_key(channel: Any, fallback: int | None) -> int:
        # A thread shares its parent's budget, so follow-ups cannot flood around the channel limit.
        return getattr(channel, "parent_id", None) or getattr(channel, "id", None) or fallback or 0

    def _is_bot_thread(self, channel: Any) -> bool:
        if getattr(channel, "type", None) not in _THREAD_TYPES:
            return False
        me = self.user
        return channel.id in self._conversations or (me is not None and getattr(channel, "owner_id", None) == me.id)

    # ----------------------------------------------------------------------------- answering

    def _conversation(self, conversation_id: int | None) -> Conversation:
        """The conversation of a thread or DM (a new one for a new question in a channel)."""
        known = self._conversations.get(conversation_id) if conversation_id is not None else None
        return known or Conversation(self.service, self.feedback, "discord", questions=self.questions)

    async def _send(self, send: Callable[..., Awaitable[Any]], part: OutgoingMessage, key: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if part.content:
            kwargs["content"] = part.content
        if part.embeds:
            kwargs["embeds"] = part.embeds
        if part.files:
            kwargs["files"] = [discord.File(f.path, filename=f.filename) for f in part.files]
        if part.feedback and key is not None:
            kwargs["view"] = feedback_view(key, part.topics)
        return await send(**kwargs)

    async def _deliver(self, turn: Turn, conversation: Conversation, question: str, channel: Any, *,
                       first: Callable[..., Awaitable[Any]], rest: Callable[..., Awaitable[Any]], open_thread: bool,
                       echo_question: bool) -> Any:
        """Send the rendered answer: the first message where asked, then a thread on it (in a
        text channel) holding the rest and the follow-ups. Returns the thread, if one was opened."""
        assert turn.answer is not None and isinstance(turn.key, str)
        parts = render_answer(turn.answer, echo_question=echo_question)
        remember(self._rateable, turn.key, conversation, MAX_REMEMBERED)
        first_message = await self._send(first, parts[0], turn.key)
        # The answer is delivered from here on: nothing below may turn it into an error message.
        thread = await self._open_thread(channel, first_message, question) if open_thread else None
        if thread is not None:
            remember(self._conversations, thread.id, conversation, MAX_REMEMBERED)
        senders = [thread.send, rest] if thread is not None else [rest]
        for part in parts[1:]:
            while senders:
                try:
                    await self._send(senders[0], part, turn.key)
                    break
                except Exception:
                    log.warning("could not send part of an answer; trying the next way", exc_info=True)
                    senders.pop(0)  # the thread failed: the rest goes where the answer started
        return thread

    async def _open_thread(self, channel: Any, message: Any, question: str) -> Any:
        """A public thread on the answer's first message, or None (the answer stands without one)."""
        if message is None or getattr(channel, "create_thread", None) is None:
            return None
        try:
            # From the channel with the message's id: the message `followup.send` returns carries no
            # guild, so `message.create_thread` raises ValueError for every /ask (issue 12 #11).
            return await channel.create_thread(name=thread_name(question), message=discord.Object(id=message.id))
        except Exception:
            # Usually a missing "Create Public Threads" permission; whatever it is, answer without a thread.
            log.warning("could not open a thread for an answer", exc_info=True)
            return None

    async def _respond(self, question: str, channel: Any, conversation: int | None, *, user: str,
                       first: Callable[..., Awaitable[Any]], rest: Callable[..., Awaitable[Any]],
                       echo_question: bool, notice: str | None = None) -> None:
        """Answer `question` (a follow-up when `conversation`, a thread or DM id, has a previous
        answer) and deliver it, with `notice` among the answer's notices; a new question in a text
        channel gets its own thread."""
        talk = self._conversation(conversation)
        turn = await self._in_worker(talk.ask, question, None, user)
        if turn.answer is None:
            await first(content=turn.text, allowed_mentions=NO_MENTIONS)
            return
        if notice:
            turn.answer.notices.append(notice)
        if conversation is not None:
            remember(self._conversations, conversation, talk, MAX_REMEMBERED)
        await self._deliver(turn, talk, question, channel, first=first, rest=rest, echo_question=echo_question,
                            open_thread=conversation is None and getattr(channel, "type", None) in _THREADABLE_TYPES)

    async def handle_ask(self, interaction: discord.Interaction, question: str) -> None:
        """`/ask question:`."""
        try:
            await self._handle_ask(interaction, question)
        except Exception as error:
            log.exception("/ask failed")
            await self._reply_error(interaction, error)

    async def _handle_ask(self, interaction: discord.Interaction, question: str) -> None:
        channel = interaction.channel
        in_dm = interaction.guild is None
        if in_dm and not self.settings.discord_allow_dms:
            await interaction.response.send_message(DM_REFUSAL, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        refusal = self.rates.check(interaction.user.id, self._channel_key(channel, interaction.channel_id))
        if refusal:
            # A slash command must always get a response; an ephemeral one bothers nobody else.
            await interaction.response.send_message(refusal.text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        # Answering may take longer than the 3 s Discord allows before the first response.
        await interaction.response.defer(thinking=True)
        conversation = interaction.channel_id if (in_dm or self._is_bot_thread(channel)) else None
        await self._respond(as_read(question), channel, conversation, user=str(interaction.user.id),
                            first=functools.partial(interaction.followup.send, wait=True),
                            rest=interaction.followup.send, echo_question=True)

    async def on_message(self, message: discord.Message) -> None:
        """A mention of the bot, any message in a thread the bot opened, or (if allowed) a DM."""
        try:
            await self._handle_message(message)
        except Exception:
            log.exception("handling a message failed")
            try:
                await message.channel.send(FAILURE_TEXT, allowed_mentions=NO_MENTIONS)
            except Exception:
                log.exception("could not even report the failure")

    def _mentions_me(self, message: discord.Message) -> bool:
        me = self.user
        return me is not None and re.search(rf"<@!?{me.id}>", message.content or "") is not None

    def _strip_mentions_of_me(self, text: str) -> str:
        me = self.user
        return re.sub(rf"<@!?{me.id}>", " ", text).strip() if me is not None else text.strip()

    def _words_of(self, content: str | None) -> str:
        """A message's words as the bot reads them: its mentions of the bot and the markup Discord shows
        as pictures, names and dates left out (`as_read`)."""
        return as_read(self._strip_mentions_of_me(content or "")).strip()

    def _replied_to(self, message: discord.Message) -> str:
        """The words of the message `message` replies to, as read (`as_read`), when a person wrote it; ""
        when it replies to nothing, to a message Discord did not send along or that is gone, or to a
        bot's (a reply to tabot's answer is a follow-up, not a text to answer)."""
        reference = getattr(message, "reference", None)
        replied = getattr(reference, "resolved", None)
        author = getattr(replied, "author", None)
        if author is None or getattr(author, "bot", False):
            return ""
        return self._words_of(getattr(replied, "content", None))

    def _forwarded(self, message: discord.Message) -> str:
        """The words of the messages `message` forwards, as read (`as_read`); "" when it forwards none."""
        texts = (self._words_of(getattr(snapshot, "content", None)) for snapshot in _snapshots(message))
        return "\n\n".join(text for text in texts if text)

    async def _handle_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return  # never answer bots, including ourselves
        channel = message.channel
        in_dm = message.guild is None
        in_thread = self._is_bot_thread(channel)
        mentioned = self._mentions_me(message)
        others = [u for u in message.mentions if u.id != self.user.id]
        if in_thread and not mentioned and others:
            return  # "@alice thanks!" in our thread is for Alice, not for us
        if not (mentioned or in_thread or in_dm):
            return
        if in_dm and not self.settings.discord_allow_dms:
            if self.rates.warn_once(("dm", message.author.id), self.settings.discord_user_rate.per_seconds):
                await channel.send(DM_REFUSAL, allowed_mentions=NO_MENTIONS)
            return
        refusal = self.rates.check(message.author.id, self._channel_key(channel, None))
        if refusal:
            if self.rates.warn_once(refusal.key, refusal.wait):
                await message.reply(refusal.text, mention_author=False, allowed_mentions=NO_MENTIONS)
            return
        # A message forwarded into the bot's thread or a DM carries no words of its own: what it
        # forwards is the question.
        question = self._words_of(message.content) or self._forwarded(message)
        replied = self._replied_to(message)
        if replied:
            question = with_the_message_replied_to(replied, question)
        attached = any(getattr(each, "attachments", None) for each in (message, *_snapshots(message)))
        if not question:
            await message.reply(ATTACHMENTS_NOT_READ if attached else EMPTY_MENTION, mention_author=False,
                                allowed_mentions=NO_MENTIONS)
            return
        await self._respond(question, channel, channel.id if (in_dm or in_thread) else None,
                            user=str(message.author.id), first=functools.partial(message.reply, mention_author=False),
                            rest=channel.send,
                            echo_question=False, notice=ATTACHMENTS_NOT_READ if attached else None)

    # ----------------------------------------------------------------------------- staff, feedback

    async def _refused_unless_staff(self, interaction: discord.Interaction, what: str) -> bool:
        """Tell a non-staff user (only them) that `what` is for staff; True if they were refused."""
        if interaction.guild is not None and is_staff(interaction.user, self.settings.discord_staff_role_id):
            return False
        unset = "" if self.settings.discord_staff_role_id else (
            " (no staff role is set: an administrator can set TABOT_DISCORD_STAFF_ROLE_ID to its id)")
        await interaction.response.send_message(f"Sorry - only course staff can {what}{unset}.",
                                                ephemeral=True, allowed_mentions=NO_MENTIONS)
        return True

    async def _staff_deferred(self, interaction: discord.Interaction, what: str, needed: object,
                              unavailable: str) -> bool:
        """The start of a staff command answered ephemerally: refuse anyone else (telling only them), say
        `unavailable` when the bot was built without what the command `needed` (None), else defer (the
        work runs in the service's worker). True when the command should go on."""
        if await self._refused_unless_staff(interaction, what):
            return False
        if needed is None:
            await interaction.response.send_message(unavailable, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return False
        await interaction.response.defer(ephemeral=True, thinking=True)
        return True

    async def handle_gaps(self, interaction: discord.Interaction) -> None:
        """`/gaps` (staff only, answered ephemerally): the topics no TA answer covers."""
        try:
            gaps = self.gaps
            if not await self._staff_deferred(interaction, "see the gaps", gaps,
                                              "The gaps are not available in this bot."):
                return
            report = await self._in_worker(gaps)  # the service's worker: one encoder user at a time
            await interaction.followup.send(gaps_message(report), ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as error:
            log.exception("/gaps failed")
            await self._reply_error(interaction, error)

    async def handle_why(self, interaction: discord.Interaction, question: str) -> None:
        """`/why` (staff only, answered ephemerally): what the bot reads in `question` and why it would
        answer or decline it (`tabot ask --why`); nothing is answered or logged."""
        try:
            explain = self.explain
            if not await self._staff_deferred(interaction, "ask why", explain, "/why is not available in this bot."):
                return
            explanation = await self._in_worker(explain, as_read(question))
            attached = discord.File(io.BytesIO(explanation.text().encode("utf-8")), filename=WHY_FILE)
            await interaction.followup.send(why_message(explanation), files=[attached], ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
        except TabotError as error:  # a question of blanks or of no words: its one line, no traceback
            await self._reply_error(interaction, error)
        except Exception as error:
            log.exception("/why failed")
            await self._reply_error(interaction, error)

    async def handle_reindex(self, interaction: discord.Interaction) -> None:
        """`/reindex` (staff only): reload the knowledge folder through `service.reindex()`."""
        try:
            if await self._refused_unless_staff(interaction, "reindex"):
                return
            if self._reindexing.locked():
                await interaction.response.send_message("A reindex is already running - it will be done shortly.",
                                                        ephemeral=True, allowed_mentions=NO_MENTIONS)
                return
            async with self._reindexing:
                await interaction.response.defer(ephemeral=True, thinking=True)
                log.info("reindex requested by %s", interaction.user.id)
                try:
                    summary = await self._in_worker(self.service.reindex)
                except TabotError as error:  # e.g. a knowledge file that does not validate
                    await interaction.followup.send(f"Reindex failed: {error_line(error)}", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
                    return
            await interaction.followup.send(f"Reindexed: {summary}", ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as error:
            log.exception("/reindex failed")
            await self._reply_error(interaction, error)

    async def handle_feedback(self, interaction: discord.Interaction, key: str, rating: int) -> None:
        """A 👍/👎 click: store it with channel 'discord'; tell the clicker (only them) it counted."""
        try:
            conversation = self._rateable.get(key)
            if conversation is None:
                text = "I've restarted since this answer, so I can't record a rating for it - sorry!"
            else:
                text = await asyncio.to_thread(conversation.rate, key, rating, None, str(interaction.user.id))
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as error:
            log.exception("recording feedback failed")
            await self._reply_error(interaction, error, "Sorry - I couldn't save your feedback just now.")

    async def handle_topic(self, interaction: discord.Interaction, entry_id: str) -> None:
        """A click on a decline's closest topic: ask that entry's question, exactly as `/ask` would
        (same DM rule, rate limits and thread), so the student sees its TA answer."""
        question = self.service.entry_question(entry_id)
        if question is None:  # removed or renamed since the decline was sent
            await interaction.response.send_message(TOPIC_GONE, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await self.handle_ask(interaction, question)

    # ----------------------------------------------------------------------------- errors at the edge

    async def _reply_error(self, interaction: discord.Interaction, error: BaseException,
                           text: str | None = None) -> None:
        text = text or error_line(error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception:
            log.exception("could not report an error to the user")

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Errors the command tree caught (checks, conversions, anything a handler let escape)."""
        if isinstance(error, app_commands.NoPrivateMessage):
            await self._reply_error(interaction, error, "That command only works in the course server.")
            return
        if isinstance(error, app_commands.CheckFailure):
            await self._reply_error(interaction, error, "Sorry - you can't use that command here.")
            return
        original = getattr(error, "original", error)
        log.error("slash command failed", exc_info=(type(original), original, original.__traceback__))
        await self._reply_error(interaction, original)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        # Called from inside the failing event's except block: log the traceback and keep running.
        log.exception("unhandled error in %s", event_method)


def run(settings: Settings, *, service: DiscordService | None = None,
        feedback: FeedbackRecorder | None = None) -> None:
    """`tabot discord`: start the answer service and serve Discord until interrupted."""
    if not settings.discord_token:
        raise ConfigError("No Discord token found - set TABOT_DISCORD_TOKEN (or DISCORD_TOKEN) to your bot's token "
                          "(see docs/discord.md)")
    if service is None:
        from bot.service import Tabot, console_progress  # heavy (model, index): only when actually serving

        # Verification in the background: the bot comes online at once (a slow demo shows "verifying…").
        service = Tabot.start(settings, progress=console_progress, verify_in_background=True)
    if feedback is None:
        from bot.feedback import FeedbackStore

        feedback = FeedbackStore(settings.feedback_db)
    if settings.discord_staff_role_id is None:
        log.warning("TABOT_DISCORD_STAFF_ROLE_ID is not set: only server administrators can /reindex")
    from bot.faces.gaps import gaps_from_log
    from bot.question_log import QuestionLog

    bot = TabotDiscordBot(service=service, feedback=feedback, settings=settings,
                          questions=QuestionLog.from_settings(settings), gaps=lambda: gaps_from_log(settings),
                          explain=getattr(service, "explain", None))
    try:
        bot.run(settings.discord_token, log_level=logging.INFO)
    except discord.LoginFailure:
        raise ConfigError("Discord rejected the token - check TABOT_DISCORD_TOKEN (Developer Portal > Bot > "
                          "Reset Token)") from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError("Enable the Message Content intent for the bot (Developer Portal > Bot > Privileged "
                          "Gateway Intents), then start it again") from None
