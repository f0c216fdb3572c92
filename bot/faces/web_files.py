"""What the browser chat may serve, and what it refuses to take.

Gradio serves every file under `launch(allowed_paths=...)` to anyone who asks for its path. The demo
cache is not fit for that (it holds cached results JSON, the matplotlib font list, ...), so the chat
serves one folder of its own, `PublicFiles`, holding only what a reply links to: copies of demo
plots (checked to be PNG images) and the generated standalone scripts. Names are content hashes, so
two processes sharing a data dir, or a re-run demo, never overwrite a file another reply links to.

The chat has no upload widget, so `RefuseUploads` answers Gradio's upload routes with 403 before
Gradio reads a byte (issue 12: 200 MB were accepted and kept in the temp dir).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.responses import PlainTextResponse

from bot.config import Settings

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PLOT_BYTES = 8 * 1024 * 1024  # a demo plot is ~50 kB; anything near this is not a plot
# Gradio's routes that write request bodies to disk: file uploads and the screen-recording helper.
UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def public_dir(settings: Settings) -> Path:
    """The one folder the chat serves (`launch(allowed_paths=[...])`)."""
    return settings.data_dir / "public"


class PublicFiles:
    """Files a reply links to, each under `<folder>/<sha256 prefix>/<name>`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).resolve()

    def publish(self, data: bytes, filename: str) -> Path:
        name = _SAFE_NAME.sub("_", filename) or "file"
        path = self.folder / hashlib.sha256(data).hexdigest()[:20] / name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{name}.{os.getpid()}.tmp")  # whole file or nothing under the real name
            tmp.write_bytes(data)
            tmp.replace(path)
        return path

    def publish_plot(self, source: str | Path, filename: str) -> Path | None:
        """A copy of a demo's plot, if it is a PNG of sane size; None otherwise (logged): a reply
        without its plot beats no reply (a full disk, a deleted data dir, a demo writing junk)."""
        try:
            path = Path(source)
            if not path.is_file() or path.stat().st_size > MAX_PLOT_BYTES:
                raise ValueError("missing or too large")
            data = path.read_bytes()
            if not data.startswith(PNG_SIGNATURE):
                raise ValueError("not a PNG image")
            return self.publish(data, filename)
        except (OSError, ValueError) as error:
            log.warning("demo plot %s not shown: %s", source, error)
            return None

    def url(self, path: Path) -> str:
        """The link a reply uses. Relative, so it also works when the chat is served under a prefix."""
        return "gradio_api/file=" + quote(str(path), safe="/")


class RefuseUploads:
    """ASGI middleware: 403 for Gradio's upload routes, everything else passes through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and str(scope.get("path", "")).rstrip("/").endswith(UPLOAD_ROUTES):
            response = PlainTextResponse("Uploads are turned off on this chat.", status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
