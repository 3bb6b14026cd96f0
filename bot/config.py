"""Settings from the environment and an optional .env file, checked once in main()."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ru", "ro", "en")
PLATFORMS = ("telegram", "vk")

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


T = TypeVar("T")


class ConfigError(Exception):
    """A configuration mistake: one line naming the variable and the fix."""


def required(value: T | None, variable: str) -> T:
    """A setting the calling path needs: that path runs only when it is set (a webhook only with
    WEBHOOK_URL, VK only with VK_TOKEN), so None here is a wiring mistake, told in one line."""
    if value is None:
        raise ConfigError(f"config error: {variable} is not set")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore")

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    telegram_api_url: str | None = Field(default=None, alias="TELEGRAM_API_URL")
    vk_token: SecretStr | None = Field(default=None, alias="VK_TOKEN")
    vk_group_id: int | None = Field(default=None, alias="VK_GROUP_ID")
    vk_api_url: str | None = Field(default=None, alias="VK_API_URL")
    vk_confirmation_code: str | None = Field(default=None, alias="VK_CONFIRMATION_CODE")
    vk_callback_secret: SecretStr | None = Field(default=None, alias="VK_CALLBACK_SECRET")
    # The VK app's service key: reports count the likes, comments, reposts and views of VK_GROUP_ID's wall posts (wall.get)
    vk_service_token: SecretStr | None = Field(default=None, alias="VK_SERVICE_TOKEN")
    database_url: str = Field(default="sqlite+aiosqlite:///vmeste.db", alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")  # conversation state in Redis instead of the database
    content_dir: Path = Field(default=PROJECT_ROOT / "content", alias="CONTENT_DIR")
    default_timezone: str = Field(default="UTC", alias="DEFAULT_TIMEZONE")
    default_language: str = Field(default="en", alias="DEFAULT_LANGUAGE")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    webhook_host: str = Field(default="0.0.0.0", alias="WEBHOOK_HOST")
    webhook_port: int = Field(default=8080, alias="WEBHOOK_PORT")
    admins: str = Field(default="", alias="ADMINS")
    invite_ttl_hours: int = Field(default=168, gt=0, alias="INVITE_TTL_HOURS")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # A claimed question unanswered past its specialty's target is reminded; this much working time
    # later it goes back to the queue. Unset: the target again; 0: it stays with the specialist.
    consultation_return_minutes: int | None = Field(default=None, ge=0, alias="CONSULTATION_RETURN_MINUTES")
    # Flash courses: no lesson goes out in these local hours ("21:00-09:00"; "" for none); one reminder
    # when a lesson stays unopened this many days (0: no reminders); the address families open lesson
    # videos through (the bot counts the view and forwards them; unset: the watch button sends the link)
    course_quiet_hours: str = Field(default="21:00-09:00", alias="COURSE_QUIET_HOURS")
    course_reminder_days: int = Field(default=0, ge=0, alias="COURSE_REMINDER_DAYS")
    public_url: str | None = Field(default=None, alias="PUBLIC_URL")
    # Parent chats: a newcomer's welcome (with the rules) is removed after this many minutes; 0 keeps it
    chat_welcome_minutes: int = Field(default=10, ge=0, alias="CHAT_WELCOME_MINUTES")
    # ... and a message reported (/report) by this many different members is removed by the bot itself
    chat_reports_to_act: int = Field(default=3, gt=0, alias="CHAT_REPORTS_TO_ACT")
    # ... and a newcomer's messages with links or forwards wait for the moderators this many hours after joining; 0: never
    chat_newcomer_hours: int = Field(default=24, ge=0, alias="CHAT_NEWCOMER_HOURS")
    link_secret: SecretStr | None = Field(default=None, alias="LINK_SECRET")  # signs lesson links; unset: derived from the bot's token
    # Per user: private messages and button presses beyond this many within FLOOD_SECONDS are dropped; 0 switches it off
    flood_messages: int = Field(default=10, ge=0, alias="FLOOD_MESSAGES")
    flood_seconds: float = Field(default=10, gt=0, alias="FLOOD_SECONDS")
    # Delivery (the outbox): platform limits, 0 switches a limit off
    delivery_telegram_rate: float = Field(default=30, ge=0, alias="DELIVERY_TELEGRAM_RATE")
    delivery_vk_rate: float = Field(default=20, ge=0, alias="DELIVERY_VK_RATE")
    delivery_chat_rate: float = Field(default=1, ge=0, alias="DELIVERY_CHAT_RATE")
    delivery_group_per_minute: float = Field(default=20, ge=0, alias="DELIVERY_GROUP_PER_MINUTE")
    delivery_concurrency: int = Field(default=32, gt=0, alias="DELIVERY_CONCURRENCY")
    delivery_max_attempts: int = Field(default=8, gt=0, alias="DELIVERY_MAX_ATTEMPTS")
    delivery_backoff_seconds: float = Field(default=2, gt=0, alias="DELIVERY_BACKOFF_SECONDS")
    delivery_backoff_max_seconds: float = Field(default=600, gt=0, alias="DELIVERY_BACKOFF_MAX_SECONDS")
    delivery_timeout_seconds: float = Field(default=20, gt=0, alias="DELIVERY_TIMEOUT_SECONDS")
    delivery_lease_seconds: float = Field(default=120, gt=0, alias="DELIVERY_LEASE_SECONDS")
    delivery_progress_seconds: float = Field(default=3, gt=0, alias="DELIVERY_PROGRESS_SECONDS")

    @field_validator("vk_group_id")
    @classmethod
    def _group_id(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("must be the community's positive numeric id — find it in the community's settings")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("is not a Telegram bot token — copy it from @BotFather, it looks like 123456:ABC-DEF...")
        return value

    @field_validator("course_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value.strip():
            parse_quiet_hours(value)
        return value.strip()

    @field_validator("telegram_api_url", "vk_api_url", "webhook_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL — write it like http://127.0.0.1:8081")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("redis", "rediss", "unix") or not (parsed.netloc or parsed.path):
            raise ValueError("is not a Redis URL (not shown here: it may hold a password) — write it like redis://127.0.0.1:6379/0")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone — use an IANA name like Europe/Moscow") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"{value!r} is not supported — use one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"{value!r} is not a log level — use DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("admins")
    @classmethod
    def _admins(cls, value: str) -> str:
        parse_admins(value)
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET: required when WEBHOOK_URL is set — set 1-256 characters of A-Z a-z 0-9 _ -")
        if self.webhook_secret and not _SECRET_RE.match(self.webhook_secret.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET: use 1-256 characters of A-Z a-z 0-9 _ - only")
        if self.vk_token and not self.vk_group_id:
            raise ValueError("VK_GROUP_ID: required with VK_TOKEN — set the numeric id of your VK community")
        if self.vk_service_token and not self.vk_group_id:
            raise ValueError("VK_GROUP_ID: required with VK_SERVICE_TOKEN — set the numeric id of the VK community whose wall posts the reports count")
        if self.vk_confirmation_code and not self.vk_callback_secret:
            raise ValueError("VK_CALLBACK_SECRET: required with VK_CONFIRMATION_CODE — set the secret key from the community's Callback API settings")
        return self

    def secrets(self) -> list[str]:
        """What the log must never show (bot.logs hides them)."""
        values = [self.bot_token, self.vk_token, self.vk_service_token, self.webhook_secret, self.vk_callback_secret, self.link_secret]
        passwords = [make_url(self.database_url).password or "", urlparse(self.redis_url).password or "" if self.redis_url else ""]
        return [value.get_secret_value() for value in values if value] + passwords

    @property
    def admin_accounts(self) -> frozenset[tuple[str, int]]:
        return parse_admins(self.admins)

    def require_platform(self) -> None:
        if self.bot_token is None and self.vk_token is None:
            raise ConfigError(
                "config error: BOT_TOKEN: not set, and no VK_TOKEN either — set BOT_TOKEN from @BotFather, "
                "or VK_TOKEN and VK_GROUP_ID from your VK community (or try `python -m bot demo`, which needs neither)"
            )


def async_database_url(value: str) -> str:
    """Accept plain sqlite:// and postgresql:// URLs and pick the async driver for them."""
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # the value is not echoed: it may hold a password
        raise ValueError(
            "the value is not a database URL (not shown here: it may hold a password) — use sqlite+aiosqlite:///vmeste.db or postgresql+asyncpg://user:password@host/db"
        ) from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None and url.drivername not in _ASYNC_DRIVERS.values():
        raise ValueError(f"database {url.drivername!r} is not supported — use sqlite+aiosqlite:// or postgresql+asyncpg://")
    if driver:
        url = url.set(drivername=driver)
    return url.render_as_string(hide_password=False)


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """COURSE_QUIET_HOURS="21:00-09:00" (the span may cross midnight); "" means none."""
    if not value.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not a span of hours — write it like 21:00-09:00, or leave it empty for none") from None
    return start, end


