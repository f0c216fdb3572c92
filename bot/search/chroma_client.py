"""The Chroma client the index writes to: a Chroma server at `settings.chroma_url`, or an embedded
store in the data dir, rebuilt rather than refused when what is there cannot be read."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from urllib.parse import urlparse

import chromadb
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from bot.config import Settings
from bot.errors import SearchUnavailableError

Progress = Callable[[str], None]


def open_client(settings: Settings, say: Progress) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            secure = url.scheme == "https"
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or (443 if secure else 8000),
                                         ssl=secure, settings=chroma_settings)
            client.heartbeat()
        except Exception:
            raise SearchUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} - is it running? "
                                         "Start it with: chroma run --path DIR --host 127.0.0.1 --port N") from None
        return client
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)  # an unwritable data dir is the user's to fix, not "corrupt"
    try:
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        client.list_collections()
        return client
    except Exception as error:  # a half-written or foreign directory: rebuild rather than refuse to start
        say(f"index data at {path} is unreadable ({error.__class__.__name__}); rebuilding it")
        _forget_chroma_system(str(path))
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _forget_chroma_system(path: str) -> None:
    """Chroma caches one System per persist path, so reopening a broken path would get the broken
    one back. Drop just that entry (`clear_system_cache()` would also drop every other client's)."""
    for cache in (getattr(SharedSystemClient, "_identifier_to_system", {}),
                  getattr(SharedSystemClient, "_identifier_to_refcount", {})):
        cache.pop(path, None)
