"""`/why` on Discord: staff only (by role id or administrator), ephemeral, over the real service; the
student's text is shown inert (no markdown, no pings) and the whole explanation comes as a file."""

from __future__ import annotations

from pathlib import Path

from bot.faces.discord.staff import WHY_FILE
from tests.test_discord import STAFF_ROLE_ID, Harness, Perms, Role, User, assert_no_pings, scenario


async def why(h: Harness, question: str, **kwargs):
    interaction = h.interaction(**kwargs)
    command = h.bot.tree.get_command("why")
    await command.callback(h.bot.get_cog("TabotCommands"), interaction, question=question)
    return interaction


def test_why_is_staff_only_ephemeral_and_attaches_the_explanation(tmp_path: Path, tabot) -> None:
    asked = []

    def explain(question: str):
        asked.append(question)
        return tabot.explain(question)

    async def body(h: Harness) -> None:
        h.bot.explain = explain
        await why(h, "is adagrad a momentum method?", user=User(roles=[Role("TA")]))  # named TA, not staff
        assert "only course staff can ask why" in h.rec.sent[-1].content
        assert h.rec.sent[-1].kwargs["ephemeral"] is True and asked == []

        staff = await why(h, "@everyone is **adagrad** a momentum method?",
                          user=User(roles=[Role("Teaching staff", STAFF_ROLE_ID)]))
        assert staff.response.deferred == {"ephemeral": True, "thinking": True}
        reply = h.rec.sent[-1]
        assert reply.kwargs["ephemeral"] is True and len(asked) == 1
        assert reply.content.startswith("**Answered from adaptive-optimizers")
        assert "@everyone" not in reply.content and "**adagrad**" not in reply.content
        [attached] = reply.kwargs["files"]
        text = attached.fp.read().decode("utf-8")
        assert attached.filename == WHY_FILE and "(bias)" in text and "adaptive-optimizers" in text

        await why(h, "what is the capital of France?", user=User(guild_permissions=Perms(administrator=True)))
        assert h.rec.sent[-1].content.startswith("**Declined (closest: ")
        await why(h, "   ", user=User(guild_permissions=Perms(administrator=True)))
        assert "Please type a question" in h.rec.sent[-1].content
        assert_no_pings(h.rec.sent)

    scenario(tmp_path, body, discord_staff_role_id=STAFF_ROLE_ID)


def test_why_without_the_service_s_explain_says_it_is_unavailable(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await why(h, "why is kl not symmetric", user=User(guild_permissions=Perms(administrator=True)))
        assert "not available" in h.rec.sent[-1].content and h.rec.sent[-1].kwargs["ephemeral"] is True

    scenario(tmp_path, body, discord_staff_role_id=STAFF_ROLE_ID)
