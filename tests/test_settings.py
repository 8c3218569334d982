"""Settings come from the environment, are validated, and are all documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from consult import settings as settings_module
from consult.settings import (
    Settings,
    SettingsError,
    declaration,
    declared_fields,
    main,
    markdown_table,
    normalise_database_url,
    variable_name,
    with_current_table,
)

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs" / "configuration.md"

# For each parser: a value as written in the environment and the value it gives. A parser
# without an entry here fails the round-trip test, so every new kind of setting is read once.
SAMPLES: dict[settings_module.Parser, tuple[str, object]] = {
    settings_module.TEXT: ("  mail.example.org ", "mail.example.org"),
    settings_module.EMBEDDING_MODEL: (" ./models/e5 ", "./models/e5"),
    settings_module.BOOLEAN: ("Yes", True),
    settings_module.COUNT: (" 7 ", 7),
    settings_module.PORT: ("587", 587),
    settings_module.SECONDS_FROM_30: (" 45 ", 45),
    settings_module.SECRET_KEY: ("s" * 32, "s" * 32),
    settings_module.HTTP_URL: ("https://consult.example.org/", "https://consult.example.org"),
    settings_module.DATABASE_URL: ("postgres://u@db/c", "postgresql+asyncpg://u@db/c"),
    settings_module.REDIS_URL: ("rediss://cache:6380/2", "rediss://cache:6380/2"),
    settings_module.LANGUAGES: ("en , fr", ("en", "fr")),
    settings_module.RATE_LIMIT: (" 7/hour ", "7/hour"),
    settings_module.ACCESSIBILITY: (" Partial ", "partial"),
    settings_module.LOG_FORMAT: (" JSON ", "json"),
    settings_module.LOG_LEVEL: ("Warning", "warning"),
    settings_module.PASSWORD_HASHING: ("fast-for-tests", "fast-for-tests"),
    settings_module.METRICS_TOKEN: (" " + "t" * 40 + " ", "t" * 40),
}


def _field_values(settings: Settings) -> dict[str, Any]:
    return {field.name: getattr(settings, field.name) for field in declared_fields()}


def test_defaults_run_the_embedded_setup() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.languages == ("fr", "en")
    assert not settings.secure_cookies
    assert not settings.sends_email
    assert len(settings.secret_key) >= 32


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
            "CONSULT_SMTP_HOST": "smtp.example.gouv.fr",
            "CONSULT_SMTP_STARTTLS": "off",
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
    assert settings.sends_email
    assert not settings.smtp_starttls


# Computed defaults fixed, so that two readings of the same environment compare equal.
FIXED = {"CONSULT_SECRET_KEY": "d" * 32, "CONSULT_SYNTHESIS_PROCESSES": "1"}


@pytest.mark.parametrize("declared", list(declared_fields()), ids=lambda field: field.name)
def test_every_setting_is_read_from_its_variable(declared: dataclasses.Field[Any]) -> None:
    parser = declaration(declared).parser
    assert parser in SAMPLES, f"add a sample value for the parser of {declared.name}"
    raw, expected = SAMPLES[parser]
    before = _field_values(Settings.from_env(FIXED))
    if parser is settings_module.BOOLEAN and before[declared.name] is True:
        raw, expected = "Off", False  # a switch on by default is tried the other way
    assert before[declared.name] != expected, "the sample must differ from the default"

    after = _field_values(Settings.from_env({**FIXED, variable_name(declared): raw}))

    assert after == {**before, declared.name: expected}
    # The same value passed by keyword gives the same setting.
    assert getattr(Settings(**{declared.name: expected}), declared.name) == expected


def test_blank_variables_keep_their_defaults() -> None:
    environ = {variable_name(declared): "  " for declared in declared_fields()}
    settings = Settings.from_env(environ)
    assert settings.redis_url is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.smtp_port == 25


def test_variables_outside_the_prefix_are_ignored() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u@db/c", "consult_rate_limit": "x"})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.rate_limit == "100/minute"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CONSULT_SECRET_KEY", "short", "at least 32 characters (it has 5)"),
        ("CONSULT_BASE_URL", "consult.example", "an absolute `http://` or `https://` address"),
        ("CONSULT_BASE_URL", "ftp://consult.example", "not 'ftp://consult.example'"),
        ("CONSULT_LANGUAGES", "fr,de", "(unsupported: de)"),
        ("CONSULT_LANGUAGES", ",", "codes among `fr,en`"),
        ("CONSULT_SESSION_IDLE_MINUTES", "soon", "a whole number, 0 or more, not 'soon'"),
        ("CONSULT_PAGE_CACHE_SECONDS", "-1", "a whole number, 0 or more"),
        ("CONSULT_SMTP_PORT", "70000", "a whole number from 1 to 65535"),
        ("CONSULT_SMTP_STARTTLS", "maybe", "`true` or `false`"),
        ("CONSULT_RATE_LIMIT_LOGIN", "lots", "a rate such as `100/minute`"),
        ("CONSULT_DATABASE_URL", "nonsense", "a database URL"),
        ("CONSULT_REDIS_URL", "cache:6379", "a `redis://`, `rediss://` or `unix://` URL"),
        ("CONSULT_PASSWORD_HASHING", "md5", "`rfc9106`, `owasp` or `fast-for-tests`"),
    ],
)
def test_bad_values_are_refused_with_the_variable_and_what_it_expects(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable} must be ")
    assert expected in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONSULT_SECRET_KEY", "hunter2-hunter2"),
        ("CONSULT_DATABASE_URL", "postgresql//admin:hunter2@db/consult"),
        ("CONSULT_REDIS_URL", "http://:hunter2@cache:6379/0"),
    ],
)
def test_refused_secrets_are_not_repeated(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable) as refused:
        Settings.from_env({variable: value})
    assert "hunter2" not in str(refused.value)


def test_every_field_is_declared_with_its_meaning() -> None:
    for declared in declared_fields():
        about = declaration(declared)
        assert about.meaning.endswith("."), declared.name
        assert about.parser.expects, declared.name
        if declared.default is dataclasses.MISSING:
            assert about.shown_default, f"{declared.name} needs its computed default described"


def test_the_documented_table_is_the_declared_one() -> None:
    document = DOCS.read_text(encoding="utf-8")
    assert with_current_table(document) == document, (
        "docs/configuration.md is out of date: python -m consult.settings --update "
        "docs/configuration.md"
    )
    for declared in declared_fields():
        assert f"| `{variable_name(declared)}` |" in document


def test_every_variable_named_in_the_docs_exists() -> None:
    """Docs and deployment examples name only settings and the variables tests and benchmarks
    read themselves."""
    settings = {variable_name(declared) for declared in declared_fields()}
    read_elsewhere = set()
    for source in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/**/*.py")]:
        read_elsewhere |= set(re.findall(r"\"(CONSULT_[A-Z_]+[A-Z])\"", source.read_text("utf-8")))
    named: dict[str, set[str]] = {}
    for document in [
        ROOT / "README.md",
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("deploy/**/*"),
        *ROOT.glob("bench/*.md"),
    ]:
        if document.is_file():
            for variable in re.findall(r"\bCONSULT_[A-Z_]+[A-Z]\b", document.read_text("utf-8")):
                named.setdefault(variable, set()).add(str(document.relative_to(ROOT)))
    unknown = {name: where for name, where in named.items() if name not in settings}
    unknown = {name: where for name, where in unknown.items() if name not in read_elsewhere}
    assert unknown == {}, "documented variables that nothing reads"


def test_the_table_command_prints_and_updates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()

    document = tmp_path / "configuration.md"
    document.write_text(
        f"# Settings\n\n{settings_module.TABLE_START}\n| stale |\n"
        f"{settings_module.TABLE_END}\n\nProse after.\n",
        encoding="utf-8",
    )
    assert main(["--update", str(document)]) == 0
    updated = document.read_text(encoding="utf-8")
    assert "| stale |" not in updated
    assert markdown_table() in updated
    assert updated.startswith("# Settings\n\n") and updated.endswith("\n\nProse after.\n")
    assert with_current_table(updated) == updated


def test_a_document_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="settings table"):
        with_current_table("# Settings\n\nNo table here.\n")


def test_secrets_stay_out_of_repr() -> None:
    shown = repr(Settings(secret_key="s" * 40, smtp_password="hunter2"))
    assert "s" * 40 not in shown
    assert "hunter2" not in shown


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
