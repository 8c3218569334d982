"""Argon2id password hashing, run off the event loop (it is deliberately slow).

How slow is a setting of the process (`CONSULT_PASSWORD_HASHING`): RFC 9106's second
recommended profile by default, OWASP's lighter minimum for sites with logins by the thousand
a minute; a profile costing about a millisecond exists for test suites,
which create and log in thousands of accounts and have nothing to protect. Verifying reads the
parameters from the hash itself, and a hash made with other parameters than the process's is
made again at the next login (:func:`needs_rehash`), so moving between profiles needs nothing
more.
"""

from __future__ import annotations

import logging
from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

STANDARD_PROFILE = "rfc9106"
LIGHTER_PROFILE = "owasp"
TESTS_ONLY_PROFILE = "fast-for-tests"
PROFILES: dict[str, PasswordHasher] = {
    # argon2-cffi's defaults: RFC 9106's second recommended profile (Argon2id, 3 passes over
    # 64 MiB, 4 lanes).
    STANDARD_PROFILE: PasswordHasher(),
    # The first Argon2id configuration of OWASP's Password Storage Cheat Sheet (2 passes over
    # 19 MiB, 1 lane): about an eighth of the CPU per login, for a site whose logins come by
    # the thousand a minute (decision 0044).
    LIGHTER_PROFILE: PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),
    # One pass over 1 MiB: Argon2id still, a thousand times cheaper, never for real accounts.
    TESTS_ONLY_PROFILE: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
PROFILE_NAMES = tuple(PROFILES)

_profile = STANDARD_PROFILE
_hasher = PROFILES[_profile]  # stateless parameters, safe to share between threads

logger = logging.getLogger(__name__)


def use_profile(name: str) -> None:
    """Hash the passwords of this process with the parameters of profile `name`."""
    global _profile, _hasher
    if name not in PROFILES:
        raise ValueError(f"unknown password hashing profile {name!r}")
    if name == TESTS_ONLY_PROFILE and name != _profile:
        logger.warning("passwords are hashed with %s: for test suites only", name)
    _profile, _hasher = name, PROFILES[name]


def current_profile() -> str:
    """The name of the profile this process hashes passwords with."""
    return _profile


async def hash_password(password: str) -> str:
    """Hash a password with Argon2id in a worker thread."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its hash in a worker thread."""
    hasher = _hasher

    def _verify() -> bool:
        try:
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than this process's."""
    return _hasher.check_needs_rehash(password_hash)


def dummy_hash() -> str:
    """A real hash to verify against when the email is unknown, so that a login
    attempt takes the same time whether or not the account exists."""
    return _dummy_hash_of(_profile)


@cache
def _dummy_hash_of(profile: str) -> str:
    return PROFILES[profile].hash("not-a-real-password-but-the-same-cost")
