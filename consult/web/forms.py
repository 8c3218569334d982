"""Form helpers shared by handlers: reading input safely, redirecting after a post."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from consult.input import ID_DIGITS, whole_number

MAX_FIELD_BYTES = 1024 * 1024
MAX_FORM_FIELDS = 200
HONEYPOT_FIELD = "website"


@dataclass(frozen=True)
class UploadedFile:
    """A file sent with a form, read into memory (its size is bounded by the parser)."""

    filename: str
    content: bytes


class FormData(dict[str, str]):
    """Text fields of a submitted form, with surrounding whitespace kept as typed."""

    uploads: dict[str, UploadedFile]
    repeated: dict[str, list[str]]

    def text(self, name: str, default: str = "") -> str:
        """A field's value ("" when missing)."""
        return self.get(name, default)

    def every(self, name: str) -> list[str]:
        """Every value sent for a field that repeats (checkboxes of one name)."""
        return self.repeated.get(name, [])

    def number(self, name: str, digits: int = ID_DIGITS) -> int | None:
        """A field holding a whole number in ASCII digits, or None: no sign, no exotic digit
        (« ² » passes `str.isdigit`), nothing beyond what a database integer holds."""
        return whole_number(self.text(name).strip(), digits)

    def numbers(self, name: str, digits: int = ID_DIGITS) -> list[int]:
        """The whole numbers among the values of a repeated field (ticked ids)."""
        found = (whole_number(value.strip(), digits) for value in self.every(name))
        return [number for number in found if number is not None]


async def read_form(
    request: Request, max_part_size: int = MAX_FIELD_BYTES, allow_nul: bool = False
) -> FormData:
    """Parse a posted form; malformed or oversized input is a 400/413 page, never a crash.

    NUL characters cannot be stored in PostgreSQL text, so they are refused here
    unless the caller validates them itself (the bill parser names their line).
    """
    try:
        form = await request.form(
            max_files=4, max_fields=MAX_FORM_FIELDS, max_part_size=max_part_size
        )
    except HTTPException:
        raise
    except Exception as exc:  # the multipart parser raises several kinds of errors
        raise HTTPException(400) from exc
    data = FormData()
    data.uploads = {}
    data.repeated = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if value.filename:
                    data.uploads[name] = UploadedFile(value.filename, await value.read())
            else:
                if "\x00" in value and not allow_nul:
                    raise HTTPException(400)
                data.setdefault(name, value)
                data.repeated.setdefault(name, []).append(value)
    finally:
        await form.close()
    return data


def looks_automated(form: FormData) -> bool:
    """The hidden honeypot field is only ever filled in by robots."""
    return bool(form.text(HONEYPOT_FIELD).strip())


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths are followed after login or a language change (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def with_query(url: str, **params: str) -> str:
    """``url`` with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def redirect_after_post(request: Request, url: str) -> Response:
    """POST → 303 → GET without JavaScript; a full-page redirect header for htmx."""
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
