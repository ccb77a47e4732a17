"""Requests refused for their client address, audited without letting a flood fill the audit log.

A refusal is audited once per credential, client address and minute in each process, and for at most
`ADDRESSES_PER_MINUTE` distinct addresses per credential and minute (docs/decisions/0010-ip-allowlists.md
says why); every refusal, audited or not, is counted in the metrics
(`keyward_authentication_refusals_total`, `keyward_verify_answers_total`).
"""

from dataclasses import replace
from datetime import datetime, timedelta

from app.clock import utcnow
from app.credentials.cache import Verified
from app.security.principal import Principal, PrincipalKind
from app.security.tokens import TokenKind
from app.services import audit
from app.services.audit import AuditAction

WINDOW = timedelta(minutes=1)
ADDRESSES_PER_MINUTE = 20
TRACKED_MAX = 10_000  # remembered (credential, address) pairs; older ones are dropped first

_TARGETS = {TokenKind.API_KEY: ("ApiKey", "API_KEY"), TokenKind.MANAGEMENT: ("ManagementToken", "MANAGEMENT_TOKEN")}


class RefusalAudit:
    def __init__(self) -> None:
        self._audited: dict[tuple[TokenKind, int, str | None], datetime] = {}  # until when it is not audited again
        self._per_credential: dict[tuple[TokenKind, int], tuple[datetime, int]] = {}  # window end, addresses

    def _admit(self, verified: Verified, client_ip: str | None, now: datetime) -> bool:
        key = (verified.kind, verified.id, client_ip)
        until = self._audited.get(key)
        if until is not None and now < until:
            return False
        credential = (verified.kind, verified.id)
        window_end, count = self._per_credential.get(credential, (now + WINDOW, 0))
        if now >= window_end:
            window_end, count = now + WINDOW, 0
        if count >= ADDRESSES_PER_MINUTE:
            return False
        self._per_credential[credential] = (window_end, count + 1)
        self._audited.pop(key, None)
        self._audited[key] = now + WINDOW
        if len(self._audited) > TRACKED_MAX:
            self._forget_oldest(now)
        return True

    def _forget_oldest(self, now: datetime) -> None:
        for key in [key for key, until in self._audited.items() if until <= now]:
            del self._audited[key]
        while len(self._audited) > TRACKED_MAX:
            del self._audited[next(iter(self._audited))]
        for credential in [c for c, (end, _) in self._per_credential.items() if end <= now]:
            del self._per_credential[credential]

    async def ip_refused(self, verified: Verified, client_ip: str | None) -> None:
        """Audit that `verified` was presented from `client_ip`, which its allowlist does not hold."""
        if not self._admit(verified, client_ip, utcnow()):
            return
        target_type, kind = _TARGETS[verified.kind]
        actor = verified.principal or Principal(kind=PrincipalKind.SYSTEM, workspace_id=verified.workspace_id)
        await audit.record(
            replace(actor, ip_address=client_ip),
            AuditAction.CREDENTIAL_IP_REFUSED,
            target_type,
            verified.id,
            workspace_id=verified.workspace_id,
            details={"kind": kind, "address": client_ip},
        )
