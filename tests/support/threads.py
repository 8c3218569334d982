"""Each thread's main greenlet kept until greenlet has let go of it, so that a traced test
process never hangs when threads end (decision 0038).

When a thread that used greenlets ends, greenlet frees its main greenlet later, in a pending
call on the main thread. Coverage's greenlet support holds a weak reference with a Python
callback to every thread's main greenlet (its tracer asks for the current greenlet at each call),
so that callback runs inside the pending call. On Python 3.11, a traced function that starts
inside a pending call while another pending call is signalled (a second thread ended meanwhile)
never gets past its first instruction: the interpreter keeps handling the signal, which the busy
pending-call machinery keeps for later. Test threads (the application's event loop, anyio's
worker threads, servers) end all the time, so now and then a test process spun forever on one line.

Keeping a reference to each thread's main greenlet from the thread's first call means greenlet's
pending call never frees it; `release_ended_threads_greenlets`, called between tests, drops
those greenlet no longer holds, in ordinary code where the callback is harmless.

A main greenlet still referenced when its thread's state is destroyed is what greenlet's
optional leak check looks for, with `gc.get_referrers`: a walk over every object of the process,
0.1–0.4 s once the models are loaded, at each thread's end. The references kept here are known,
so that check is switched off.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any

import greenlet
from greenlet import _greenlet

_kept: list[greenlet.greenlet] = []


def _keep_this_threads_main_greenlet(frame: FrameType, event: str, arg: Any) -> None:
    sys.setprofile(None)  # once per thread: its first call
    _kept.append(greenlet.getcurrent())


def keep_main_greenlets_of_new_threads() -> None:
    """From now on, every thread started by `threading` gives its main greenlet to `_kept`."""
    _greenlet.enable_optional_cleanup(False)
    threading.setprofile(_keep_this_threads_main_greenlet)


def release_ended_threads_greenlets() -> None:
    """Drop the main greenlets of threads whose state greenlet has already destroyed."""
    still_held = []
    while _kept:
        main = _kept.pop()
        # Held only by `main` and getrefcount's argument: greenlet has let go of it.
        if sys.getrefcount(main) > 2:
            still_held.append(main)
    _kept.extend(still_held)
