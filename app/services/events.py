"""The outbox: an event is written in the transaction of the change that causes it.

Services call one of the functions below inside their `in_transaction()`; the event row and one
delivery per enabled endpoint subscribed to its type commit or roll back with the change, so a
rollback sends nothing and a crash after the commit loses nothing (workers deliver from the
table). A workspace without a subscribed endpoint pays one indexed SELECT and stores nothing.
"""

import enum
import uuid
from datetime import datetime
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.expressions import Subquery

from app.clock import utcnow
from app.models import (
    ApiKey,
    ManagementToken,
    StaleTokenReport,
    StaleTokenReportApiKey,
    StaleTokenReportEntry,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from app.models.webhooks import PENDING
from app.security.principal import SYSTEM, Principal
from app.services import event_data
from app.services.stale_reports import ENTRY_ORDER, KEY_ORDER
from app.sql_dialect import Dialect, statement


class EventType(enum.Enum):
    """Every event Keyward sends; the value is the body's `type`."""

    MANAGEMENT_TOKEN_CREATED = "management_token.created"  # noqa: S105
    MANAGEMENT_TOKEN_UPDATED = "management_token.updated"  # noqa: S105
    MANAGEMENT_TOKEN_ROTATED = "management_token.rotated"  # noqa: S105
    MANAGEMENT_TOKEN_REVOKED = "management_token.revoked"  # noqa: S105
    CREDENTIAL_EXPIRING = "credential.expiring"
    STALE_TOKEN_REPORT_READY = "stale_token_report.ready"  # noqa: S105
    API_KEY_CREATED = "api_key.created"
    API_KEY_DELETED = "api_key.deleted"
    MEMBER_CHANGED = "member.changed"
    CREDENTIAL_LEAKED = "credential.leaked"
    PING = "ping"


# Only `sendTestWebhook` sends a ping; endpoints do not subscribe to it.
SUBSCRIBABLE = tuple(t for t in EventType if t is not EventType.PING)
# A stale report's event lists its longest-idle entries, and its soonest-expiring API keys, up to this many
# each (the rest: `staleTokenReports`).
REPORT_ENTRIES_IN_EVENT = 100


def encode_events(types: list[EventType]) -> str:
    return ",".join(t.name for t in SUBSCRIBABLE if t in types)


def decode_events(stored: str) -> list[EventType]:
    return [EventType[name] for name in stored.split(",") if name in EventType.__members__]


def new_event_uid() -> str:
    return f"evt_{uuid.uuid4().hex}"


# Read with the lock the deliveries' foreign key takes anyway: an endpoint deleted concurrently is either
# deleted after this transaction (with the deliveries it wrote) or not read, never referenced once it is gone.
_SUBSCRIBERS = statement(
    lambda d: (
        "SELECT id, workspace_id, events FROM webhook_endpoint "  # noqa: S608
        f"WHERE {d.in_ids('workspace_id', 1)} AND enabled ORDER BY id{d.key_share}"
    )
)


async def subscribers(
    workspace_ids: list[int], event_type: EventType, using_db: BaseDBAsyncClient | None = None
) -> dict[int, list[int]]:
    """Enabled endpoints subscribed to `event_type`, by workspace; on PostgreSQL they stay until the caller's
    transaction ends (a `deleteWebhookEndpoint` waits for it), so its deliveries can be written for them."""
    conn = using_db or get_connection("default")
    rows = await conn.execute_query_dict(_SUBSCRIBERS(conn), [Dialect.of(conn).ids_value(workspace_ids)])
    found: dict[int, list[int]] = {}
    for row in rows:
        if event_type.name in row["events"].split(","):
            found.setdefault(row["workspace_id"], []).append(row["id"])
    return found


async def emit(
    workspace_id: int,
    event_type: EventType,
    data: dict[str, Any],
    *,
    using_db: BaseDBAsyncClient | None = None,
    endpoint_ids: list[int] | None = None,
) -> WebhookEvent | None:
    """Record the event for every subscribed endpoint (or the given ones, which the caller holds locked);
    None when nobody listens."""
    if endpoint_ids is None:
        endpoint_ids = (await subscribers([workspace_id], event_type, using_db)).get(workspace_id, [])
    if not endpoint_ids:
        return None
    now = utcnow()
    event = await WebhookEvent.create(
        uid=new_event_uid(),
        workspace_id=workspace_id,
        type=event_type.value,
        data=data,
        created_at=now,
        using_db=using_db,
    )
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                workspace_id=workspace_id,
                endpoint_id=endpoint_id,
                event_id=event.id,
                type=event_type.value,
                event_uid=event.uid,
                ordered=event_type is not EventType.PING,
                state=PENDING,
                created_at=now,
                next_attempt_at=now,
            )
            for endpoint_id in endpoint_ids
        ],
        using_db=using_db,
    )
    return event


