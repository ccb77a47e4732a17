"""Mail through the operator's SMTP server (KEYWARD_SMTP_URL), with aiosmtplib.

Only invitations are mailed. The SMTP URL carries a password: it is parsed here and never logged;
a failure is reported as the kind of failure (refused, unreachable, timed out), never with the URL.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.settings import get_settings

log = logging.getLogger("keyward.mail")


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://[user:password@]host[:port]` (587, STARTTLS when offered) or `smtps://…` (465, TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("KEYWARD_SMTP_URL must look like smtp://user:password@host:587 or smtps://…@host:465")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("KEYWARD_SMTP_URL has an invalid port") from None
    use_tls = parts.scheme == "smtps"
    return SmtpServer(
        hostname=parts.hostname,
        port=port or (465 if use_tls else 587),
        use_tls=use_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def mail_configured() -> bool:
    return get_settings().smtp_url is not None


class MailNotSent(Exception):
    """The SMTP server refused or could not be reached. The message says which, without the URL."""


async def send(to: str, subject: str, text: str) -> None:
    settings = get_settings()
    assert settings.smtp_url is not None
    server = parse_smtp_url(settings.smtp_url.get_secret_value())
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    try:
        await aiosmtplib.send(
            message,
            hostname=server.hostname,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            timeout=settings.smtp_timeout_seconds,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("mail to the SMTP server failed: %s", type(exc).__name__)
        raise MailNotSent(type(exc).__name__) from None


async def send_invitation(
    to: str, workspace_name: str, invited_by: str, role: str, url: str, expires_at: datetime
) -> None:
    text = (
        f"{invited_by} invited you to join the workspace {workspace_name!r} on Keyward as {role}.\n\n"
        f"Accept the invitation here (the link works once, until {expires_at:%Y-%m-%d %H:%M} UTC):\n\n"
        f"{url}\n\n"
        "If you did not expect this invitation, ignore this message.\n"
    )
    await send(to, f"Join {workspace_name} on Keyward", text)
