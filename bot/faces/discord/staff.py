"""Discord staff: who counts as staff (`/reindex`, `/gaps`, `/why`), what `/gaps` shows - the top topics
no TA answer covers, in one message - and what `/why` says of one question."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.faces.discord.text import MESSAGE_LIMIT, clip, escape_user, one_line
from bot.faces.gaps import GAP_QUESTIONS, GapReport

if TYPE_CHECKING:
    from bot.answering.explain import Explanation

TOPICS_SHOWN = 10
QUESTION_CHARS = 120
# The file `/why` attaches: the explanation as the terminal prints it (`tabot ask --why`), which does
# not fit a message (about 3,000 characters for three candidates) and is a table best read unwrapped.
WHY_FILE = "why.txt"


def is_staff(user: Any, role_id: int | None) -> bool:
    """Has the staff role (by id: TABOT_DISCORD_STAFF_ROLE_ID) or is a server administrator.

    By id, never by name: anyone who can make a role can name it "TA" (or "ta").
    """
    perms = getattr(user, "guild_permissions", None)
    if perms is not None and perms.administrator:
        return True
    return role_id is not None and any(getattr(role, "id", None) == role_id for role in getattr(user, "roles", []))


def gaps_message(report: GapReport, limit: int = MESSAGE_LIMIT) -> str:
    """The ranked topics, each with its counts, nearest entry and representative questions (student
    text escaped: no markdown, no mentions), cut to whole topics so it fits one message."""
    if not report.topics:
        return "No gaps: no logged question was declined, rated 👎 or answered unsure."
    head = (f"**{len(report.topics)} topics** from {report.questions} {GAP_QUESTIONS}, "
            "most students first (`tabot gaps --out DIR` for all, with a plot):")
    blocks = []
    for number, topic in enumerate(report.topics[:TOPICS_SHOWN], start=1):
        nearest = (f"nearest `{topic.nearest_entry}` ({topic.similarity:.2f})" if topic.nearest_entry
                   else "no entry near")
        lines = [f"**{number}.** {topic.students} students, asked {topic.asked}× · {nearest} · "
                 f"{topic.first_seen[:10]} → {topic.last_seen[:10]}"]
        lines += [f"> {escape_user(clip(one_line(q), QUESTION_CHARS))}" for q in topic.representatives]
        blocks.append("\n".join(lines))
    text, shown = head, 0
    for block in blocks:
        if len(text) + 2 + len(block) > limit - 40:  # room kept for the closing line
            break
        text, shown = text + "\n\n" + block, shown + 1
    if shown < len(report.topics):
        text += f"\n\n… {len(report.topics) - shown} more topics not shown"
    return text


def why_message(explanation: Explanation) -> str:
    """`/why`'s message: the verdict and the question found in the post (student text escaped), the
    rest in the attached WHY_FILE."""
    found = (f"\nThe question it found: {escape_user(clip(one_line(explanation.focus), 300))}"
             if explanation.focus else "")
    return (f"**{explanation.verdict()}**{found}\nEach feature's pull, the entry's questions and the near misses "
            f"the question agrees with best are in `{WHY_FILE}` (what to do with them: knowledge/README.md, 2b).")
