"""pyspellchecker's English word list, held as 64-bit digests: 1.3 MB instead of 26 MB in every process.

The speller (`bot.search.reading.spelling`) asks one thing of the list: is this word English? Held
as a frozenset of its 160,572 strings, that answer cost 26 MB of every serving process's memory
(measured with `VmRSS`; `tabot ask` peaked at 356-362 MB against its 350 MB budget) and 0.15 s of
reading at each start. Held as the sorted BLAKE2b digests of the words, 8 bytes each, it costs
1.3 MB and a file read: the digests are worked out once per data folder and word list, and kept
there (`english_words/<the list's sha256>.u64`).

A word that is not on the list is taken for one only if its digest equals a listed word's: with
160,572 digests of 64 bits, about one word in 10^14. A lookup takes about 2 µs instead of 0.1 µs;
a 300-word post asks about each distinct word once.
"""

from __future__ import annotations

import array
import gzip
import hashlib
import json
import os
import sys
import tempfile
from bisect import bisect_left
from functools import cache
from importlib import resources
from pathlib import Path

# Where the kept digests live inside a data folder (`Settings.data_dir`).
FOLDER = "english_words"
_WIDTH = 8  # bytes per digest


def _digest(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=_WIDTH).digest(), "little")


def _word_list() -> bytes:
    """The wheel's list, compressed as it ships (a JSON object: word -> frequency)."""
    return (resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes()


class EnglishWords:
    """Whether a word (lower case) is on pyspellchecker's English list: `word in english`."""

    def __init__(self, digests: array.array[int]) -> None:
        self._digests = digests  # sorted

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        digest = _digest(word)
        at = bisect_left(self._digests, digest)
        return at < len(self._digests) and self._digests[at] == digest

    def __len__(self) -> int:
        return len(self._digests)

    @classmethod
    def of(cls, words: list[str]) -> EnglishWords:
        return cls(array.array("Q", sorted({_digest(word) for word in words})))

    @classmethod
    def read(cls, data_dir: Path | None) -> EnglishWords:
        """The list's digests as kept in `data_dir`, worked out (0.2 s) and kept there when they are not
        (or cannot be read); None: worked out, kept nowhere."""
        packed = _word_list()
        if data_dir is None:
            return cls.of(list(json.loads(gzip.decompress(packed))))
        path = data_dir / FOLDER / f"{hashlib.sha256(packed).hexdigest()[:16]}.u64"
        try:
            kept = path.read_bytes()
        except OSError:
            kept = b""
        if kept and len(kept) % _WIDTH == 0:
            digests = array.array("Q")
            digests.frombytes(kept)
            return cls(digests)
        words = cls.of(list(json.loads(gzip.decompress(packed))))
        _keep(path, words._digests.tobytes())
        return words


def _keep(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a reader never sees half a file); a folder that
    cannot be written only means the digests are worked out again next time."""
    written: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            written = handle.name
            handle.write(data)
        os.chmod(written, 0o644)  # as the data folder's other files (a temporary file is the owner's only)
        os.replace(written, path)
    except OSError as error:
        print(f"english words: could not keep their digests in {path.parent} ({error})", file=sys.stderr)
        if written is not None:
            Path(written).unlink(missing_ok=True)


@cache
def english_words(data_dir: Path | None = None) -> EnglishWords:
    """The list, once per process and data folder."""
    return EnglishWords.read(data_dir)
