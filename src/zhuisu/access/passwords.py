"""Passwords: argon2id (RFC 9106), the memory-hard KDF; only the hash string is ever stored.

Parameters are argon2-cffi's defaults (RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4), encoded in each
hash, so raising them later re-hashes each password at its next successful log-in (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # long enough for any pass-phrase, short enough that hashing cannot be a denial of service

_hasher = PasswordHasher()

# A valid hash of a random password: verifying against it when the user does not exist costs the same time
# as a real check, so response times do not tell which user names exist.
_DUMMY = _hasher.hash("zhuisu: no such user, constant-time answer")


class PasswordPolicyError(ValueError):
    """A new password that does not meet the policy (the message says why)."""


def check_policy(password: str, username: str = "") -> None:
    """Refuse passwords shorter than ``MIN_LENGTH``, absurdly long, or equal to the user name."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"the password must have at most {MAX_LENGTH} characters")
    if username and password.strip().lower() == username.strip().lower():
        raise PasswordPolicyError("the password must not be the user name")


def hash_password(password: str) -> str:
    """The argon2id hash string (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``) of a new password."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; with no hash (unknown user) spends the same time, False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
