"""Giving the memory a large stage freed back to the system."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util


def give_back_freed_memory() -> None:
    """Ask the C library to return to the system the pages it keeps after large frees.

    glibc keeps memory freed by a process for its next allocations, in the arena of the thread
    that used it, and returns to the system only what lies at the top of the heap. After copy
    detection (run in a worker thread) over 300,000 contributions, 99 MB of the 196 MB the stage
    still held were pages it had freed: the next stages, in other processes, could not use them.
    Elsewhere than glibc this does nothing.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)
