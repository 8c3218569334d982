"""A short-lived cache of pages as anonymous readers see them.

Most visitors read without logging in, and they all see the same page for the
same address and language. Keeping such a page for a few seconds spares the
database and the templates under load while staying fresh enough for a
debate. Logged-in visitors, whose pages show their own votes and forms, are
never served from it. Each process keeps its own cache; nothing in it is
needed by another process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from consult.web.lru import LRU

# Pages are stored with this in place of the response's CSP nonce, which differs every time.
NONCE_PLACEHOLDER = "__consult_csp_nonce__"


@dataclass(frozen=True)
class CachedPage:
    """A rendered page, ready to be sent again."""

    expires: float
    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: str


class PageCache:
    """An LRU of anonymous pages with a time to live."""

    def __init__(self, seconds: float, max_entries: int = 2000) -> None:
        self.seconds = seconds
        self.entries: LRU[tuple[str, ...], CachedPage] = LRU(max_entries)

    @property
    def enabled(self) -> bool:
        """A zero time to live turns the cache off."""
        return self.seconds > 0

    def get(self, key: tuple[str, ...]) -> CachedPage | None:
        """The page if it is still fresh."""
        page = self.entries.get(key)
        if page is None:
            return None
        if page.expires < time.monotonic():
            self.entries.pop(key)
            return None
        return page

    def put(
        self, key: tuple[str, ...], status_code: int, headers: list[tuple[str, str]], body: str
    ) -> None:
        """Keep a page for `seconds`."""
        self.entries.put(
            key, CachedPage(time.monotonic() + self.seconds, status_code, tuple(headers), body)
        )
