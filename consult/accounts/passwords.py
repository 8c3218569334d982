"""Argon2id password hashing, run off the event loop (it is deliberately slow)."""

from __future__ import annotations

from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults follow RFC 9106's second recommended profile (Argon2id).
_hasher = PasswordHasher()  # stateless parameters, safe to share between threads

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


async def hash_password(password: str) -> str:
    """Hash a password with Argon2id in a worker thread."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its hash in a worker thread."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A real hash to verify against when the email is unknown, so that a login
    attempt takes the same time whether or not the account exists."""
    return _hasher.hash("not-a-real-password-but-the-same-cost")
