"""What the usage buffer stores: the newest use of a credential (time and client IP)."""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime


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
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


def parse_member(member: str) -> tuple[UsageKind, int] | None:
    kind, _, pk = member.partition(":")
    try:
        return UsageKind(kind), int(pk)
    except ValueError:
        return None


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
