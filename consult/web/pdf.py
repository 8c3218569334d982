"""HTML to PDF with WeasyPrint, off the event loop and without any network access."""

from __future__ import annotations

from typing import Any

import anyio.to_thread


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    # Reports are self-contained (inline styles, inline SVG): any URL a document asks for
    # would come from contribution text, so nothing is ever fetched (no server-side requests).
    raise ValueError(f"external resources are not loaded in PDF reports: {url[:80]}")


def _write_pdf(html: str, base_url: str | None) -> bytes:
    from weasyprint import HTML

    document: bytes = HTML(string=html, base_url=base_url, url_fetcher=_refuse_fetch).write_pdf()
    return document


async def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of a self-contained HTML document (rendering takes a second or more).

    ``base_url`` makes the document's relative links absolute, so they work from the file.
    """
    return await anyio.to_thread.run_sync(_write_pdf, html, base_url)
