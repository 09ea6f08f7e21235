"""Pseudonymous keys: how the bot recognises a returning person without knowing who.

A Telegram id is never stored; an HMAC of it under a deployment secret is. Without the
secret the key cannot be turned back into an id, not even by trying every id, and rotating
the secret cuts every link at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def pseudonym(secret: str, namespace: str, raw_id: int | str) -> str:
    """A stable key for ``raw_id`` (e.g. a Telegram user id) within ``namespace``."""
    message = f"{namespace}:{raw_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_session_id() -> str:
    """A random id for one conversation's statistics; unlinked to the person once the
    conversation state is gone."""
    return secrets.token_hex(8)
