"""GraphQL views of the domain enums (the Python enums themselves stay free of strawberry)."""

import enum
from typing import Any

import strawberry

from app.security.permissions import PERMISSION_DESCRIPTIONS, Permission, WorkspaceRole
from app.services.actors import ACTOR_KIND_DESCRIPTIONS, ActorKind
from app.services.audit import AUDIT_ACTION_DESCRIPTIONS, AuditAction
from app.services.errors import USER_ERROR_DESCRIPTIONS, UserErrorCode
from app.services.invitations import InvitationStatus
from app.services.signup_policy import SignUpPolicy


def _published(source: type[enum.Enum], name: str, description: str, values: dict[Any, str]) -> Any:
    """A GraphQL enum of a domain enum: the members' names, each with its one-line description.

    The domain enums stay free of strawberry; their values are what services store.
    """
    members = {m.name: strawberry.enum_value(m.value, description=values[m]) for m in source}
    return strawberry.enum(enum.Enum(name, members), name=name, description=description)  # type: ignore[call-overload]


def _with_value_descriptions(wrapped: Any, descriptions: dict[Any, str]) -> Any:
    """Give each value of an enum strawberry wraps in place (the domain enum itself) its description."""
    for value in wrapped.__strawberry_definition__.values:
        value.description = descriptions[wrapped[value.name]]
    return wrapped


PermissionEnum = _with_value_descriptions(
    strawberry.enum(
        Permission,
        name="Permission",
        description="What a management token or a role may do in its workspace.\n\n"
        + "\n".join(f"- {p.value}: {PERMISSION_DESCRIPTIONS[p]}" for p in Permission),
    ),
    PERMISSION_DESCRIPTIONS,
)

WorkspaceRoleEnum = _with_value_descriptions(
    strawberry.enum(WorkspaceRole, name="WorkspaceRole", description="OWNER > ADMIN > MEMBER"),
    {
        WorkspaceRole.OWNER: "Everything an admin may, and makes or removes other owners.",
        WorkspaceRole.ADMIN: "Every permission, management tokens, webhooks, members and workspace settings.",
        WorkspaceRole.MEMBER: "Views projects and API keys.",
    },
)


@strawberry.enum(name="ManagementTokenStatus", description="Whether requests with a management token are accepted.")
class ManagementTokenStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Accepted.")
    REVOKED = strawberry.enum_value("REVOKED", description="Revoked for good: every request with it is refused.")
    EXPIRED = strawberry.enum_value(
        "EXPIRED", description="Past its expiresAt: every request with it is refused, and its name is free again."
    )


@strawberry.enum(name="ApiKeyStatus", description="Whether verify accepts an API key.")
class ApiKeyStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Valid.")
    EXPIRED = strawberry.enum_value("EXPIRED", description='Past its expiresAt: verify answers code "EXPIRED".')


@strawberry.enum(name="StaleReason", description="Why the stale-token sweep counted a token as stale.")
class StaleReason(enum.Enum):
    NEVER_USED = strawberry.enum_value(
        "NEVER_USED", description="Never used since it was created, for longer than staleAfterDays."
    )
    INACTIVE = strawberry.enum_value("INACTIVE", description="Not used for longer than staleAfterDays.")
    EXPIRING = strawberry.enum_value(
        "EXPIRING",
        description="Expires within 7 days (expiresAt): listed as a warning, never flagged stale or revoked by the "
        "sweep.",
    )


