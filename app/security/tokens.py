"""Token format: ``<kind>_`` + 30 random base62 characters + 6 base62 characters of CRC32.

The same shape GitHub uses, so secret scanners can recognise a leaked value, and a typo
or a truncated value is refused by its checksum before any database work.
"""

import binascii
import enum
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE62_SET = frozenset(BASE62)
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
# Characters of the random part kept for display: with the kind prefix, e.g. "kwm_3Fa9QzL1".
DISPLAY_RANDOM_CHARS = 8


class TokenKind(enum.Enum):
    MANAGEMENT = "kwm"
    SESSION = "kws"
    API_KEY = "kwk"
    WEBHOOK_SIGNING_SECRET = "kwh"  # noqa: S105 (a kind: signs webhook deliveries, never a bearer credential)
    INVITATION = "kwi"  # accepted once through `acceptInvitation`, never a bearer credential

    @property
    def label(self) -> str:
        return {
            "kwm": "management token",
            "kws": "session token",
            "kwk": "API key",
            "kwh": "webhook signing secret",
            "kwi": "invitation token",
        }[self.value]


_KINDS = {kind.value: kind for kind in TokenKind}
TOKEN_LENGTH = 3 + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH


class MalformedToken(ValueError):
    """The value is not a Keyward token (bad shape or checksum). Carries no part of the value."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    kind: TokenKind
    value: str

    @property
    def digest(self) -> str:
        return hash_token(self.value)

    @property
    def display_prefix(self) -> str:
        return self.value[: 4 + DISPLAY_RANDOM_CHARS]


# Every pair of base62 digits, "00" to "zz": a CRC32 (below 62**6) is three of them. The checksum is
# computed on every presented token, so three lookups instead of six divisions.
_PAIRS = [a + b for a in BASE62 for b in BASE62]
_PAIR = len(_PAIRS)


def _checksum(body: str) -> str:
    """The 6 base62 digits of the body's CRC32, most significant first."""
    high, rest = divmod(binascii.crc32(body.encode()), _PAIR * _PAIR)
    middle, low = divmod(rest, _PAIR)
    return _PAIRS[high] + _PAIRS[middle] + _PAIRS[low]


def generate(kind: TokenKind) -> ParsedToken:
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    body = f"{kind.value}_{random_part}"
    return ParsedToken(kind, body + _checksum(body))


def parse(value: str) -> ParsedToken:
    """Check shape and checksum without touching storage; raise MalformedToken otherwise."""
    if len(value) != TOKEN_LENGTH or value[3] != "_":
        raise MalformedToken("not a Keyward token")
    kind = _KINDS.get(value[:3])
    rest = value[4:]
    if kind is None or not _BASE62_SET.issuperset(rest):
        raise MalformedToken("not a Keyward token")
    body, checksum = value[:-CHECKSUM_LENGTH], value[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(_checksum(body), checksum):
        raise MalformedToken("token checksum does not match")
    return ParsedToken(kind, value)


def hash_token(value: str) -> str:
    """SHA-256 hex: tokens carry 178 bits of entropy, so a fast hash under a unique index is safe."""
    return hashlib.sha256(value.encode()).hexdigest()
