"""What this process knows about presented credentials: verified ones, and digests known to be unknown.

Two caches, both bounded in size and lifetime and keyed by the SHA-256 digest of the value (never
the value): the database's verdict on live credentials, each kept with the revocation epoch it was
cached under (`epoch.py`), and a separate, smaller one of digests the database did not know. A
flood of random checksum-valid tokens fills only the second; the first keeps its live entries.

**Decision:** without Redis no verified credential is cached. The promise is that once a revoking
mutation has returned, no process accepts the credential on its next request; without a store that
every process reads, another process (`keyward serve --workers N`, the CLI's stale sweep, the
worker) can only learn of a revocation from the database, which is the lookup the cache would save.
Unknown digests are cached either way: no mutation ever makes an unknown digest valid (a new
credential's value is random and first shown by the mutation that committed it). An expired
credential's digest is kept there too, with its refusal: an expiry can be moved earlier, never later.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cachetools import TTLCache

from app.credentials import epoch
from app.security.ip_allowlist import Allowlist
from app.security.permissions import Permission
from app.security.principal import Principal
from app.security.tokens import TokenKind
from app.services.credential_state import EXPIRED

if TYPE_CHECKING:
    from app.services.credential_state import Refusal
    from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Verified:
    """What the database decided about a usable credential, as the request path needs it."""

    kind: TokenKind
    id: int
    workspace_id: int
    expires_at: datetime | None = None  # checked on every answer, cached or not
    allowlist: Allowlist | None = None  # checked on every answer, cached or not; None: any address
    project_id: int | None = None  # API keys
    permissions: frozenset[Permission] = field(default_factory=frozenset)  # management tokens
    principal: Principal | None = None  # management tokens: the caller, without its address
    answer: bytes = b""  # API keys: the body of verify's valid answer (expiresAt and meta spliced in)

    def usable_at(self, now: datetime) -> bool:
        """The state model's expiry rule, judged on the cached entry (the row rules were judged at the lookup)."""
        return not EXPIRED.refuses(self, now)


@dataclass(frozen=True, slots=True)
class Entry:
    verified: Verified
    epoch: str  # the revocation epoch read before the database was asked


class CredentialCache:
    def __init__(
        self,
        *,
        size: int,
        seconds: float,
        unknown_size: int,
        unknown_seconds: float,
        keep_verified: bool,
    ) -> None:
        self._verified: TTLCache[str, Entry] | None = (
            TTLCache(maxsize=size, ttl=seconds, timer=time.monotonic) if keep_verified and size > 0 else None
        )
        self._unknown: TTLCache[str, Refusal | None] | None = (
            TTLCache(maxsize=unknown_size, ttl=unknown_seconds, timer=time.monotonic) if unknown_size > 0 else None
        )
        # Moves on at every clear(): an answer the database gave before it is not cached after it.
        self.generation = 0
        epoch.watch(self)

    @classmethod
    def from_settings(cls, settings: "Settings", *, keep_verified: bool) -> "CredentialCache":
        return cls(
            size=settings.credential_cache_size,
            seconds=settings.credential_cache_seconds,
            unknown_size=settings.unknown_credential_cache_size,
            unknown_seconds=settings.unknown_credential_cache_seconds,
            keep_verified=keep_verified,
        )

    @property
    def keeps_verified(self) -> bool:
        return self._verified is not None

    def get(self, digest: str) -> Entry | None:
        return self._verified.get(digest) if self._verified is not None else None

    def put(self, digest: str, verified: Verified, seen_epoch: str | None, generation: int) -> None:
        """Keep `verified` under `seen_epoch`, unless the epoch is unknown or the cache was cleared since."""
        if self._verified is not None and seen_epoch is not None and generation == self.generation:
            self._verified[digest] = Entry(verified, seen_epoch)

    def forget(self, digest: str) -> None:
        if self._verified is not None:
            self._verified.pop(digest, None)

    def is_unknown(self, digest: str) -> bool:
        return self._unknown is not None and digest in self._unknown

    def remembered_refusal(self, digest: str) -> "Refusal | None":
        """What was remembered with an unknown digest: Refusal.EXPIRED, or None (unknown, deleted, revoked)."""
        return self._unknown.get(digest) if self._unknown is not None else None

    def remember_unknown(self, digest: str, refusal: "Refusal | None" = None) -> None:
        if self._unknown is not None:
            self._unknown[digest] = refusal

    def clear(self) -> None:
        """Forget every verified credential (unknown digests stay unknown)."""
        self.generation += 1
        if self._verified is not None:
            self._verified.clear()

    def __len__(self) -> int:
        return len(self._verified) if self._verified is not None else 0
