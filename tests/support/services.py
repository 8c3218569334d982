"""The outside services some tests need (PostgreSQL, Redis), named by environment variables."""

from __future__ import annotations

import os
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

REQUIRE_SERVICES = os.environ.get("CONSULT_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("CONSULT_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CONSULT_TEST_REDIS_URL")


def service_missing(name: str, variable: str) -> NoReturn:
    """Skip when a service is not configured, but fail when CI requires every service."""
    message = f"{name} tests need {variable}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (CONSULT_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


def postgres_url() -> str:
    """The PostgreSQL server the tests may create databases on."""
    if not POSTGRES_URL:
        service_missing("PostgreSQL", "CONSULT_TEST_DATABASE_URL")
    return POSTGRES_URL


def redis_url() -> str:
    """The Redis database the worker tests own.

    Tests run in parallel processes (pytest-xdist) each get the configured database number
    plus their own index: tests forget arq's keys between runs, which must never touch the
    jobs of a test running beside them."""
    if not REDIS_URL:
        service_missing("Redis", "CONSULT_TEST_REDIS_URL")
    return redis_url_for_process(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))


def redis_url_for_process(url: str, process: str) -> str:
    """`url` with its database number moved up by the index of the test process `process`
    ("gw0", "gw1", ...; empty when tests run in one process)."""
    if not process:
        return url
    parsed = urlsplit(url)
    base = int(parsed.path.strip("/") or 0)
    return urlunsplit(parsed._replace(path=f"/{base + int(process.removeprefix('gw'))}"))
