"""One exception tree for tabot.

Every message is safe to show a student and says what to do next; front ends catch
`TabotError` at the edge and show `str(error)`, and log anything else with its traceback.
"""

from __future__ import annotations

import sys


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


def report(prog: str, error: BaseException) -> int:
    """Print one line on stderr for an error that ends a command and return its exit status.

    2 for bad input or usage (an `InputError`), 130 for Ctrl-C, 1 for any other failure; an
    unwritable path names the path instead of showing a traceback. Every command line calls this.
    """
    if isinstance(error, KeyboardInterrupt):
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    if isinstance(error, OSError) and not isinstance(error, TabotError):
        where = f" ({error.filename})" if error.filename else ""
        print(f"{prog}: {error.strerror or error}{where} - check the path and its permissions "
              "(TABOT_DATA_DIR sets the data folder)", file=sys.stderr)
        return 1
    print(f"{prog}: {error}", file=sys.stderr)
    return 2 if isinstance(error, InputError) else 1
