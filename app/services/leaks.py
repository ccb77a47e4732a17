"""Credentials reported leaked (GitHub's secret-scanning partner format): revoke on first sight, or flag.

Possession is the proof: whoever holds a live credential can use it, so reporting it may end it.
A value whose shape or checksum is not a Keyward secret costs no database query. Per workspace
(`revoke_leaked_credentials`, default on) a found credential is revoked (management tokens, sessions)
or deleted (API keys, which have no revoked state: deletion is the only way to stop one being
accepted), or else flagged (`leaked_at`). A webhook signing secret is always only flagged: a secret
rolled by Keyward would reach nobody, and the receiver would refuse every delivery. A previous signing
secret still in its grace (after a roll) has its grace ended: its receivers have the new secret already,
and while it signs, whoever holds it can sign deliveries they accept. A pending invitation
is always revoked: nothing runs on it, whoever holds its link may join the workspace with its role, and
inviting again costs one click. Each case is audited with the reported URL and source (never the value)
and emits CREDENTIAL_LEAKED.
"""

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.credentials.epoch import bump_revocation_epoch
from app.models import ApiKey, Invitation, ManagementToken, Session, WebhookEndpoint, Workspace
from app.security import tokens
from app.security.principal import Principal, PrincipalKind
from app.security.tokens import TokenKind
from app.services import access, audit, event_data, events
from app.services.credential_state import REVOKED, revocation
from app.services.global_ids import global_id
from app.services.invitations import pending_q

MAX_ENTRIES = 1000
URL_MAX = 2048
SOURCE_MAX = 100
TRUE_POSITIVE = "true_positive"
FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True)
class LeakReport:
    token: str
    type: str | None = None
    url: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Verdict:
    token_raw: str
    token_type: str
    label: str


def clean_text(value: Any, limit: int) -> str | None:
    """Reported free text as it may be stored: a string, printable, at most `limit` characters."""
    if not isinstance(value, str):
        return None
    text = "".join(ch for ch in value if ord(ch) >= 32 and ord(ch) != 127)[:limit]
    return text or None


def _reporter(workspace_id: int, ip_address: str | None) -> Principal:
    return Principal(kind=PrincipalKind.SYSTEM, workspace_id=workspace_id, ip_address=ip_address)


async def process(reports: list[LeakReport], ip_address: str | None) -> list[Verdict]:
    """One verdict per report, in order. Only checksum-valid values reach the database."""
    parsed: dict[str, tokens.ParsedToken] = {}
    for report in reports:
        try:
            parsed.setdefault(report.token, tokens.parse(report.token))
        except tokens.MalformedToken:
            continue
    first_report: dict[str, LeakReport] = {}
    for report in reports:
        first_report.setdefault(report.token, report)
    found: set[str] = set()
    if parsed:
        found = await _act_on(list(parsed.values()), first_report, ip_address)
    return [
        Verdict(
            token_raw=report.token,
            token_type=report.type or (parsed[report.token].kind.label if report.token in parsed else "unknown"),
            label=TRUE_POSITIVE if report.token in found else FALSE_POSITIVE,
        )
        for report in reports
    ]


