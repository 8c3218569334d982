"""Telling an outage from a bug: errors that mean a service cannot be reached right now.

A database that is down, restarting or out of reach, or a Redis that does not answer, is not a
bug in the request that met it: the web layer answers 503 with ``Retry-After`` and jobs log a
warning and are tried again. Everything else (an integrity violation, a programming error, a
syntax error in SQL) stays an error. This module is the one place that draws that line.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator

from sqlalchemy import exc as sa

DATABASE = "database"
REDIS = "redis"

# SQLite says so in words: the file is gone or unreadable, or another writer holds it longer
# than the busy timeout.
_SQLITE_OUTAGES = (
    "unable to open database file",
    "disk i/o error",
    "database is locked",
)
# PostgreSQL's SQLSTATE classes and codes that say the server cannot serve now: 08 (connection
# exception), 53300 (too many connections), 57P01-57P03 (shut down, crashed, starting up).
_POSTGRES_OUTAGE_CODES = ("08", "53300", "57P01", "57P02", "57P03")
_SOCKET_OUTAGES = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and those it was raised from or during, each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([current.__cause__, current.__context__])
        original = getattr(current, "orig", None)
        if isinstance(original, BaseException):
            pending.append(original)


def _database_outage(error: BaseException) -> bool:
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa.DisconnectionError | sa.TimeoutError):
        return True  # a connection refused by the pool's checks, or no connection free
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return any(words in message for words in _SQLITE_OUTAGES)
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and type(error).__module__.startswith("asyncpg"):
        return sqlstate.startswith(_POSTGRES_OUTAGE_CODES)
    module = type(error).__module__
    if module.startswith("asyncpg") and type(error).__name__ in (
        "ConnectionDoesNotExistError",
        "InterfaceError",
        "InternalClientError",
    ):
        return "connection" in str(error).lower() or "closed" in str(error).lower()
    # The socket itself: refused, reset, timed out, no route, no such host (asyncpg raises
    # these on connect, some as a bare OSError gathering each address's failure).
    if _from_redis(error) or not isinstance(error, OSError):
        return False
    return (
        isinstance(error, ConnectionError | TimeoutError | socket.gaierror)
        or error.errno in _SOCKET_OUTAGES
        or "connect call failed" in str(error).lower()
    )


def _from_redis(error: BaseException) -> bool:
    return type(error).__module__.startswith("redis")


def unreachable_service(error: BaseException) -> str | None:
    """``"database"`` or ``"redis"`` when `error` means that service cannot be reached now,
    else None (a bug or a refusal, which stays an error)."""
    if isinstance(error, sa.IntegrityError | sa.ProgrammingError | sa.DataError):
        # Constraint violations and bad SQL are the request's own doing, whatever they carry.
        return None
    for link in _chain(error):
        if _from_redis(link) and type(link).__name__ in (
            "ConnectionError",
            "TimeoutError",
            "BusyLoadingError",
        ):
            return REDIS
        if _database_outage(link):
            return DATABASE
    return None
