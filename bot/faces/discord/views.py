"""The buttons under a Discord answer: 👍/👎, and under a decline its closest topics.

They are persistent `DynamicItem`s: the custom_id carries the rating and the answer's key (or the
topic's entry id), so a click is routed to the bot even after a restart (which then explains it
cannot rate that old answer). A 👍/👎 click is handed to the client's `handle_feedback`, which stores
it; a topic click to `handle_topic`, which asks that entry's question as `/ask` would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import discord

from bot.faces.discord.text import BUTTON_LABEL_LIMIT, clip, one_line


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


@runtime_checkable
class TopicHandler(Protocol):
    async def handle_topic(self, interaction: discord.Interaction, entry_id: str) -> None: ...


class TopicButton(discord.ui.DynamicItem[discord.ui.Button], template=r"tabot:topic:(?P<entry_id>[a-z0-9-]{1,80})"):
    """One of a decline's closest topics: a click asks the entry's own question (the label is its
    short name, clipped)."""

    def __init__(self, entry_id: str, label: str = "") -> None:
        text = clip(one_line(label), BUTTON_LABEL_LIMIT) or entry_id
        super().__init__(discord.ui.Button(style=discord.ButtonStyle.primary, label=text, row=1,
                                           custom_id=f"tabot:topic:{entry_id}"))
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str], /) -> TopicButton:
        return cls(match["entry_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if isinstance(interaction.client, TopicHandler):
            await interaction.client.handle_topic(interaction, self.entry_id)


def feedback_view(key: str, topics: Sequence[tuple[str, str]] = ()) -> discord.ui.View:
    """👍/👎 for the answer stored under `key`, then one button per (entry id, label) in `topics`."""
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(1, key))
    view.add_item(FeedbackButton(-1, key))
    for entry_id, label in topics:
        view.add_item(TopicButton(entry_id, label))
    return view
