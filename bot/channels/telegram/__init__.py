"""The Telegram channel: python-telegram-bot handlers that carry engine replies."""

from bot.channels.telegram.app import build_application

__all__ = ["build_application"]
