"""One exception tree for tabot.

Every message is safe to show a student and says what to do next; front ends catch
`TabotError` at the edge and show `str(error)`, and log anything else with its traceback.
"""

from __future__ import annotations

import errno
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


class SearchUnavailableError(IndexBuildError):
    """The search service (a Chroma server) cannot be reached right now; retrying later may work."""


class FeedbackStoreError(TabotError):
    """The feedback database cannot be read or written (damaged, or a full disk)."""


# Words in the message of an error from inside a library (SQLite, Chroma) that say what the user can do.
_HINTS = (("disk is full", "the disk holding the data folder is full - free some space and try again"),
          ("no space left", "the disk holding the data folder is full - free some space and try again"),
          ("malformed", "a database in the data folder is damaged - move the data folder (TABOT_DATA_DIR) "
                        "aside and run `tabot index` to rebuild it"),
          ("not a database", "a database in the data folder is damaged - move the data folder (TABOT_DATA_DIR) "
                             "aside and run `tabot index` to rebuild it"),
          ("readonly database", "the data folder is read-only - check its permissions (TABOT_DATA_DIR)"),
          ("connection refused", "a server tabot talks to is not running - check TABOT_CHROMA_URL (chroma run ...)"))


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def report(prog: str, error: BaseException) -> int:
    """Print one line on stderr for an error that ends a command and return its exit status.

    2 for bad input or usage (an `InputError`), 130 for Ctrl-C, 1 for any other failure; an
    unwritable path names the path instead of showing a traceback, and an error from inside a
    library (a full disk in SQLite, a damaged database) is named in one line with what to do.
    Every command line calls this.
    """
    if isinstance(error, KeyboardInterrupt):
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    if isinstance(error, OSError) and not isinstance(error, TabotError):
        where = f" ({error.filename})" if error.filename else ""
        advice = ("free some space and try again" if error.errno == errno.ENOSPC else
                  "check the path and its permissions")
        print(_one_line(f"{prog}: {error.strerror or error}{where} - {advice} (TABOT_DATA_DIR sets the data folder)",
                        600), file=sys.stderr)
        return 1
    if not isinstance(error, TabotError):
        text = _one_line(str(error)) or "no message"
        advice = next((hint for words, hint in _HINTS if words in text.lower()), "please report it")
        print(f"{prog}: unexpected error ({type(error).__name__}: {text}) - {advice}", file=sys.stderr)
        return 1
    print(_one_line(f"{prog}: {error}", 600), file=sys.stderr)
    return 2 if isinstance(error, InputError) else 1
