"""A bounded map that forgets what was used least recently.

Each web process keeps a few such caches of its own (anonymous pages, contribution cards,
report PDFs); none needs another process, so nothing is shared and nothing is invalidated
across processes. A cache is bounded by its number of entries and, where entries differ
much in size (a PDF of a few kilobytes or of megabytes), by their total size too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `max_entries` values (and `max_size` in all, as `size_of` measures them)."""

    def __init__(
        self,
        max_entries: int,
        *,
        max_size: int | None = None,
        size_of: Callable[[V], int] | None = None,
    ) -> None:
        if max_entries < 1 or (max_size is not None and (max_size < 1 or size_of is None)):
            raise ValueError("an LRU holds at least one entry, and a size bound needs size_of")
        self.max_entries = max_entries
        self.max_size = max_size
        self.size_of = size_of
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value kept under `key`, now the most recently used, or None."""
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value`, forgetting the least recently used beyond the bounds. A value larger
        than the whole size bound is not kept."""
        size = self.size_of(value) if self.size_of else 0
        self.pop(key)
        if self.max_size is not None and size > self.max_size:
            return
        self._entries[key] = value
        self.size += size
        while len(self._entries) > self.max_entries or (
            self.max_size is not None and self.size > self.max_size
        ):
            _, forgotten = self._entries.popitem(last=False)
            self.size -= self.size_of(forgotten) if self.size_of else 0

    def pop(self, key: K) -> V | None:
        """Forget `key`; its value if it was kept."""
        value = self._entries.pop(key, None)
        if value is not None and self.size_of:
            self.size -= self.size_of(value)
        return value
