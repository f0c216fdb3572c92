"""Rate limits for the Discord bot: per-person and per-channel sliding windows, and "warn once".

Kept apart from `bot/faces/discord/app.py` because none of it needs Discord: it is counting against a
clock, which tests replace with a fake one.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable
from typing import NamedTuple

from bot.config import RateLimit


class SlidingWindow:
    """At most `limit.count` hits per key in any `limit.per_seconds` window (a true sliding window,
    so a burst at the end of one minute and the start of the next is still one burst).

    Keys are people and channels, so on a busy server most are seen once and never again: at most
    once per window, every key whose newest hit has left the window is dropped, which bounds
    memory by the keys active in about the last two windows.
    """

    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._swept = clock()

    def __len__(self) -> int:
        """How many keys are tracked (for tests and for the curious)."""
        return len(self._hits)

    def _sweep(self, now: float) -> None:
        # Once per window is enough: a key idle for a window is dropped within two, and a sweep
        # per hit would make every question cost O(keys).
        if now - self._swept < self.limit.per_seconds:
            return
        self._swept = now
        cutoff = now - self.limit.per_seconds
        self._hits = {key: hits for key, hits in self._hits.items() if hits and hits[-1] > cutoff}

    def retry_after(self, key: Hashable) -> float:
        """Seconds until `key` may hit again; 0 when it may now. Does not count as a hit."""
        now = self.clock()
        self._sweep(now)
        hits = self._hits.get(key)
        if hits is None:
            return 0.0
        while hits and hits[0] <= now - self.limit.per_seconds:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return 0.0
        return 0.0 if len(hits) < self.limit.count else hits[0] + self.limit.per_seconds - now

    def hit(self, key: Hashable) -> None:
        now = self.clock()
        self._sweep(now)
        self._hits.setdefault(key, deque()).append(now)


class Refusal(NamedTuple):
    text: str  # friendly, says how long to wait
    wait: float  # seconds
    key: Hashable  # who is limited: ("user", id) or ("channel", id)


class RateGate:
    """The bot's two limits (per person, per channel) and the memory of warnings already given."""

    def __init__(self, user: RateLimit, channel: RateLimit, clock: Callable[[], float]) -> None:
        self.user_limit = user
        self.user_rate = SlidingWindow(user, clock)
        self.channel_rate = SlidingWindow(channel, clock)
        self.clock = clock
        self._warned: dict[Hashable, float] = {}  # warnings already given, until when

    def check(self, user_id: int, channel_key: int) -> Refusal | None:
        """A refusal if the user or the channel is over its limit; otherwise None, and the request
        is counted against both (a refused request counts against neither)."""
        user_wait = self.user_rate.retry_after(("user", user_id))
        channel_wait = self.channel_rate.retry_after(("channel", channel_key))
        if user_wait > 0:
            limit = self.user_limit
            return Refusal(f"You're asking faster than I can keep up - please wait {math.ceil(user_wait)} s "
                           f"(I take {limit.count} questions per {limit.per_seconds:g} s from each person).",
                           user_wait, ("user", user_id))
        if channel_wait > 0:
            return Refusal(f"This channel is busy right now - I can take another question in "
                           f"{math.ceil(channel_wait)} s.", channel_wait, ("channel", channel_key))
        self.user_rate.hit(("user", user_id))
        self.channel_rate.hit(("channel", channel_key))
        return None

    def warn_once(self, key: Hashable, seconds: float) -> bool:
        """True the first time in `seconds` for `key`: a flood of messages must not get a flood of
        "slow down" replies (which would also spend the bot's own Discord rate limit)."""
        now = self.clock()
        if self._warned.get(key, -math.inf) > now:
            return False
        self._warned = {k: until for k, until in self._warned.items() if until > now}
        self._warned[key] = now + seconds
        return True
