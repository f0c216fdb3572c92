"""`/gaps` on Discord: staff only (by role id or administrator), ephemeral, over a real question log
and the real MiniLM; student text is shown inert (no markdown, no pings) and fits one message."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.faces.discord.staff import gaps_message
from bot.faces.discord.text import MESSAGE_LIMIT
from bot.faces.gaps import GapReport, Topic, gaps_from_log
from bot.question_log import QuestionLog
from tests.fake_tabot import abstain_answer
from tests.test_discord import STAFF_ROLE_ID, Harness, Perms, Role, User, scenario

QUESTIONS = ["how do transformers use positional encodings?", "why does a transformer need positional encoding at all",
             "@everyone what are the positional encodings in attention models for"]


async def gaps(h: Harness, **kwargs) -> None:
    interaction = h.interaction(**kwargs)
    command = h.bot.tree.get_command("gaps")
    await command.callback(h.bot.get_cog("TabotCommands"), interaction)
    return interaction


def test_gaps_is_staff_only_ephemeral_and_shows_the_topics(tmp_path: Path, tabot, session_settings) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(session_settings.data_dir / "models")
    settings = session_settings.with_(data_dir=data)
    log = QuestionLog.from_settings(settings)
    for i, text in enumerate(QUESTIONS):
        log.record("discord", abstain_answer(text), user=str(1000 + i))
    computed = []

    def compute() -> GapReport:
        computed.append(1)
        return gaps_from_log(settings)

    async def body(h: Harness) -> None:
        h.bot.gaps = compute
        await gaps(h, user=User(roles=[Role("TA")]))  # a role merely named TA is not staff
        assert "only course staff can see the gaps" in h.rec.sent[-1].content
        assert h.rec.sent[-1].kwargs["ephemeral"] is True and computed == []
        await gaps(h, user=User(roles=[Role("TA", STAFF_ROLE_ID)]), guild=None)  # no roles outside a server
        assert computed == []

        staff = await gaps(h, user=User(roles=[Role("Teaching staff", STAFF_ROLE_ID)]))
        assert staff.response.deferred == {"ephemeral": True, "thinking": True}
        reply = h.rec.sent[-1]
        assert reply.kwargs["ephemeral"] is True and computed == [1]
        assert "**1 topics** from 3 declined" in reply.content and "3 students" in reply.content
        assert "positional encodings?" in reply.content and "@everyone" not in reply.content
        await gaps(h, user=User(guild_permissions=Perms(administrator=True)))
        assert computed == [1, 1]

    scenario(tmp_path, body, discord_staff_role_id=STAFF_ROLE_ID)


def test_gaps_message_fits_one_message_and_says_how_many_are_left() -> None:
    topic = Topic(questions=["x" * 500, "y [link](http://evil) *b*", "z"], asked=9, students=4, declined=9,
                  disliked=0, first_seen="2026-10-01T00:00:00+00:00", last_seen="2026-10-02T00:00:00+00:00",
                  nearest_entry="log-base", similarity=0.41)
    text = gaps_message(GapReport([topic] * 30, 270, 90, 0))
    assert len(text) <= MESSAGE_LIMIT and "more topics not shown" in text
    assert "\\[link](http://evil) \\*b\\*" in text  # student markdown shown literally
    short = Topic(["q1", "q2"], 2, 2, 2, 0, "2026-10-01", "2026-10-02", None, None)
    few = gaps_message(GapReport([short] * 12, 24, 24, 0))
    assert few.count("**") == 2 + 2 * 10 and few.endswith("… 2 more topics not shown")  # 10 shown at most
    assert gaps_message(GapReport([], 0, 0, 0)).startswith("No gaps")
    assert Settings().discord_staff_role_id is None
