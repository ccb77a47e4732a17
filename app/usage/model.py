"""What the usage buffer stores: the newest use of a credential (time and client IP)."""

import enum
import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class UsageKind(enum.Enum):
    """Which table a credential lives in; the value is the short member prefix used in Redis."""

    MANAGEMENT_TOKEN = "mt"  # noqa: S105
    API_KEY = "ak"


@dataclass(frozen=True, slots=True)
class Use:
    kind: UsageKind
    id: int
    at: datetime  # timezone-aware, UTC
    ip: str | None

    @property
    def member(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @property
    def micros(self) -> int:
        return to_micros(self.at)


def to_micros(at: datetime) -> int:
    """Epoch microseconds: exact in a Redis score (a double holds integers up to 2**53)."""
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


# Primary keys are BIGINT (PostgreSQL) / INTEGER (SQLite): positive and below 2**63.
MAX_ID = 2**63 - 1


_KINDS = {kind.value: kind for kind in UsageKind}


def parse_member(member: str) -> tuple[UsageKind, int] | None:
    """`"mt:42"` → (MANAGEMENT_TOKEN, 42); None for anything that is not a kind and a valid row id."""
    prefix, _, pk = member.partition(":")
    kind = _KINDS.get(prefix)
    if kind is None or not (pk.isascii() and pk.isdigit()) or len(pk) > 19:
        return None
    number = int(pk)
    return (kind, number) if 0 < number <= MAX_ID else None


@functools.lru_cache(maxsize=4096)
def ip_or_none(value: str | None) -> str | None:
    """The client address as a canonical IP address string, or None when `value` is not one.

    The usage boundary: every use is recorded, and every use read back from Redis or a spool file
    is written, with this, so a value that is not an address (a forged header, an entry an older
    version left in Redis) is stored as unknown instead of failing a batch. An IPv6 zone
    (``fe80::1%eth0``) says nothing about the client and is dropped; an IPv4 client seen on a
    dual-stack socket (``::ffff:192.0.2.1``) is stored as the IPv4 address. Cached: the request
    path sees the same few addresses over and over.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).partition("%")[0])
    return str(address)


def newest(uses: Iterable[Use]) -> dict[tuple[UsageKind, int], Use]:
    """Newest use per credential: the only thing the buffer keeps."""
    out: dict[tuple[UsageKind, int], Use] = {}
    for use in uses:
        key = (use.kind, use.id)
        current = out.get(key)
        if current is None or use.at > current.at:
            out[key] = use
    return out


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
