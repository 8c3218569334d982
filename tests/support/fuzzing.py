"""Bad input for every route: the forms the pages really show, values no route may choke on, and
a watch on the database that tells whether a refused request saved anything."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from consult.jobs import JobFunction
from consult.web.services import Services

# Values each field, parameter and path segment is tried with: what crashed before (NUL, which
# PostgreSQL refuses; a digit Python reads but `int` does not; numbers beyond a database integer
# or Python's conversion limit; signs), what forms must refuse (empty, blank, far too long) and
# what they must keep as typed (accents, markup).
BAD_VALUES: dict[str, str] = {
    "nul": "a\x00b",
    "superscript digit": "²",
    "beyond a database integer": "2147483648",
    "thousands of digits": "9" * 5000,
    "negative": "-1",
    "empty": "",
    "blank": "  \t ",
    "far too long": "mot " * 6000,
    "markup": "<script>alert(1)</script>é",
}

# Path segments, percent-encoded as a browser would send them.
BAD_SEGMENTS: dict[str, str] = {
    "nul": "%00",
    "superscript digit": "%C2%B2",
    "beyond a database integer": "2147483648",
    "thousands of digits": "9" * 5000,
    "negative": "-1",
    "accented": "%C3%A9t%C3%A9",
    "blank": "%20",
    "dot segments": "..%2F..%2Fetc",
}

# Filled into a form's empty fields so that each bad value reaches the checks behind the first.
SAMPLE_TEXT = "Une phrase ordinaire pour remplir ce champ."

# Rows a refused request may still write: who is logged in, the audit trail of refusals, wrong
# passwords counted towards pausing logins, and forms spent by a refused login.
VOLATILE_TABLES = frozenset(
    {"user_sessions", "audit_events", "login_failures", "spent_form_tokens", "account_notices"}
)

WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


def query_parameter_names(source: Path) -> list[str]:
    """Every query parameter the code reads (``query.get("page")``, ``params.get("page")``,
    ``_query_number(ctx, "page")``): read from the source so that a new one is tried too."""
    pattern = re.compile(r'(?:query|params)\.get\(\s*"(\w+)"|_query_\w+\(\s*ctx,\s*"(\w+)"')
    names: set[str] = set()
    for path in source.rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return sorted(names)


@dataclass
class Form:
    """A form as a page shows it: where it posts and the values a browser would send."""

    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)

    @property
    def shape(self) -> tuple[str, str, tuple[str, ...]]:
        """Forms that differ only by the row they act on (one reply form per contribution)
        are tried once."""
        return self.method, re.sub(r"\d+", "N", self.action), tuple(sorted(self.names))


class _FormParser(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urlsplit(values.get("action") or self.page_path)
            self._form = Form(values.get("method", "get").upper(), action.path)
            self.forms.append(self._form)
            return
        form, name = self._form, values.get("name")
        if form is None or not name:
            return
        form.names.add(name)
        if tag == "input":
            kind = values.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in values or (kind == "radio" and name not in form.fields):
                    form.fields[name] = values.get("value", "on")
            elif kind == "file":
                return
            else:
                form.fields.setdefault(name, values.get("value", ""))
        elif tag == "button":
            form.fields.setdefault(name, values.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            form.fields.setdefault(name, "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and self._select not in form.fields:
            form.fields[self._select] = values.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea and not self._form.fields[self._textarea]:
            self._form.fields[self._textarea] = data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_on(html: str, page_path: str) -> list[Form]:
    """The forms that post somewhere, with every empty text field given a plausible value."""
    parser = _FormParser(page_path)
    parser.feed(html)
    found = []
    for form in parser.forms:
        if form.method != "POST":
            continue
        for name, value in form.fields.items():
            if value == "" and name not in ("website",):  # the honeypot stays empty
                form.fields[name] = SAMPLE_TEXT
        found.append(form)
    return found


def mutants(
    form: Form, values: Mapping[str, str] = BAD_VALUES
) -> Iterator[tuple[str, dict[str, str]]]:
    """The form as sent, with one field at a time holding one bad value (of `values`)."""
    for name in sorted(form.names):
        for label, value in values.items():
            yield f"{name}={label}", {**form.fields, name: value}


@dataclass
class WriteWatch:
    """Tables written by transactions that were committed, since the last `take()`."""

    committed: set[str] = field(default_factory=set)

    def take(self) -> set[str]:
        written, self.committed = self.committed - VOLATILE_TABLES, set()
        return written


@contextmanager
def watching_writes(engine: AsyncEngine) -> Iterator[WriteWatch]:
    """Record which tables a committed transaction wrote to (rolled-back writes are not)."""
    watch = WriteWatch()
    sync_engine = engine.sync_engine

    def on_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = WRITE.match(statement)
        if match:
            conn.info.setdefault("written", set()).add(match.group(1).lower())

    def on_commit(conn: Any) -> None:
        watch.committed |= conn.info.pop("written", set())

    def on_rollback(conn: Any) -> None:
        conn.info.pop("written", None)

    event.listen(sync_engine, "before_cursor_execute", on_execute)
    event.listen(sync_engine, "commit", on_commit)
    event.listen(sync_engine, "rollback", on_rollback)
    try:
        yield watch
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)
        event.remove(sync_engine, "commit", on_commit)
        event.remove(sync_engine, "rollback", on_rollback)


@dataclass
class HeldJobs:
    """A job queue that keeps what it is given: the work a request queues (an embedding, a
    whole synthesis) is not what is under test, and running it would write meanwhile."""

    held: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    async def enqueue(self, job: JobFunction, *args: Any, job_id: str | None = None) -> None:
        self.held.append((job.__name__, args))

    async def close(self) -> None:
        self.held.clear()


@contextmanager
def jobs_held(services: Services) -> Iterator[HeldJobs]:
    """Requests queue their jobs into a `HeldJobs` for a while."""
    running = services.started
    held = HeldJobs()
    services.running = replace(running, jobs=held)
    try:
        yield held
    finally:
        services.running = running
