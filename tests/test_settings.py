"""Settings come from the environment, are validated, and are all documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from consult.settings import Settings, SettingsError, normalise_database_url

DOCS = Path(__file__).parents[1] / "docs" / "configuration.md"


def test_defaults_run_the_embedded_setup() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.languages == ("fr", "en")
    assert not settings.secure_cookies


def test_values_are_read_and_normalised() -> None:
    settings = Settings.from_env(
        {
            "CONSULT_DATABASE_URL": "postgresql://u@db/consult",
            "CONSULT_REDIS_URL": "redis://cache:6379/1",
            "CONSULT_SECRET_KEY": "k" * 40,
            "CONSULT_BASE_URL": "https://consult.example.gouv.fr/",
            "CONSULT_LANGUAGES": "en, fr",
            "CONSULT_SESSION_IDLE_MINUTES": "30",
            "CONSULT_RATE_LIMIT_LOGIN": "5/minute",
            "CONSULT_DEBUG": "yes",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u@db/consult"
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.base_url == "https://consult.example.gouv.fr"
    assert settings.origin == "https://consult.example.gouv.fr"
    assert settings.secure_cookies
    assert settings.languages == ("en", "fr")
    assert settings.session_idle_minutes == 30
    assert settings.rate_limit_login == "5/minute"
    assert settings.debug


@pytest.mark.parametrize(
    "environ",
    [
        {"CONSULT_SECRET_KEY": "short"},
        {"CONSULT_BASE_URL": "consult.example"},
        {"CONSULT_LANGUAGES": "fr,de"},
        {"CONSULT_SESSION_IDLE_MINUTES": "soon"},
    ],
)
def test_bad_values_are_refused_with_the_variable_named(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(environ))):
        Settings.from_env(environ)


def test_every_setting_is_documented_and_every_documented_variable_exists() -> None:
    documented = set(re.findall(r"`(CONSULT_[A-Z_]+)`", DOCS.read_text(encoding="utf-8")))
    fields = {f"CONSULT_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    test_only = {v for v in documented if v.startswith(("CONSULT_TEST_", "CONSULT_REQUIRE_"))}
    assert fields - documented == set(), "settings missing from docs/configuration.md"
    assert documented - test_only - fields == set(), "documented variables that do not exist"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://a@b/c", "postgresql+asyncpg://a@b/c"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://a@b/c", "postgresql+asyncpg://a@b/c"),
    ],
)
def test_database_url_spellings(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected
