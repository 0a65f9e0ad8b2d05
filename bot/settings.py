"""Settings read from the environment or `.env`.

A wrong value stops start-up with one line naming the setting (see `load_settings`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/gridbot.sqlite3"
TELEGRAM_API_BASE = "https://api.telegram.org"
# Telegram allows 1-256 of these characters; fewer than 16 could be guessed.
WEBHOOK_SECRET_RULE = "16 to 256 characters of A-Z a-z 0-9 _ -"
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


class SettingsError(Exception):
    """A setting is wrong; the message names it and fits on one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base: str = TELEGRAM_API_BASE
    timezone: str = "Asia/Shanghai"
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    default_language: Literal["zh", "en"] = "zh"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Webhook mode: updates this instance hands from the inbox to its handlers at once.
    inbox_workers: int = Field(default=4, ge=1, le=64)
    # Several instances: one Redis holds each conversation's lock (bot/state_backend.py).
    redis_url: SecretStr | None = None
    run_scheduler: bool = True
    # A process without the scheduler's lock tries to take it over this often (seconds).
    scheduler_lock_retry_s: float = Field(default=15.0, gt=0, le=60)
    # Multiplies the notifier's own rates (overall, per chat, per group). 1.0 runs just under
    # Telegram's limits; below 1 sends slower (a shared token, tests that must see a queue).
    notifier_rate_scale: float = Field(default=1.0, gt=0, le=1.0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":  # `REDIS_URL=` means unset
            return None
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":  # `WEBHOOK_SECRET=` means unset
            return None
        if not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(f"must be {WEBHOOK_SECRET_RULE}")
        return value

    def check_webhook(self) -> tuple[str, str]:
        """The webhook's URL and secret. Webhook mode never runs open: without the secret,
        anyone who reaches the port could post updates as any user id, admins included."""
        if not self.webhook_url:
            raise SettingsError("setting WEBHOOK_URL: required in webhook mode")
        if self.webhook_secret is None:
            raise SettingsError(
                f"setting WEBHOOK_SECRET: required in webhook mode ({WEBHOOK_SECRET_RULE})"
            )
        return self.webhook_url, self.webhook_secret.get_secret_value()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split(":///", 1)[1]
        return None if raw in ("", ":memory:") else Path(raw)


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn a validation failure into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name}: {message}") from None
