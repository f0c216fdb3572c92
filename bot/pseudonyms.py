"""Who asked or voted, without storing who: HMAC-SHA256 of a user id under a per-data-folder salt.

A Discord user id or a browser session id is replaced by HMAC-SHA256(salt, id) before it reaches
any file (the question log, the feedback table). The salt is made once per data folder and never
leaves it, so one student's rows share a pseudonym (staff can count distinct students and one
vote per person still holds) but a pseudonym cannot be turned back into an id by trying every
Discord id without the salt. Both stores use the same salt, so a vote and a question by the same
student carry the same pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SALT_FILE = "question_log.salt"  # its historical name: the question log used it first
PSEUDONYM_CHARS = 32


def load_salt(data_dir: Path) -> bytes:
    """The data folder's salt, made on first use (readable by its owner only)."""
    path = Path(data_dir) / SALT_FILE
    if path.exists():
        salt = path.read_bytes()
        if len(salt) >= 16:
            return salt
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_bytes(32)
    # O_EXCL: when two processes (chat and Discord bot) start at once, one salt wins for both.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(salt)
    return salt


def pseudonym(salt: bytes, user: str | None) -> str | None:
    """The stored stand-in for `user` (None stays None: an anonymous row)."""
    if user is None:
        return None
    return hmac.new(salt, user.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:PSEUDONYM_CHARS]
