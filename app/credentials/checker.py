"""The one path from a presented API key or management token to what it may do.

`POST /v1/keys/verify` and the GraphQL authentication both call `CredentialChecker.check`. A
request answered from the cache costs one Redis round trip, the one that records the use, which
also reads the revocation epoch (`epoch.py`) and records the use only if that epoch is still the
one the entry was cached under. Any other answer from Redis (a newer epoch, an unknown one, no
answer) sends the request to the database, as a request without a cached entry goes: the epoch of
the last round trip is read first, then the database, then the verdict is cached under that epoch
and the use recorded.
"""

from datetime import UTC, datetime

from app.credentials.cache import CredentialCache, Verified
from app.credentials.lookup import look_up
from app.security.tokens import ParsedToken, TokenKind
from app.usage import UsageKind
from app.usage.runtime import UsageRuntime

USAGE_KINDS = {TokenKind.API_KEY: UsageKind.API_KEY, TokenKind.MANAGEMENT: UsageKind.MANAGEMENT_TOKEN}


class CredentialChecker:
    def __init__(self, usage: UsageRuntime, cache: CredentialCache) -> None:
        self.usage = usage
        self.cache = cache

    async def check(self, parsed: ParsedToken, ip: str | None) -> Verified | None:
        """The usable credential (its use recorded), or None when it is unknown, deleted, revoked or expired."""
        usage_kind = USAGE_KINDS[parsed.kind]
        digest = parsed.digest
        cache = self.cache
        if cache.is_unknown(digest):
            return None
        entry = cache.get(digest)
        if entry is not None:
            if entry.verified.usable_at(datetime.now(UTC)):
                seen = await self.usage.record(usage_kind, entry.verified.id, ip, expect=entry.epoch)
                if seen == entry.epoch:
                    return entry.verified
                if seen is None:  # Redis did not answer, or lost the epoch: nothing cached can be trusted
                    cache.clear()
            cache.forget(digest)
        seen_epoch, generation = self.usage.epoch_seen, cache.generation
        verified = await look_up(parsed.kind, digest)
        if verified is None or not verified.usable_at(datetime.now(UTC)):
            cache.remember_unknown(digest)
            return None
        cache.put(digest, verified, seen_epoch, generation)
        await self.usage.record(usage_kind, verified.id, ip)
        return verified
