"""The test client: Starlette's, with each request sent in one call into the app's loop.

Starlette's client runs the application in an event loop on a thread of its own and streams
each exchange across threads: eight or more hand-overs between the test's thread and the
loop's per request, which cost more than most requests themselves (2 ms against 0.2 ms for
the same request sent from inside the loop, more under the coverage tracer). Here the whole
exchange (the request, the application, the whole answer read) is one hand-over; everything
else (the lifespan, cookies, redirects, the portal that `Site.call` uses, exceptions raised
by the application) is Starlette's client's own.
"""

from __future__ import annotations

from typing import Any

import httpx2
from starlette.testclient import TestClient

# The client address Starlette's client gives its requests.
CLIENT_ADDRESS = ("testclient", 50000)


class InLoopTransport(httpx2.BaseTransport):
    """Sends a request through the app inside the running client's event loop."""

    def __init__(self, client: TestClient, fallback: httpx2.BaseTransport) -> None:
        self._client = client
        self._fallback = fallback
        self._asgi = httpx2.ASGITransport(
            app=client.app, raise_app_exceptions=True, client=CLIENT_ADDRESS
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        portal = self._client.portal
        if portal is None:  # used outside `with`: no loop of its own to send into
            return self._fallback.handle_request(request)
        request.read()  # the body as bytes, which the async transport can send too
        status, headers, body, extensions = portal.call(self._exchange, request)
        return httpx2.Response(
            status,
            headers=headers,
            stream=httpx2.ByteStream(body),
            request=request,
            extensions=extensions,
        )

    async def _exchange(
        self, request: httpx2.Request
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, dict[str, Any]]:
        response = await self._asgi.handle_async_request(request)
        try:
            body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        finally:
            await response.aclose()
        return response.status_code, response.headers.raw, body, dict(response.extensions)


class InLoopTestClient(TestClient):
    """Starlette's test client whose requests go through `InLoopTransport`."""

    def __init__(self, app: Any, **options: Any) -> None:
        super().__init__(app, **options)
        self._transport = InLoopTransport(self, self._transport)
