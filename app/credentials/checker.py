"""The one path from a presented API key or management token to what it may do.

`POST /v1/keys/verify` and the GraphQL authentication both call `CredentialChecker.check`. A
request answered from the cache costs one Redis round trip, the one that records the use, which
also reads the revocation epoch (`epoch.py`) and records the use only if that epoch is still the
one the entry was cached under. Any other answer from Redis (a newer epoch, an unknown one, no
answer) sends the request to the database, as a request without a cached entry goes: the epoch of
the last round trip is read first, then the database, then the verdict is cached under that epoch
and the use recorded.

The request rules of the state model come with the credential (its allowlist is in the row the
lookup reads and in the cached entry): a request from an address the allowlist does not hold is
refused before its use is recorded. A cached entry that refuses the address is not trusted to do so
(an update may have widened the allowlist since): the database is asked, as on a miss.
"""

from app.clock import utcnow
from app.credentials.cache import CredentialCache, Verified
from app.credentials.lookup import look_up
from app.credentials.refusals import RefusalAudit
from app.security.tokens import ParsedToken, TokenKind
from app.services.credential_state import Refusal, ip_refusal
from app.usage import UsageKind
from app.usage.runtime import UsageRuntime

USAGE_KINDS = {TokenKind.API_KEY: UsageKind.API_KEY, TokenKind.MANAGEMENT: UsageKind.MANAGEMENT_TOKEN}


class CredentialChecker:
    def __init__(self, usage: UsageRuntime, cache: CredentialCache) -> None:
        self.usage = usage
        self.cache = cache
        self.refusals = RefusalAudit()

    async def check(self, parsed: ParsedToken, ip: str | None) -> Verified | Refusal | None:
        """The usable credential (its use recorded); None when it is unknown, deleted or revoked;
        Refusal.EXPIRED when it has expired; the `Refusal` when it is usable, but not for this request
        (IP_NOT_ALLOWED: audited, not recorded).

        A cached credential is judged against its expiry on every request: one whose time has come is
        never answered from the cache; the database's verdict (EXPIRED) is then remembered by digest.
        """
        usage_kind = USAGE_KINDS[parsed.kind]
        digest = parsed.digest
        cache = self.cache
        # The verified cache first (one lookup for the common case): an entry found there is still
        # checked against the epoch below, even if a racing lookup has since remembered the digest as unknown.
        entry = cache.get(digest)
        if entry is None and cache.is_unknown(digest):
            return cache.remembered_refusal(digest)
        if entry is not None:
            if entry.verified.usable_at(utcnow()) and ip_refusal(entry.verified.allowlist, ip) is None:
                seen = await self.usage.record(usage_kind, entry.verified.id, ip, expect=entry.epoch)
                if seen == entry.epoch:
                    return entry.verified
                if seen is None:  # Redis did not answer, or lost the epoch: nothing cached can be trusted
                    cache.clear()
            cache.forget(digest)
        seen_epoch, generation = self.usage.epoch_seen, cache.generation
        verified = await look_up(parsed.kind, digest)
        if not isinstance(verified, Verified):
            cache.remember_unknown(digest, verified)
            return verified
        cache.put(digest, verified, seen_epoch, generation)
        refusal = ip_refusal(verified.allowlist, ip)
        if refusal is not None:
            await self.refusals.ip_refused(verified, ip)
            return refusal
        await self.usage.record(usage_kind, verified.id, ip)
        return verified
