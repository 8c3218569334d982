"""A real SMTP server on loopback that keeps what it receives."""

from __future__ import annotations

import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """Every message the test SMTP server accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refusing: bool = False
    """While true, the server answers every message with a temporary failure."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "451 Requested action aborted: try again later"
        raw: bytes = envelope.original_content or envelope.content
        self.messages.append(BytesParser(EmailMessage, policy=email.policy.default).parsebytes(raw))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """An SMTP server on a free port of 127.0.0.1 (bound first, so no port race)."""

    def __init__(self, handler: Inbox) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._socket.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._socket)


@dataclass(frozen=True)
class MailServer:
    """The address of a running test SMTP server and what it received."""

    port: int
    inbox: Inbox


@contextmanager
def mail_server() -> Iterator[MailServer]:
    """An SMTP server on loopback for the duration of the block."""
    inbox = Inbox()
    controller = LoopbackController(inbox)
    controller.start()
    try:
        yield MailServer(controller.port, inbox)
    finally:
        controller.stop()