@strawberry.enum(name="WebhookEvent", description="What a webhook delivery reports; the body's `type` is in brackets.")
class WebhookEventEnum(enum.Enum):
    PING = strawberry.enum_value("PING", description="[ping] Sent only by sendTestWebhook; carries no change.")
    MANAGEMENT_TOKEN_CREATED = strawberry.enum_value(
        "MANAGEMENT_TOKEN_CREATED", description="[management_token.created] A management token was created."
    )
    MANAGEMENT_TOKEN_UPDATED = strawberry.enum_value(
        "MANAGEMENT_TOKEN_UPDATED",
        description="[management_token.updated] A management token's name, permissions, IPs or expiry changed.",
    )
    MANAGEMENT_TOKEN_ROTATED = strawberry.enum_value(
        "MANAGEMENT_TOKEN_ROTATED",
        description="[management_token.rotated] A management token got a replacement (both are in `data`).",
    )
    MANAGEMENT_TOKEN_REVOKED = strawberry.enum_value(
        "MANAGEMENT_TOKEN_REVOKED",
        description="[management_token.revoked] A management token was revoked (by a person, the stale sweep or "
        "a leak report; `reason` says which).",
    )
    CREDENTIAL_EXPIRING = strawberry.enum_value(
        "CREDENTIAL_EXPIRING", description="[credential.expiring] A management token or API key expires soon."
    )
    STALE_TOKEN_REPORT_READY = strawberry.enum_value(
        "STALE_TOKEN_REPORT_READY",
        description="[stale_token_report.ready] The stale sweep found stale tokens; the report's entries are in "
        "`data` (the 100 longest idle).",
    )
    API_KEY_CREATED = strawberry.enum_value("API_KEY_CREATED", description="[api_key.created] An API key was created.")
    API_KEY_DELETED = strawberry.enum_value(
        "API_KEY_DELETED", description="[api_key.deleted] An API key was deleted (also with its project, or leaked)."
    )
    MEMBER_CHANGED = strawberry.enum_value(
        "MEMBER_CHANGED", description="[member.changed] A person was added to the workspace, changed role or left."
    )
    CREDENTIAL_LEAKED = strawberry.enum_value(
        "CREDENTIAL_LEAKED",
        description="[credential.leaked] A credential was reported leaked (POST /v1/leaks) and revoked or flagged.",
    )


@strawberry.enum(name="WebhookDeliveryStatus", description="Where a delivery stands.")
class WebhookDeliveryStatus(enum.Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Not delivered yet: waiting for its first attempt or a retry."
    )
    DELIVERED = strawberry.enum_value("DELIVERED", description="The endpoint answered 2xx.")
    FAILED = strawberry.enum_value("FAILED", description="Every attempt for 24 hours failed; no more retries.")


UserErrorCodeEnum = _published(
    UserErrorCode,
    "UserErrorCode",
    "Why a mutation refused its input; the message says it in words.",
    USER_ERROR_DESCRIPTIONS,
)

ActorKindEnum = _published(
    ActorKind, "ActorKind", "Who did something (Actor) or who is calling (Viewer).", ACTOR_KIND_DESCRIPTIONS
)

AuditActionEnum = _published(
    AuditAction,
    "AuditAction",
    "What an audit event records; `AuditEvent.action` carries the same as text (e.g. management_token.created).",
    AUDIT_ACTION_DESCRIPTIONS,
)

InvitationStatusEnum = _with_value_descriptions(
    strawberry.enum(InvitationStatus, name="InvitationStatus", description="Where an invitation stands."),
    {
        InvitationStatus.PENDING: "Waiting to be accepted: the link works until expiresAt.",
        InvitationStatus.ACCEPTED: "Accepted: the person joined; the link works no more.",
        InvitationStatus.REVOKED: "Revoked by an admin, or replaced by a newer invitation of the same email.",
        InvitationStatus.EXPIRED: "Not accepted before expiresAt.",
    },
)

SignUpPolicyEnum = _with_value_descriptions(
    strawberry.enum(SignUpPolicy, name="SignUpPolicy", description="Who may sign up (KEYWARD_SIGNUP)."),
    {
        SignUpPolicy.OPEN: "Anyone (KEYWARD_SIGNUP=open).",
        SignUpPolicy.FIRST_ONLY: "Anyone until the first account exists, then nobody (first, the default).",
        SignUpPolicy.CLOSED: "Nobody: people join by invitation; `keyward create-owner` makes owners.",
    },
)
