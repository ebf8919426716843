"""API keys and session tokens: high-entropy random strings, stored only as their SHA-256.

Format of an API key: ``zs_`` + 52 characters of lower-case base32 (32 random bytes, 256 bits), e.g.
``zs_mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwe3de``. The prefix lets secret scanners recognise leaked
keys; a key is shown once, when created, and lists show its first characters (``prefix``) only. Because a key
carries 256 bits of entropy, nobody can guess it from its hash, so a fast hash (SHA-256) is right here and
lets every request authenticate in microseconds (passwords, which people choose, use argon2id instead).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

KEY_PREFIX = "zs_"
_KEY_RE = re.compile(r"^zs_[a-z2-7]{52}$")
SHOWN_PREFIX = 10  # characters of a key lists show: "zs_" and 7 more


def new_api_key() -> str:
    """A fresh API key (see module docstring)."""
    return KEY_PREFIX + base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=").lower()


def looks_like_key(text: str) -> bool:
    return bool(_KEY_RE.match(text))


def new_session_token() -> str:
    """A fresh session cookie value (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    """What the database keeps of a key or session token: hex SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    return key[:SHOWN_PREFIX]
