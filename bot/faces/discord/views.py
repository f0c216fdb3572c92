"""The 👍/👎 buttons under a Discord answer.

They are persistent `DynamicItem`s: the custom_id carries the rating and the answer's key, so a
click is routed to the bot even after a restart (which then explains it cannot rate that old
answer). The click is handed to the client's `handle_feedback`, which stores it.
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

import discord


@runtime_checkable
class FeedbackHandler(Protocol):
    async def handle_feedback(self, interaction: discord.Interaction, key: str, rating: int) -> None: ...


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button], template=r"tabot:fb:(?P<rating>up|down):(?P<key>\w+)"):
    """One button: rating +1 (👍 Helpful) or -1 (👎 Not helpful) for the answer stored under `key`."""

    def __init__(self, rating: int, key: str) -> None:
        up = rating > 0
        super().__init__(discord.ui.Button(
            style=discord.ButtonStyle.secondary, emoji="👍" if up else "👎", label="Helpful" if up else "Not helpful",
            custom_id=f"tabot:fb:{'up' if up else 'down'}:{key}"))
        self.rating = 1 if up else -1
        self.key = key

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str], /) -> FeedbackButton:
        return cls(1 if match["rating"] == "up" else -1, match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if isinstance(interaction.client, FeedbackHandler):
            await interaction.client.handle_feedback(interaction, self.key, self.rating)


def feedback_view(key: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(1, key))
    view.add_item(FeedbackButton(-1, key))
    return view
