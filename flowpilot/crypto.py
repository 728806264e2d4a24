"""
Secrets at rest (PSA keys, webhook URLs): Fernet tokens under ``FIELD_ENCRYPTION_KEY``.

The setting holds one or more comma-separated Fernet keys. ``MultiFernet`` encrypts with the
first and decrypts with any, so a key is rotated by putting the new one first, running
``manage.py rotate_encryption_keys`` (which re-encrypts every stored secret with it) and only then
removing the old key.

Without a key a secret is never stored in clear: saving one is refused, except in the demo
(``DEBUG``), where a key derived from the development ``SECRET_KEY`` stands in so a newcomer's
first run works. That derived key protects nothing that matters and is never used outside
``DEBUG``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from flowpilot.errors import DomainError

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "gAAAA"  # noqa: S105 - every Fernet token starts with the version byte 0x80 and a timestamp


class EncryptionUnavailable(DomainError):
    """No ``FIELD_ENCRYPTION_KEY`` outside the demo: a secret cannot be saved safely."""

    status = 503
    code = "encryption_key_missing"

    def __init__(self) -> None:
        super().__init__(
            "Secrets cannot be saved: the server has no FIELD_ENCRYPTION_KEY configured. "
            "Ask the operator to set one (see the README, 'Secrets at rest')."
        )


class SecretUnreadable(DomainError):
    """A stored secret that none of the configured keys decrypts (a key was dropped too soon)."""

    status = 500
    code = "secret_unreadable"

    def __init__(self) -> None:
        super().__init__(
            "A stored secret cannot be decrypted with the configured keys; enter it again."
        )


def _demo_key(secret_key: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"fernet:{secret_key}".encode()).digest())


@lru_cache(maxsize=4)
def _build(keys: str, debug: bool, secret_key: str) -> MultiFernet | None:
    parts = [part.strip() for part in keys.split(",") if part.strip()]
    if not parts:
        if not debug:
            return None
        parts = [_demo_key(secret_key).decode()]
    try:
        return MultiFernet([Fernet(part.encode()) for part in parts])
    except ValueError as exc:
        raise ValueError(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from exc


def fernet() -> MultiFernet | None:
    """The configured MultiFernet, or None when no key is available."""
    return _build(
        str(getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""),
        bool(settings.DEBUG),
        str(settings.SECRET_KEY),
    )


def encryption_available() -> bool:
    return fernet() is not None


def encrypt(value: str) -> str:
    """A Fernet token for ``value``; refuses (never stores clear text) without a key."""
    box = fernet()
    if box is None:
        raise EncryptionUnavailable()
    return box.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear text of a stored token ("" stays ""). Unreadable → ``SecretUnreadable``."""
    if not token:
        return ""
    box = fernet()
    if box is None:
        raise EncryptionUnavailable()
    try:
        return box.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        logger.error("A stored secret could not be decrypted with the configured keys.")
        raise SecretUnreadable() from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the first key (decryptable by any configured key)."""
    box = fernet()
    if box is None:
        raise EncryptionUnavailable()
    try:
        return box.rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable() from exc


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def mask(value: str, *, keep: int = 4) -> str:
    """A hint that a secret is set without revealing it: its last characters at most."""
    if not value:
        return ""
    tail = value[-keep:] if len(value) > keep * 3 else ""
    return f"••••{tail}"
