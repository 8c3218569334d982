"""Typed settings read from the environment (`CONSULT_*` variables)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from consult.i18n import SUPPORTED_LANGUAGES

DEFAULT_DATA_DIR = Path("var")


class SettingsError(ValueError):
    """A setting has a value the application cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment.

    Each field maps to one `CONSULT_<NAME>` variable; `docs/configuration.md`
    documents every one of them (a test keeps the two in step).
    """

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'consult.sqlite3'}"
    redis_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    base_url: str = "http://127.0.0.1:8000"
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    session_idle_minutes: int = 60 * 24 * 7
    session_absolute_days: int = 30
    rate_limit: str = "100/minute"
    rate_limit_post: str = "300/5 minutes"
    rate_limit_login: str = "10/minute"
    rate_limit_contribute: str = "20/minute"
    form_min_seconds: int = 2
    page_cache_seconds: int = 5
    embedding_model: str = ""
    synthesis_processes: int = field(default_factory=lambda: default_synthesis_processes())
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    mail_from: str = "consult <noreply@localhost>"
    debug: bool = False

    @property
    def sends_email(self) -> bool:
        """Whether a mail server is configured (without one, no email is written)."""
        return bool(self.smtp_host)

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry `Secure` (and the `__Host-` prefix) when served over HTTPS."""
        return urlsplit(self.base_url).scheme == "https"

    @property
    def origin(self) -> str:
        """The scheme://host[:port] origin of the public site."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `CONSULT_*` variables, falling back to defaults."""
        env = os.environ if environ is None else environ
        defaults = cls()
        values: dict[str, object] = {}
        if url := env.get("CONSULT_DATABASE_URL"):
            values["database_url"] = normalise_database_url(url)
        if url := env.get("CONSULT_REDIS_URL"):
            values["redis_url"] = url
        if key := env.get("CONSULT_SECRET_KEY"):
            if len(key) < 32:
                raise SettingsError("CONSULT_SECRET_KEY must be at least 32 characters long")
            values["secret_key"] = key
        if base := env.get("CONSULT_BASE_URL"):
            if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
                raise SettingsError("CONSULT_BASE_URL must be an absolute http(s) URL")
            values["base_url"] = base.rstrip("/")
        if langs := env.get("CONSULT_LANGUAGES"):
            chosen = tuple(code.strip() for code in langs.split(",") if code.strip())
            unknown = [code for code in chosen if code not in SUPPORTED_LANGUAGES]
            if unknown or not chosen:
                raise SettingsError(
                    f"CONSULT_LANGUAGES: unsupported {unknown}; choose among {SUPPORTED_LANGUAGES}"
                )
            values["languages"] = chosen
        for name in (
            "session_idle_minutes",
            "session_absolute_days",
            "form_min_seconds",
            "page_cache_seconds",
            "synthesis_processes",
            "smtp_port",
        ):
            if raw := env.get(f"CONSULT_{name.upper()}"):
                try:
                    values[name] = int(raw)
                except ValueError as exc:
                    raise SettingsError(f"CONSULT_{name.upper()} must be an integer") from exc
        for name in ("rate_limit", "rate_limit_post", "rate_limit_login", "rate_limit_contribute"):
            if raw := env.get(f"CONSULT_{name.upper()}"):
                values[name] = raw
        if raw := env.get("CONSULT_EMBEDDING_MODEL"):
            values["embedding_model"] = raw.strip()
        for name in ("smtp_host", "smtp_username", "smtp_password", "mail_from"):
            if raw := env.get(f"CONSULT_{name.upper()}"):
                values[name] = raw.strip()
        if raw := env.get("CONSULT_SMTP_STARTTLS"):
            values["smtp_starttls"] = raw.lower() in ("1", "true", "yes", "on")
        if raw := env.get("CONSULT_DEBUG"):
            values["debug"] = raw.lower() in ("1", "true", "yes", "on")
        return cls(**{**defaults.__dict__, **values})


def default_synthesis_processes() -> int:
    """Processes that cluster a run's articles side by side: one per core, at most four.

    A single core gets none: the job clusters in its own process, as a pool would only add
    the cost of starting it.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return 0 if cores < 2 else min(cores, 4)


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgresql://` and `sqlite://` spellings and pick async drivers."""
    for prefix, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url
