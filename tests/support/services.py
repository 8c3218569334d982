"""The outside services some tests need (PostgreSQL, Redis), named by environment variables."""

from __future__ import annotations

import os
from typing import NoReturn

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
    """The Redis database the worker tests own."""
    if not REDIS_URL:
        service_missing("Redis", "CONSULT_TEST_REDIS_URL")
    return REDIS_URL
