"""Settings: the only reader of `TABOT_*` environment variables.

Everything else receives a `Settings` (or the values it needs) through its constructor,
so tests build one with `Settings(data_dir=tmp_path)` instead of patching the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMBED_BACKENDS = ("onnx", "torch")


def _default_knowledge_dir() -> Path:
    return PROJECT_ROOT / "knowledge" / "answers"


@dataclass(frozen=True)
class RateLimit:
    """At most `count` requests per `per_seconds` window."""

    count: int
    per_seconds: float

    @classmethod
    def parse(cls, text: str, var: str) -> RateLimit:
        try:
            count, per = text.split("/")
            limit = cls(int(count), float(per))
        except ValueError:
            raise ConfigError(f"{var}={text!r} is not a rate; write it as COUNT/SECONDS, e.g. 5/60") from None
        if limit.count < 1 or limit.per_seconds <= 0:
            raise ConfigError(f"{var}={text!r}: both COUNT and SECONDS must be positive")
        return limit


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path.cwd() / ".tabot")
    knowledge_dir: Path = field(default_factory=_default_knowledge_dir)
    # An extra folder of staff demos (modules shaped like those in `demos/`), or None.
    demos_dir: Path | None = None
    chroma_url: str | None = None
    collection: str = "tabot_answers"
    # Questions longer than this are cut before embedding and lexical search.
    max_question_chars: int = 2000
    # Optional LLM backend, "provider:model" as LangChain's init_chat_model takes it.
    llm: str | None = None
    llm_base_url: str | None = None
    llm_timeout_s: float = 30.0
    demo_timeout_s: float = 60.0
    demo_memory_mb: int = 2048
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    discord_token: str | None = None
    # Who may /reindex besides administrators: the staff role's id (names are not unique; any role
    # manager can call a role "TA"). Unset: administrators only.
    discord_staff_role_id: int | None = None
    discord_allow_dms: bool = False
    discord_user_rate: RateLimit = RateLimit(5, 60.0)
    discord_channel_rate: RateLimit = RateLimit(30, 60.0)
    # How MiniLM runs: "onnx" (ONNX Runtime, exported once into the data dir; no torch on the query
    # path) or "torch" (sentence-transformers, the reference the ONNX model is checked against).
    embed_backend: str = "onnx"
    # The question log (what students asked, for course staff): on unless turned off; rows older than
    # `log_retention_days` are pruned on each write (None: kept until deleted).
    log_questions: bool = True
    log_retention_days: float | None = None
    # The chat's "Staff" tab (gaps, recent 👎) exists only when this is set; it is the Gradio login.
    staff_password: str | None = None

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def question_log_db(self) -> Path:
        return self.data_dir / "questions.sqlite3"

    @property
    def demo_cache_dir(self) -> Path:
        return self.data_dir / "demos"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}

        def text(var: str) -> str | None:
            value = env.get(var, "").strip()
            return value or None

        def number(var: str, kind: type) -> object | None:
            raw = text(var)
            if raw is None:
                return None
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(f"{var}={raw!r} is not a {kind.__name__}") from None
            if value <= 0:
                raise ConfigError(f"{var}={raw!r} must be positive")
            return value

        def flag(var: str) -> bool | None:
            raw = text(var)
            if raw is None:
                return None
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ConfigError(f"{var}={raw!r}: use true or false")

        for name, var in [("data_dir", "TABOT_DATA_DIR"), ("knowledge_dir", "TABOT_KNOWLEDGE_DIR"),
                          ("demos_dir", "TABOT_DEMOS_DIR")]:
            if (raw := text(var)) is not None:
                values[name] = Path(raw).expanduser().resolve()
        for name, var in [("chroma_url", "TABOT_CHROMA_URL"), ("collection", "TABOT_COLLECTION"),
                          ("llm", "TABOT_LLM"), ("llm_base_url", "TABOT_LLM_BASE_URL"),
                          ("host", "TABOT_HOST")]:
            if (raw := text(var)) is not None:
                values[name] = raw
        values["discord_token"] = text("TABOT_DISCORD_TOKEN") or text("DISCORD_TOKEN")
        # Not stripped: a password is what was typed, spaces included.
        values["staff_password"] = env.get("TABOT_STAFF_PASSWORD") or None
        for name, var, kind in [("max_question_chars", "TABOT_MAX_QUESTION_CHARS", int),
                                ("llm_timeout_s", "TABOT_LLM_TIMEOUT", float),
                                ("demo_timeout_s", "TABOT_DEMO_TIMEOUT", float),
                                ("demo_memory_mb", "TABOT_DEMO_MEMORY_MB", int),
                                ("port", "TABOT_PORT", int),
                                ("discord_staff_role_id", "TABOT_DISCORD_STAFF_ROLE_ID", int),
                                ("log_retention_days", "TABOT_LOG_RETENTION_DAYS", float)]:
            if (value := number(var, kind)) is not None:
                values[name] = value
        for name, var in [("share", "TABOT_SHARE"), ("discord_allow_dms", "TABOT_DISCORD_ALLOW_DMS"),
                          ("log_questions", "TABOT_LOG_QUESTIONS")]:
            if (value := flag(var)) is not None:
                values[name] = value
        for name, var in [("discord_user_rate", "TABOT_DISCORD_USER_RATE"),
                          ("discord_channel_rate", "TABOT_DISCORD_CHANNEL_RATE")]:
            if (raw := text(var)) is not None:
                values[name] = RateLimit.parse(raw, var)
        if (raw := text("TABOT_EMBED_BACKEND")) is not None:
            if raw.lower() not in EMBED_BACKENDS:
                raise ConfigError(f"TABOT_EMBED_BACKEND={raw!r} is not a backend; "
                                  f"use one of: {', '.join(EMBED_BACKENDS)}")
            values["embed_backend"] = raw.lower()
        if values.get("collection") is not None and len(str(values["collection"])) < 3:
            raise ConfigError("TABOT_COLLECTION must be at least 3 characters (a Chroma rule)")
        if values.get("chroma_url") is not None and not str(values["chroma_url"]).startswith(("http://", "https://")):
            raise ConfigError("TABOT_CHROMA_URL must look like http://HOST:PORT")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
