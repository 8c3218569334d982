"""A TCP proxy between the application and its database, to cut the connection for real.

The application's `CONSULT_DATABASE_URL` names the proxy; `cut()` closes the listening socket and
drops every connection at once (the server seems gone: connections reset, new ones refused),
`restore()` listens again on the same port. Runs in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port` until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> TcpProxy:
        """Listen (on a free port the first time, on the same port after a cut)."""
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def url_of(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        parts = urlsplit(database_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def open(self) -> bool:
        return self.server is not None

    async def cut(self) -> None:
        """Stop listening and reset every connection, in flight or idle."""
        server, self.server = self.server, None
        if server is not None:
            server.close()
        for writer in list(self.writers):
            transport = writer.transport
            transport.abort()  # RST-like: no goodbye to either side
        for pipe in list(self.pipes):
            pipe.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    async def restore(self) -> None:
        """Listen again, on the same port."""
        if self.server is None:
            await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self.server is None:
            client.transport.abort()
            return
        try:
            server_reader, server = await asyncio.open_connection(*self.target)
        except OSError:
            client.transport.abort()
            return
        self.writers |= {client, server}
        pipes = [
            asyncio.create_task(self._pipe(client_reader, server)),
            asyncio.create_task(self._pipe(server_reader, client)),
        ]
        self.pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self.pipes.difference_update(pipes)
            for writer in (client, server):
                self.writers.discard(writer)
                writer.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