# ---- one call per kind of change (what services add inside their transaction) ------------------


async def management_token_created(principal: Principal, token: ManagementToken) -> None:
    data = {"managementToken": event_data.management_token(token), "actor": event_data.actor(principal)}
    await emit(token.workspace_id, EventType.MANAGEMENT_TOKEN_CREATED, data)  # type: ignore[attr-defined]


async def management_token_updated(principal: Principal, token: ManagementToken, changed: list[str]) -> None:
    """For `updateManagementToken`: `changed` names the fields that changed (e.g. ["name", "permissions"])."""
    data = {
        "managementToken": event_data.management_token(token),
        "changed": sorted(changed),
        "actor": event_data.actor(principal),
    }
    await emit(token.workspace_id, EventType.MANAGEMENT_TOKEN_UPDATED, data)  # type: ignore[attr-defined]


async def management_token_rotated(principal: Principal, old: ManagementToken, replacement: ManagementToken) -> None:
    data = {
        "managementToken": event_data.management_token(old),
        "replacement": event_data.management_token(replacement),
        "actor": event_data.actor(principal),
    }
    await emit(old.workspace_id, EventType.MANAGEMENT_TOKEN_ROTATED, data)  # type: ignore[attr-defined]


async def management_token_revoked(principal: Principal, token: ManagementToken, reason: str | None = None) -> None:
    data = {
        "managementToken": event_data.management_token(token),
        "reason": reason,
        "actor": event_data.actor(principal),
    }
    await emit(token.workspace_id, EventType.MANAGEMENT_TOKEN_REVOKED, data)  # type: ignore[attr-defined]


async def credential_expiring(workspace_id: int, credential: ManagementToken | ApiKey, expires_at: datetime) -> None:
    """For expiry: a management token or API key that expires at `expires_at`."""
    if isinstance(credential, ManagementToken):
        described = {"kind": "MANAGEMENT_TOKEN", "managementToken": event_data.management_token(credential)}
    else:
        described = {"kind": "API_KEY", "apiKey": event_data.api_key(credential)}
    data = {"credential": described, "expiresAt": event_data.time(expires_at), "actor": event_data.actor(SYSTEM)}
    await emit(workspace_id, EventType.CREDENTIAL_EXPIRING, data)


async def api_key_created(principal: Principal, key: ApiKey) -> None:
    data = {"apiKey": event_data.api_key(key), "actor": event_data.actor(principal)}
    await emit(key.workspace_id, EventType.API_KEY_CREATED, data)  # type: ignore[attr-defined]


async def api_key_deleted(principal: Principal, key: ApiKey, reason: str | None = None) -> None:
    data = {"apiKey": event_data.api_key(key), "reason": reason, "actor": event_data.actor(principal)}
    await emit(key.workspace_id, EventType.API_KEY_DELETED, data)  # type: ignore[attr-defined]


async def api_keys_deleted(principal: Principal, workspace_id: int, keys: list[ApiKey], reason: str) -> None:
    """API_KEY_DELETED for each of `keys` (e.g. those of a deleted project), with one lookup of who listens."""
    listening = (await subscribers([workspace_id], EventType.API_KEY_DELETED)).get(workspace_id)
    for key in keys if listening else []:
        data = {"apiKey": event_data.api_key(key), "reason": reason, "actor": event_data.actor(principal)}
        await emit(workspace_id, EventType.API_KEY_DELETED, data, endpoint_ids=listening)


async def member_changed(
    principal: Principal, workspace_id: int, user_id: int, email: str, role: str | None, change: str
) -> None:
    """`change`: ADDED, ROLE_CHANGED or REMOVED (role null when removed)."""
    data = {"member": event_data.member(user_id, email, role), "change": change, "actor": event_data.actor(principal)}
    await emit(workspace_id, EventType.MEMBER_CHANGED, data)


async def credential_leaked(
    principal: Principal, workspace_id: int, credential: dict[str, Any], leak: dict[str, Any]
) -> None:
    data = {"credential": credential, "leak": leak, "actor": event_data.actor(principal)}
    await emit(workspace_id, EventType.CREDENTIAL_LEAKED, data)