async def _act_on(values: list[tokens.ParsedToken], reports: dict[str, LeakReport], ip: str | None) -> set[str]:
    by_kind: dict[TokenKind, dict[str, str]] = {}
    for value in values:
        by_kind.setdefault(value.kind, {})[value.digest] = value.value
    found: set[str] = set()
    management = by_kind.get(TokenKind.MANAGEMENT, {})
    api = by_kind.get(TokenKind.API_KEY, {})
    sessions = by_kind.get(TokenKind.SESSION, {})
    signing = [v for v in by_kind.get(TokenKind.WEBHOOK_SIGNING_SECRET, {}).values()]
    invitations = by_kind.get(TokenKind.INVITATION, {})
    rows: list[tuple[str, Any]] = []
    if management:
        rows += [(management[r.token_hash], r) for r in await ManagementToken.filter(token_hash__in=list(management))]
    if api:
        rows += [(api[r.key_hash], r) for r in await ApiKey.filter(key_hash__in=list(api))]
    if sessions:
        found_sessions = await Session.filter(token_hash__in=list(sessions)).prefetch_related("membership__user")
        rows += [(sessions[r.token_hash], r) for r in found_sessions]
    if signing:
        rows += [(r.signing_secret, r) for r in await WebhookEndpoint.filter(signing_secret__in=signing)]
        previous = WebhookEndpoint.filter(previous_signing_secret__in=signing)
        rows += [(str(r.previous_signing_secret), PreviousSecret(r)) for r in await previous]
    if invitations:
        rows += [(invitations[r.token_hash], r) for r in await Invitation.filter(token_hash__in=list(invitations))]
    if not rows:
        return found
    workspace_ids = {_workspace_of(row) for _, row in rows}
    revoke = dict(await Workspace.filter(id__in=list(workspace_ids)).values_list("id", "revoke_leaked_credentials"))
    for secret, row in rows:
        found.add(secret)
        report = reports[secret]
        leak = {"url": clean_text(report.url, URL_MAX), "source": clean_text(report.source, SOURCE_MAX)}
        workspace_id = _workspace_of(row)
        await _handle(row, bool(revoke.get(workspace_id, True)), leak, _reporter(workspace_id, ip))
    await bump_revocation_epoch()  # revoked or deleted credentials are refused by every process from now on
    return found


@dataclass(frozen=True)
class PreviousSecret:
    """An endpoint found by the signing secret it had before its last roll."""

    endpoint: WebhookEndpoint

    @property
    def workspace_id(self) -> int:
        return int(self.endpoint.workspace_id)  # type: ignore[attr-defined]


def _workspace_of(row: Any) -> int:
    if isinstance(row, Session):
        return int(row.membership.workspace_id)  # type: ignore[attr-defined]
    return int(row.workspace_id)


async def _handle(row: Any, revoke: bool, leak: dict[str, Any], reporter: Principal) -> None:
    async with in_transaction():
        if isinstance(row, ManagementToken):
            await _management_token(row, revoke, leak, reporter)
        elif isinstance(row, ApiKey):
            await _api_key(row, revoke, leak, reporter)
        elif isinstance(row, Session):
            await _session(row, revoke, leak, reporter)
        elif isinstance(row, Invitation):
            await _invitation(row, leak, reporter)
        elif isinstance(row, PreviousSecret):
            await _previous_signing_secret(row.endpoint, leak, reporter)
        else:
            await _signing_secret(row, leak, reporter)


async def _record(
    reporter: Principal, target_type: str, target_id: int, described: dict[str, Any], action: str, leak: dict[str, Any]
) -> None:
    """The audit record (names and prefixes, the URL and source) and the CREDENTIAL_LEAKED event."""
    flat = ("name", "keyPrefix", "email")
    details = {**{k: v for k, v in described.items() if k in ("kind", *flat)}, "action": action, **leak}
    await audit.record(reporter, "credential.leaked", target_type, target_id, details=details)
    credential = {**{k: v for k, v in described.items() if k not in flat}, "action": action}
    assert reporter.workspace_id is not None
    await events.credential_leaked(reporter, reporter.workspace_id, credential, leak)


async def _management_token(token: ManagementToken, revoke: bool, leak: dict[str, Any], reporter: Principal) -> None:
    now = utcnow()
    flagged = await ManagementToken.filter(id=token.id, leaked_at__isnull=True).update(leaked_at=now)
    revoked = 0
    if revoke:
        revoked = await ManagementToken.filter(REVOKED.passes_q(now), id=token.id).update(**revocation(now))
    if not revoked and (not flagged or REVOKED.refuses(token, now)):
        return  # reported before, or revoked before: nothing new to do or to say
    token.leaked_at = token.leaked_at or now
    if revoked:
        token.update_from_dict(revocation(now))
        await audit.record(
            reporter,
            "management_token.revoked",
            "ManagementToken",
            token.id,
            details={"name": token.name, "keyPrefix": token.key_prefix, "reason": "leaked"},
        )
        await events.management_token_revoked(reporter, token, reason="leaked")
    described = {
        "kind": "MANAGEMENT_TOKEN",
        "managementToken": event_data.management_token(token),
        "name": token.name,
        "keyPrefix": token.key_prefix,
    }
    await _record(reporter, "ManagementToken", token.id, described, "REVOKED" if revoked else "FLAGGED", leak)


