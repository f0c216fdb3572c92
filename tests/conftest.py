"""Shared fixtures. The real MiniLM and a real (embedded) Chroma are used wherever retrieval is
tested; building them once per session keeps the suite's run time reasonable on 2 cores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings

DATASETS = Path(__file__).resolve().parent.parent / "eval" / "datasets"


def load_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATASETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("tabot-data"))


@pytest.fixture(scope="session")
def tabot(session_settings: Settings):
    """A started bot over the real knowledge base (index built, demos verified)."""
    from bot.service import Tabot

    return Tabot.start(session_settings)
