"""Stripe's signature scheme: ``Keyward-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<raw body>")>``.

While a rolled secret's predecessor is still valid, the header carries one `v1=` per secret, so a
receiver that still has the old one keeps verifying (Stripe does the same).
"""

import hashlib
import hmac
import time as _time

from app.security import tokens
from app.security.tokens import TokenKind

SIGNATURE_HEADER = "Keyward-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def generate_secret() -> str:
    """A `kwh_` value in the token format (checksum included, so secret scanners recognise it)."""
    return tokens.generate(TokenKind.WEBHOOK_SIGNING_SECRET).value


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


def verify(
    body: bytes, header: str, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """What a receiver does: a fresh timestamp and one matching `v1` (compared in constant time)."""
    timestamp: int | None = None
    candidates = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():  # not "²", a digit int refuses
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs((now if now is not None else _time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