async def sweep_finished(report_ids: list[int], using_db: BaseDBAsyncClient) -> None:
    """Called by the stale sweep inside its transaction: STALE_TOKEN_REPORT_READY for each new report, and
    MANAGEMENT_TOKEN_REVOKED (reason "stale") for each token it revoked, for the endpoints that listen."""
    if not report_ids:
        return
    # One statement when nobody listens (the usual case): the enabled endpoints of the reports' workspaces.
    reported = StaleTokenReport.filter(id__in=report_ids).values("workspace_id")
    endpoints = await WebhookEndpoint.filter(workspace_id__in=Subquery(reported), enabled=True).using_db(using_db)
    listening = {t.name for e in endpoints for t in decode_events(e.events)}
    if not listening & {EventType.STALE_TOKEN_REPORT_READY.name, EventType.MANAGEMENT_TOKEN_REVOKED.name}:
        return
    reports = await StaleTokenReport.filter(id__in=report_ids).using_db(using_db).order_by("id")
    workspace_ids = sorted({r.workspace_id for r in reports})  # type: ignore[attr-defined]
    await _stale_reports_ready(reports, workspace_ids, using_db)
    await _stale_tokens_revoked(reports, workspace_ids, using_db)


REVOKED_PAGE = 500


async def _stale_tokens_revoked(
    reports: list[StaleTokenReport], workspace_ids: list[int], using_db: BaseDBAsyncClient
) -> None:
    listening = await subscribers(workspace_ids, EventType.MANAGEMENT_TOKEN_REVOKED, using_db)
    for report in reports:
        endpoint_ids = listening.get(report.workspace_id)  # type: ignore[attr-defined]
        after = 0
        while endpoint_ids:
            page = (
                await StaleTokenReportEntry.filter(report_id=report.id, auto_revoked=True, id__gt=after)
                .using_db(using_db)
                .order_by("id")
                .limit(REVOKED_PAGE)
                .values_list("id", "token_id")
            )
            if not page:
                break
            after = page[-1][0]
            tokens = await ManagementToken.filter(id__in=[t for _, t in page]).using_db(using_db).order_by("id")
            for token in tokens:
                data = {
                    "managementToken": event_data.management_token(token),
                    "reason": "stale",
                    "actor": event_data.actor(SYSTEM),
                }
                await emit(
                    token.workspace_id,  # type: ignore[attr-defined]
                    EventType.MANAGEMENT_TOKEN_REVOKED,
                    data,
                    using_db=using_db,
                    endpoint_ids=endpoint_ids,
                )


async def _stale_reports_ready(
    reports: list[StaleTokenReport], workspace_ids: list[int], using_db: BaseDBAsyncClient
) -> None:
    listening = await subscribers(workspace_ids, EventType.STALE_TOKEN_REPORT_READY, using_db)
    for report in reports:
        endpoint_ids = listening.get(report.workspace_id)  # type: ignore[attr-defined]
        if not endpoint_ids:
            continue
        entries = StaleTokenReportEntry.filter(report_id=report.id).using_db(using_db)
        count = await entries.count()
        auto_revoked = await entries.filter(auto_revoked=True).count()
        shown = await entries.order_by(*ENTRY_ORDER).limit(REPORT_ENTRIES_IN_EVENT).prefetch_related("token")
        described = [
            {
                "token": {
                    "id": event_data.global_id("ManagementToken", entry.token.id),
                    "name": entry.token.name,
                    "keyPrefix": entry.token.key_prefix,
                },
                "reason": entry.reason,
                "lastUsedAt": event_data.time(entry.last_used_at),
                "idleDays": entry.idle_days,
                "autoRevoked": entry.auto_revoked,
            }
            for entry in shown
        ]
        keys = StaleTokenReportApiKey.filter(report_id=report.id).using_db(using_db)
        key_count = await keys.count()
        shown_keys = await keys.order_by(*KEY_ORDER).limit(REPORT_ENTRIES_IN_EVENT).prefetch_related("api_key")
        expiring_keys = [
            {
                "apiKey": {
                    "id": event_data.global_id("ApiKey", row.api_key.id),
                    "name": row.api_key.name,
                    "keyPrefix": row.api_key.key_prefix,
                    "projectId": event_data.global_id("Project", row.api_key.project_id),  # type: ignore[attr-defined]
                },
                "expiresAt": event_data.time(row.expires_at),
                "lastUsedAt": event_data.time(row.last_used_at),
            }
            for row in shown_keys
        ]
        data = {
            "staleTokenReport": event_data.stale_report(
                report, described, count, auto_revoked, expiring_keys, key_count
            )
        }
        await emit(
            report.workspace_id,  # type: ignore[attr-defined]
            EventType.STALE_TOKEN_REPORT_READY,
            data,
            using_db=using_db,
            endpoint_ids=endpoint_ids,
        )
