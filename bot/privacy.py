"""Pseudonymous keys: how the bot recognises a returning person without knowing who.

A Telegram id is never stored; an HMAC of it under a deployment secret is. Without the
secret the key cannot be turned back into an id, not even by trying every id, and rotating
the secret cuts every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken


def pseudonym(secret: str, namespace: str, raw_id: int | str) -> str:
    """A stable key for ``raw_id`` (e.g. a Telegram user id) within ``namespace``."""
    message = f"{namespace}:{raw_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_session_id() -> str:
    """A random id for one conversation's statistics; unlinked to the person once the
    conversation state is gone."""
    return secrets.token_hex(8)


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(b"relais-reach:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, chat_id: int) -> str:
    """Encrypt a chat id for the one case the bot must write first (a pending reminder).

    Unlike a pseudonym this can be opened again, so it is stored only while a reminder is
    due and erased as soon as it is sent, cancelled, or the person asks to be forgotten.
    """
    return _fernet(secret).encrypt(str(chat_id).encode()).decode()


def unseal(secret: str, token: str) -> int | None:
    """The chat id in ``token``, or ``None`` if it was sealed under another secret."""
    try:
        return int(_fernet(secret).decrypt(token.encode()))
    except (InvalidToken, ValueError):
        return None
