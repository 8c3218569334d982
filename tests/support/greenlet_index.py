"""Coverage's per-greenlet bookkeeping kept in a plain dict in test processes (decision 0039).

With greenlet concurrency, coverage's C tracer keeps a data stack per greenlet and finds the
current greenlet's stack in a `weakref.WeakKeyDictionary` at every function call and return,
ours and the libraries'. That dictionary is written in Python: on Python 3.11 each lookup is a
Python call, made twice per call traced, and SQLAlchemy, Jinja and Starlette make many calls.
The tracer creates that dictionary itself, at its first event; here, the tracers this process
starts get a `GreenletIndex` instead, a dict subclass the C tracer reads at C speed. What is
measured does not change (`tests/test_greenlet_index.py`); a module of web tests runs 6-20 %
faster under coverage (decision 0039).

A dict holds its keys: greenlets that have ended stay in it until `drop_ended_greenlets`,
called between tests, takes them out (coverage's own weak dictionary let them go at once).
Nothing here runs unless the tests are traced, and should coverage stop creating its
dictionary this way, its tracers simply keep their own.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from coverage.collector import Collector

_creating_a_tracer = threading.local()
_indexes: list[GreenletIndex] = []


class GreenletIndex(dict[Any, int]):
    """One tracer's greenlets and the number of each one's data stack."""


class _WeakKeyDictionaryOrIndex(weakref.WeakKeyDictionary):  # type: ignore[type-arg]
    """`weakref.WeakKeyDictionary` everywhere, except for the dictionary a tracer being started
    on this thread asks for."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if getattr(_creating_a_tracer, "active", False):
            index = GreenletIndex()
            _indexes.append(index)
            return index
        return super().__new__(cls)


_start = Collector.start
_installation_trace = Collector._installation_trace


def _first_traced_call() -> None:
    """The new tracer's first event: where it creates its greenlet dictionary."""


def _start_with_an_index(self: Collector) -> None:
    """The collector's start, on the thread that starts it."""
    _creating_a_tracer.active = True
    try:
        _start(self)
        _first_traced_call()
    finally:
        _creating_a_tracer.active = False


def _installation_trace_with_an_index(self: Collector, *event: Any) -> Any:
    """A new thread's tracer, started by its first event (inside a trace function, where no
    other call is traced), which this function hands on to it."""
    _creating_a_tracer.active = True
    try:
        return _installation_trace(self, *event)
    finally:
        _creating_a_tracer.active = False


def index_greenlets_at_c_speed() -> None:
    """Tracers started from now on (each new thread's, and the main thread's at the next start
    of a measurement) keep their greenlets in a `GreenletIndex`."""
    weakref.WeakKeyDictionary = _WeakKeyDictionaryOrIndex  # type: ignore[misc]
    Collector.start = _start_with_an_index  # type: ignore[method-assign]
    Collector._installation_trace = _installation_trace_with_an_index  # type: ignore[method-assign]


def drop_ended_greenlets() -> int:
    """Take the greenlets that have ended out of every index; how many were taken out.

    An index left empty belonged to a thread that has ended (its main greenlet, its first key,
    lives as long as the thread), so it is forgotten too. (One being created on another thread
    at that moment is empty for an instant: forgotten, its greenlets would only cost memory.)
    """
    dropped = 0
    for index in list(_indexes):
        for ended in [greenlet for greenlet in list(index) if greenlet.dead]:
            del index[ended]
            dropped += 1
    _indexes[:] = [index for index in _indexes if index]
    return dropped


def indexes() -> list[GreenletIndex]:
    """The indexes of the tracers started since `index_greenlets_at_c_speed`."""
    return list(_indexes)
