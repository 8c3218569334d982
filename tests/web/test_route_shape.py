"""The shape every route keeps: a guard, a short handler that builds its page elsewhere."""

from __future__ import annotations

import inspect

from consult.web.app import create_app
from consult.web.routing import GuardedRoute
from tests.conftest import make_settings

# Handlers parse, check, call one builder or service, and render; more means the work belongs
# in a page builder or a service.
MAX_HANDLER_LINES = 30


def test_every_handler_is_short() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    too_long = {}
    for route in app.routes:
        if isinstance(route, GuardedRoute):
            lines, _start = inspect.getsourcelines(route.handler)
            if len(lines) > MAX_HANDLER_LINES:
                too_long[route.path] = len(lines)
    assert not too_long, f"handlers over {MAX_HANDLER_LINES} lines: {too_long}"


def test_handlers_take_the_typed_request_context() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    for route in app.routes:
        if isinstance(route, GuardedRoute):
            parameters = list(inspect.signature(route.handler).parameters.values())
            assert [p.annotation for p in parameters] == ["RequestContext"], route.path
