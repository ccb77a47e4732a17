"""A real SMTP server in the test process (aiosmtpd, on a port of KEYWARD_TEST_PORTS) that keeps what it receives."""

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


@dataclass
class Inbox:
    """What the server accepted, parsed; `refuse` makes it answer 554 to every message."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refuse: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"smtp://keyward:mail-password@127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.refuse:
            return "554 Transaction failed"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        self.arrived.set()
        return "250 Message accepted for delivery"


class _AnyLogin:
    """Accepts any credentials (the test checks that they were sent, not their value)."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        self.logins.append(getattr(auth_data, "login", b"").decode())
        return AuthResult(success=True)


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    port = free_port()
    inbox = Inbox(port)
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_AnyLogin(),
        auth_require_tls=False,  # loopback only: the client logs in without TLS here
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