async def _api_key(key: ApiKey, revoke: bool, leak: dict[str, Any], reporter: Principal) -> None:
    described = {"kind": "API_KEY", "apiKey": event_data.api_key(key), "name": key.name, "keyPrefix": key.key_prefix}
    if revoke:
        if not await ApiKey.filter(id=key.id).delete():
            return  # deleted meanwhile
        await audit.record(
            reporter,
            "api_key.deleted",
            "ApiKey",
            key.id,
            details={"name": key.name, "keyPrefix": key.key_prefix, "reason": "leaked"},
        )
        await events.api_key_deleted(reporter, key, reason="leaked")
        await _record(reporter, "ApiKey", key.id, described, "DELETED", leak)
        return
    if await ApiKey.filter(id=key.id, leaked_at__isnull=True).update(leaked_at=utcnow()):
        await _record(reporter, "ApiKey", key.id, described, "FLAGGED", leak)


async def _session(session: Session, revoke: bool, leak: dict[str, Any], reporter: Principal) -> None:
    user = session.membership.user
    described = {
        "kind": "SESSION",
        "session": {"id": global_id("Session", session.id), "email": user.email},
        "email": user.email,
    }
    now = utcnow()
    if revoke:
        if await access.session_ended(session.id, leaked=True):
            await _record(reporter, "Session", session.id, described, "REVOKED", leak)
        return
    if await Session.filter(REVOKED.passes_q(now), id=session.id, leaked_at__isnull=True).update(leaked_at=now):
        await _record(reporter, "Session", session.id, described, "FLAGGED", leak)


def _signing_secret_described(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "kind": "WEBHOOK_SIGNING_SECRET",
        "webhookEndpoint": {"id": global_id("WebhookEndpoint", endpoint.id), "url": endpoint.url},
    }


async def _signing_secret(endpoint: WebhookEndpoint, leak: dict[str, Any], reporter: Principal) -> None:
    described = _signing_secret_described(endpoint)
    if await WebhookEndpoint.filter(id=endpoint.id, secret_leaked_at__isnull=True).update(secret_leaked_at=utcnow()):
        await _record(reporter, "WebhookEndpoint", endpoint.id, described, "FLAGGED", leak)


async def _previous_signing_secret(endpoint: WebhookEndpoint, leak: dict[str, Any], reporter: Principal) -> None:
    """Its grace, if it is still in one, ends now (deliveries are signed with the current secret only), whatever
    the workspace's setting; one whose grace is over is ours, and nothing to do."""
    described = _signing_secret_described(endpoint)
    now = utcnow()
    ended = await WebhookEndpoint.filter(
        id=endpoint.id, previous_signing_secret=endpoint.previous_signing_secret, previous_secret_expires_at__gt=now
    ).update(previous_secret_expires_at=now)
    if ended:
        await _record(reporter, "WebhookEndpoint", endpoint.id, described, "REVOKED", leak)


async def _invitation(invitation: Invitation, leak: dict[str, Any], reporter: Principal) -> None:
    """Revoked while pending, whatever the workspace's setting; accepted, revoked or expired: nothing to do."""
    now = utcnow()
    if not await Invitation.filter(pending_q(now), id=invitation.id).update(revoked_at=now):
        return
    described = {
        "kind": "INVITATION",
        "invitation": {"id": global_id("Invitation", invitation.id), "email": invitation.email},
        "email": invitation.email,
    }
    await audit.record(
        reporter,
        "invitation.revoked",
        "Invitation",
        invitation.id,
        details={"email": invitation.email, "reason": "leaked"},
    )
    await _record(reporter, "Invitation", invitation.id, described, "REVOKED", leak)
