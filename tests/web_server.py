"""Launch the real Gradio app in-process on a free port, for the gradio_client and browser tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.config import Settings
from bot.faces.web import build_app, launch_kwargs
from bot.faces.web_files import public_dir
from bot.feedback import FeedbackStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(service: Any, settings: Settings, staff: Any = None) -> Iterator[tuple[str, FeedbackStore]]:
    """Yield (url, feedback store) while the app serves (with a Staff tab if `staff`); always closes it."""
    settings = settings.with_(host="127.0.0.1", port=free_port(), share=False)
    store = FeedbackStore(settings.feedback_db)
    app = build_app(service, store, public_dir(settings), staff=staff)
    app.queue().launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(settings))
    try:
        yield f"http://127.0.0.1:{settings.port}/", store
    finally:
        app.close()
