"""Settings, read once from the environment and an optional ``.env`` file.

Everything a deployment may change lives here so that the rest of the code never reads
``os.environ`` directly: one place to document, one place to validate.
"""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.policy import Policy
from bot.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_SCHEMES = ("sqlite://", "postgresql://", "postgres://")


def shipped(name: str) -> Path:
    """``flows`` or ``locales`` as shipped: inside the installed wheel (``bot/_data``), else
    at the top of the source checkout, where volunteers edit them."""
    packaged = resources.files("bot").joinpath("_data", name)
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return PROJECT_ROOT / name


# PSEUDONYM_SECRET keys the hash that replaces Telegram ids and the key that seals a chat id
# for the reminder: anyone who knows it can turn a stored key back into an id in seconds
# (ids are small numbers), so a bot facing Telegram never runs on a guessable one.
EXAMPLE_SECRET = "change-me-in-production"  # the value .env.example once shipped
SECRET_MIN_LENGTH = 32
MAKE_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


# Below 3, a count shown as "<k" tells a reader it is 0, 1 (or 2): a lone conversation.
EXPORT_K_MIN = 3


class InsecureSecret(ValueError):
    """PSEUDONYM_SECRET cannot protect people's ids; the message (one line) says how to fix
    it and never repeats the value."""


def pseudonym_secret_problem(secret: SecretStr | str | None) -> str | None:
    """Why ``secret`` cannot be the bot's PSEUDONYM_SECRET, in one line; ``None`` if it can."""
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret or ""
    if not value.strip():
        what = "PSEUDONYM_SECRET is not set"
    elif value == EXAMPLE_SECRET:
        what = "PSEUDONYM_SECRET is the example value, which anyone can read"
    elif len(value) < SECRET_MIN_LENGTH:
        what = f"PSEUDONYM_SECRET has {len(value)} characters, fewer than {SECRET_MIN_LENGTH}"
    else:
        return None
    return f"{what}: make one with {MAKE_SECRET} and put it in .env or the environment"


def sqlite_file(database_url: str) -> Path | None:
    """The file of a ``sqlite://`` URL (``None``: another database, or in memory)."""
    if not database_url.startswith("sqlite://"):
        return None
    path = database_url.removeprefix("sqlite://")
    path = path.removeprefix("/") if path.startswith("/") else path
    return Path(path) if path and path != ":memory:" else None


def local_secret(database_url: str) -> str:
    """A random secret for the console run without settings, kept beside its SQLite file
    (``relais.sqlite3.secret``, mode 0600) so the console recognises the same person next
    time. An in-memory database gets one for this run only."""
    database = sqlite_file(database_url)
    if database is None:
        return secrets.token_urlsafe(32)
    path = database.with_name(database.name + ".secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value + "\n")
    return value


class Settings(BaseSettings):
    """Deployment settings; see ``.env.example`` for the meaning of each."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    bot_api_url: str | None = Field(
        default=None, description="Bot API base URL, e.g. http://127.0.0.1:8081/bot"
    )
    database_url: str = "sqlite:///relais.sqlite3"
    default_locale: str = "fr"
    pseudonym_secret: SecretStr | None = None  # required to face Telegram (see above)
    flows_dir: Path = Field(default_factory=lambda: shipped("flows"))
    locales_dir: Path = Field(default_factory=lambda: shipped("locales"))
    log_level: str = "INFO"
    log_format: str = Field(default="text", description="text, or json: one object a line")
    messages_per_second: float = Field(
        default=30.0, gt=0, description="Telegram's flood limit across all chats"
    )

    # Privacy and care: how long things are kept, and the single reminder.
    state_idle_hours: int = Field(default=24, ge=1, description="forget idle conversations")
    events_retention_days: int = Field(default=395, ge=1, description="keep statistics")
    nudge_minutes: int = Field(default=15, ge=0, description="one reminder; 0 switches off")

    # `relais export` and `relais dashboard` (operator figures); see .env.example.
    export_k: int = Field(default=5, ge=EXPORT_K_MIN, description="smallest count an export shows")
    export_timezone: str = "Europe/Paris"
    dashboard_token: SecretStr | None = None
    # `relais run --webhook` (several replicas behind a load balancer); see .env.example.
    webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to"
    )
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"not a log level; use one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value.lower() not in ("text", "json"):
            raise ValueError("use text (the default) or json (one JSON object a line)")
        return value.lower()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(DATABASE_SCHEMES):
            raise ValueError(
                "only SQLite and PostgreSQL are supported; use sqlite:///relais.sqlite3 or "
                "postgresql://user:password@host:5432/relais"
            )
        return value

    @field_validator("export_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone; use an IANA name such as Europe/Paris") from None
        return value

    @field_validator("bot_api_url", "webhook_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be a web address starting with https:// (or http://)")
        return value or None

    def policy(self) -> Policy:
        """The part of the settings the engine tells people about (/confidentialite)."""
        return Policy(
            self.state_idle_hours,
            self.events_retention_days,
            self.nudge_minutes,
            self.export_timezone,
        )

    def bot_secret(self) -> str:
        """PSEUDONYM_SECRET for a bot facing Telegram; ``InsecureSecret`` if it is unset,
        the example value or too short."""
        problem = pseudonym_secret_problem(self.pseudonym_secret)
        if problem is not None or self.pseudonym_secret is None:
            raise InsecureSecret(problem)
        return self.pseudonym_secret.get_secret_value()

    def console_secret(self) -> str:
        """PSEUDONYM_SECRET if set, else the local one (nothing to configure on a laptop)."""
        if self.pseudonym_secret is not None and self.pseudonym_secret.get_secret_value():
            return self.pseudonym_secret.get_secret_value()
        return local_secret(self.database_url)

    def secrets(self) -> list[str]:
        """Every secret setting in clear, for the log filter to mask (besides the token)."""
        values = (self.webhook_secret, self.dashboard_token, self.pseudonym_secret)
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    @property
    def token(self) -> str | None:
        """The bot token in clear, for the one place that needs it (never log it)."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


# What a setting of each type wants, in words, for the line a wrong value gets.
_WANTS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def _describe(error: Any) -> str:
    """One pydantic error as the line an operator reads: the setting, what is wrong, what
    to put instead. Secret values are never repeated."""
    field = str(error["loc"][0]) if error["loc"] else ""
    name = field.upper()
    shown = f"={error.get('input')!s}"
    if "token" in field or "secret" in field:
        shown = ""
    elif field == "database_url":  # may carry a password: its scheme is enough
        shown = f"={str(error.get('input')).split(':', 1)[0]}:…"
    kind = str(error["type"]).split("_")[0]
    reason = str(error["msg"]).removeprefix("Value error, ")
    if kind in _WANTS:
        reason = f"must be {_WANTS[kind]}"
    reason = reason[:1].lower() + reason[1:]
    return f"{name}{shown}: {reason}; fix {name} in the environment or in .env"


def load_settings(env_file: str | None = ".env") -> Settings:
    """The settings, or ``SettingsError`` with one line per wrong value."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        raise SettingsError([_describe(error) for error in exc.errors()]) from None
