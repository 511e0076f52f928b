"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1, keeping what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage as ParsedMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

SITE = "https://shequ.example.cn"

__all__ = ["SITE", "Mailbox", "free_port", "point_at", "smtp"]


class Mailbox:
    """An aiosmtpd handler keeping every received message; refuses the addresses in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[ParsedMessage] = []
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"

    def subjects(self) -> list[str]:
        """Subjects decoded as RFC 2047 says (the folded encoded words joined, folding whitespace dropped)."""
        return [str(make_header(decode_header(message_from_bytes(raw)["Subject"]))) for raw in self.raw]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def point_at(settings: Any, port: int) -> None:
    settings.SHEQU_EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SHEQU_EMAIL_FROM = "社区云 <noreply@shequ.example.cn>"
    settings.SHEQU_SITE_URL = SITE


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    point_at(settings, controller.port)
    try:
        yield mailbox
    finally:
        controller.stop()
