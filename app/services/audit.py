"""The audit log: every administrative action, never a secret.

Actions are recorded with `record` (one event) and, by the stale sweep, in set-based SQL that
writes the same columns (app.services.stale_sweep). Every action is one of `AuditAction`.
"""

import enum
from typing import Any

from app.models import AuditEvent
from app.security.principal import Principal
from app.services.actors import actor_of
from app.services.pagination import Page, paginate


class AuditAction(enum.StrEnum):
    """What an audit event records; the value is what the event stores and the API shows as `action`."""

    API_KEY_CREATED = "api_key.created"
    API_KEY_DELETED = "api_key.deleted"
    API_KEY_ROTATED = "api_key.rotated"
    CREDENTIAL_IP_REFUSED = "credential.ip_refused"
    CREDENTIAL_LEAKED = "credential.leaked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_CREATED = "invitation.created"
    INVITATION_REVOKED = "invitation.revoked"
    MANAGEMENT_TOKEN_CREATED = "management_token.created"
    MANAGEMENT_TOKEN_FLAGGED_STALE = "management_token.flagged_stale"
    MANAGEMENT_TOKEN_REVOKED = "management_token.revoked"
    MANAGEMENT_TOKEN_ROTATED = "management_token.rotated"
    MANAGEMENT_TOKEN_UPDATED = "management_token.updated"
    MEMBER_ADDED = "member.added"  # addMember, before invitations replaced it: kept for the events it wrote
    MEMBER_LEFT = "member.left"
    MEMBER_REMOVED = "member.removed"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    OWNER_CREATED = "owner.created"
    PROJECT_CREATED = "project.created"
    PROJECT_DELETED = "project.deleted"
    PROJECT_UPDATED = "project.updated"
    USER_LOGGED_IN = "user.logged_in"
    USER_LOGGED_OUT = "user.logged_out"
    USER_LOG_IN_FAILED = "user.log_in_failed"
    USER_PASSWORD_CHANGED = "user.password_changed"
    USER_SIGNED_UP = "user.signed_up"
    WEBHOOK_DELIVERY_REDELIVERED = "webhook_delivery.redelivered"
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    WEBHOOK_ENDPOINT_SECRET_ROLLED = "webhook_endpoint.secret_rolled"
    WEBHOOK_ENDPOINT_TEST_SENT = "webhook_endpoint.test_sent"
    WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"
    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_SETTINGS_UPDATED = "workspace.settings_updated"


# One line each, for the schema's docs pane.
AUDIT_ACTION_DESCRIPTIONS: dict[AuditAction, str] = {
    AuditAction.API_KEY_CREATED: "An API key was created.",
    AuditAction.API_KEY_DELETED: "An API key was deleted (by a person, with its project, or as leaked).",
    AuditAction.CREDENTIAL_IP_REFUSED: "A management token or API key was presented from an address its allowlist "
    "does not hold (once per address and minute).",
    AuditAction.API_KEY_ROTATED: "An API key got a replacement (the old one may keep working for a grace period).",
    AuditAction.CREDENTIAL_LEAKED: "A credential was reported leaked and revoked or flagged.",
    AuditAction.INVITATION_ACCEPTED: "A person accepted an invitation and joined the workspace.",
    AuditAction.INVITATION_CREATED: "A person was invited (a pending invitation for the same email is revoked).",
    AuditAction.INVITATION_REVOKED: "An invitation was revoked.",
    AuditAction.MANAGEMENT_TOKEN_CREATED: "A management token was created (also as a rotation's replacement).",
    AuditAction.MANAGEMENT_TOKEN_FLAGGED_STALE: "The stale sweep flagged a management token as stale.",
    AuditAction.MANAGEMENT_TOKEN_REVOKED: "A management token was revoked (by a person, the sweep or a leak report).",
    AuditAction.MANAGEMENT_TOKEN_ROTATED: "A management token got a replacement.",
    AuditAction.MANAGEMENT_TOKEN_UPDATED: "A management token's name, permissions, allowlist or expiry changed "
    "(details: before and after).",
    AuditAction.MEMBER_ADDED: "A person was added with an initial password (addMember, before invitations).",
    AuditAction.MEMBER_LEFT: "A person left the workspace.",
    AuditAction.MEMBER_REMOVED: "A person was removed from the workspace.",
    AuditAction.MEMBER_ROLE_CHANGED: "A person's role changed.",
    AuditAction.OWNER_CREATED: "`keyward create-owner` made an account that owns a new workspace.",
    AuditAction.PROJECT_CREATED: "A project was created.",
    AuditAction.PROJECT_DELETED: "A project was deleted with its API keys.",
    AuditAction.PROJECT_UPDATED: "A project's name or description changed.",
    AuditAction.USER_LOGGED_IN: "A person logged in.",
    AuditAction.USER_LOGGED_OUT: "A person logged out.",
    AuditAction.USER_LOG_IN_FAILED: "A log-in with a known email failed.",
    AuditAction.USER_PASSWORD_CHANGED: "A person changed their password (their sessions ended).",
    AuditAction.USER_SIGNED_UP: "A person signed up.",
    AuditAction.WEBHOOK_DELIVERY_REDELIVERED: "A webhook delivery was sent again.",
    AuditAction.WEBHOOK_ENDPOINT_CREATED: "A webhook endpoint was added.",
    AuditAction.WEBHOOK_ENDPOINT_DELETED: "A webhook endpoint was removed.",
    AuditAction.WEBHOOK_ENDPOINT_DISABLED: "A webhook endpoint was disabled after failing for too long.",
    AuditAction.WEBHOOK_ENDPOINT_SECRET_ROLLED: "A webhook endpoint got a new signing secret.",
    AuditAction.WEBHOOK_ENDPOINT_TEST_SENT: "A test delivery (PING) was sent to a webhook endpoint.",
    AuditAction.WEBHOOK_ENDPOINT_UPDATED: "A webhook endpoint's URL, events, note or state changed.",
    AuditAction.WORKSPACE_CREATED: "A workspace was created.",
    AuditAction.WORKSPACE_SETTINGS_UPDATED: "The workspace's settings changed.",
}


async def record(
    principal: Principal,
    action: str,
    target_type: str,
    target_id: int | str | None,
    *,
    workspace_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    actor = actor_of(principal)
    return await AuditEvent.create(
        workspace_id=workspace_id if workspace_id is not None else principal.workspace_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else f"{target_type}:{target_id}",
        ip_address=principal.ip_address,
        details=details,
    )


async def list_events(principal: Principal, first: int | None, after: str | None) -> Page[AuditEvent]:
    query = AuditEvent.filter(workspace_id=principal.workspace_id)
    return await paginate(query, first, after, newest_first=True)
