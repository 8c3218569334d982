"""HTML to PDF with WeasyPrint, off the event loop and without any network access.

A PDF takes a second or more to render, and a published report is the same document for
every reader in a language: each process keeps the PDFs it rendered, keyed by a digest of the
HTML they come from (so a new run, a published answer or another language is another key and
nothing is ever invalidated by hand), and readers asking for one that is being rendered wait
for that rendering rather than start another.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import anyio.to_thread

from consult.web.lru import LRU

PDF_CACHE_BYTES = 64 * 1024 * 1024
PDF_CACHE_ENTRIES = 256


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    # Reports are self-contained (inline styles, inline SVG): any URL a document asks for
    # would come from contribution text, so nothing is ever fetched (no server-side requests).
    raise ValueError(f"external resources are not loaded in PDF reports: {url[:80]}")


def _write_pdf(html: str, base_url: str | None) -> bytes:
    from weasyprint import HTML

    document: bytes = HTML(string=html, base_url=base_url, url_fetcher=_refuse_fetch).write_pdf()
    return document


class PdfRenderer:
    """PDFs of self-contained HTML documents, each rendered once per process while kept."""

    def __init__(
        self, max_bytes: int = PDF_CACHE_BYTES, max_entries: int = PDF_CACHE_ENTRIES
    ) -> None:
        self.kept: LRU[bytes, bytes] = LRU(max_entries, max_size=max_bytes, size_of=len)
        self._rendering: dict[bytes, asyncio.Future[bytes]] = {}

    async def render(self, html: str, base_url: str | None = None) -> bytes:
        """The PDF of `html`; ``base_url`` makes its relative links absolute, so that they
        work from the file."""
        key = hashlib.sha256(f"{base_url}\n{html}".encode()).digest()
        while True:
            kept = self.kept.get(key)
            if kept is not None:
                return kept
            under_way = self._rendering.get(key)
            if under_way is None:
                break
            try:
                return await asyncio.shield(under_way)
            except asyncio.CancelledError:
                if not under_way.cancelled():
                    raise  # this request was cancelled, not the rendering it waited for
                # The request rendering it went away: render it for this one.
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            document = await anyio.to_thread.run_sync(_write_pdf, html, base_url)
        except Exception as failure:
            future.set_exception(failure)
            # Marked as read: a failure nobody else waited for is not logged as unread.
            future.exception()
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._rendering[key]
        self.kept.put(key, document)
        future.set_result(document)
        return document
