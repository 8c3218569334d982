"""The shape every route keeps: a guard, a short handler that builds its page elsewhere."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from consult.audit.models import AuditEvent
from consult.audit.services import record_event
from consult.web.app import create_app
from consult.web.context import RequestContext
from consult.web.permissions import PUBLIC
from consult.web.routing import GuardedRoute, WriteOnRead, route
from tests.support.site import Site, make_settings

# Handlers parse, check, call one builder or service, and render; more means the work belongs
# in a page builder or a service.
MAX_HANDLER_LINES = 30


def test_every_handler_is_short() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    too_long = {}
    for guarded in app.routes:
        if isinstance(guarded, GuardedRoute):
            lines, _start = inspect.getsourcelines(guarded.handler)
            if len(lines) > MAX_HANDLER_LINES:
                too_long[guarded.path] = len(lines)
    assert not too_long, f"handlers over {MAX_HANDLER_LINES} lines: {too_long}"


def test_handlers_take_the_typed_request_context() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    for guarded in app.routes:
        if isinstance(guarded, GuardedRoute):
            parameters = list(inspect.signature(guarded.handler).parameters.values())
            assert [p.annotation for p in parameters] == ["RequestContext"], guarded.path


def test_a_get_handler_cannot_save_anything(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    """Pages are read-only: a GET whose handler changes a row fails instead of saving it."""

    async def writes_on_read(ctx: RequestContext) -> Response:
        await record_event(ctx.db, None, "test.write_on_read")
        return Response("saved")

    async def writes_on_post(ctx: RequestContext) -> Response:
        await record_event(ctx.db, None, "test.write_on_post")
        return Response("saved")

    site.app.router.routes.insert(0, route("/_read", writes_on_read, PUBLIC))
    site.app.router.routes.insert(0, route("/_write", writes_on_post, PUBLIC, ["POST"]))

    assert site.client.get("/_read").status_code == 500
    assert site.client.post("/_write").status_code == 200

    async def actions(db: AsyncSession) -> list[str]:
        return list((await db.scalars(select(AuditEvent.action))).all())

    assert site.db(actions) == ["test.write_on_post"]
    crashes = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(isinstance(crash, WriteOnRead) for crash in crashes)
    caplog.clear()  # the crash above is the behaviour under test
