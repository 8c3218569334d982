"""Form helpers shared by handlers: reading input safely, redirecting after a post."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

MAX_FIELD_BYTES = 1024 * 1024
MAX_FORM_FIELDS = 200
HONEYPOT_FIELD = "website"


class FormData(dict[str, str]):
    """Text fields of a submitted form, with surrounding whitespace kept as typed."""

    uploads: dict[str, UploadFile]

    def text(self, name: str, default: str = "") -> str:
        """A field's value ("" when missing)."""
        return self.get(name, default)


async def read_form(request: Request, max_part_size: int = MAX_FIELD_BYTES) -> FormData:
    """Parse a posted form; malformed or oversized input is a 400/413 page, never a crash."""
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
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data.uploads[name] = value
        else:
            if "\x00" in value:
                raise HTTPException(400)
            data.setdefault(name, value)
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


def redirect_after_post(request: Request, url: str) -> Response:
    """POST → 303 → GET without JavaScript; a full-page redirect header for htmx."""
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
