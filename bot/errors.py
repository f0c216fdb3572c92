"""One exception tree for tabot.

Every message is safe to show a student and says what to do next; front ends catch
`TabotError` at the edge and show `str(error)`, and log anything else with its traceback.
"""

from __future__ import annotations


class TabotError(Exception):
    """Base class. `str(error)` is a one-line message fit for a user."""


class ConfigError(TabotError):
    """A setting is missing or invalid (names the `TABOT_*` variable to fix)."""


class InputError(TabotError):
    """The question itself cannot be answered as given (e.g. it is empty)."""


class KnowledgeError(TabotError):
    """A knowledge entry is invalid; the message names the file and line."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")


class IndexBuildError(TabotError):
    """The search index could not be built or opened."""


class DemoError(TabotError):
    """A demo is unknown, or could not be run."""


class BackendError(TabotError):
    """An answer backend (e.g. an LLM) is unknown, misconfigured or unreachable."""
