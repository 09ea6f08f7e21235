"""Settings, read once from the environment and an optional ``.env`` file.

Everything a deployment may change lives here so that the rest of the code never reads
``os.environ`` directly: one place to document, one place to validate.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.policy import Policy

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Deployment settings; see ``.env.example`` for the meaning of each."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    bot_api_url: str | None = Field(
        default=None, description="Bot API base URL, e.g. http://127.0.0.1:8081/bot"
    )
    database_url: str = "sqlite:///relais.sqlite3"
    default_locale: str = "fr"
    pseudonym_secret: SecretStr = SecretStr("change-me-in-production")
    flows_dir: Path = PROJECT_ROOT / "flows"
    locales_dir: Path = PROJECT_ROOT / "locales"
    log_level: str = "INFO"
    messages_per_second: float = Field(
        default=30.0, gt=0, description="Telegram's flood limit across all chats"
    )

    # Privacy and care: how long things are kept, and the single reminder.
    state_idle_hours: int = Field(default=24, ge=1, description="forget idle conversations")
    events_retention_days: int = Field(default=395, ge=1, description="keep statistics")
    nudge_minutes: int = Field(default=15, ge=0, description="one reminder; 0 switches off")

    # `relais export` and `relais dashboard` (operator figures); see .env.example.
    export_k: int = Field(default=5, ge=1, description="smallest count an export shows")
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

    def policy(self) -> Policy:
        """The part of the settings the engine tells people about (/confidentialite)."""
        return Policy(self.state_idle_hours, self.events_retention_days, self.nudge_minutes)

    @property
    def token(self) -> str | None:
        """The bot token in clear, for the one place that needs it (never log it)."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None