def parse_admins(value: str) -> frozenset[tuple[str, int]]:
    """ADMINS="123, vk:456": bare ids are Telegram ids."""
    accounts = set()
    for item in filter(None, (part.strip() for part in value.split(","))):
        platform, _, raw_id = item.rpartition(":")
        platform = {"": "telegram", "tg": "telegram"}.get(platform, platform)
        if platform not in PLATFORMS or not raw_id.lstrip("-").isdigit():
            raise ValueError(f"{item!r} is not an account — write ids like 123456789 or vk:123456789, separated by commas")
        accounts.add((platform, int(raw_id)))
    return frozenset(accounts)


def load_settings(env_file: str | None = ".env", **overrides: object) -> Settings:
    """Build Settings or raise ConfigError with one line naming the variable and the fix."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    field = first["loc"][0] if first["loc"] else None
    name = _env_name(str(field)) if field is not None else None
    if name and not message.startswith(name):
        message = f"{name}: {message}"
    if "—" not in message:
        message += f" — {_TYPE_FIXES.get(first['type'], 'see .env.example for the expected form')}"
    return f"config error: {message}"


_TYPE_FIXES = {
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "greater_than": "write a number above zero",
    "greater_than_equal": "write zero or a positive number",
}


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    return (info.alias if info and info.alias else field).upper()
