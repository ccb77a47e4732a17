"""GraphQL views of the domain enums (the Python enums themselves stay free of strawberry)."""

import enum

import strawberry

from app.security.permissions import PERMISSION_DESCRIPTIONS, Permission, WorkspaceRole

PermissionEnum = strawberry.enum(
    Permission,
    name="Permission",
    description="What a management token or a role may do in its workspace.\n\n"
    + "\n".join(f"- {p.value}: {PERMISSION_DESCRIPTIONS[p]}" for p in Permission),
)

WorkspaceRoleEnum = strawberry.enum(WorkspaceRole, name="WorkspaceRole", description="OWNER > ADMIN > MEMBER")


@strawberry.enum(name="ManagementTokenStatus")
class ManagementTokenStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


@strawberry.enum(name="StaleReason")
class StaleReason(enum.Enum):
    NEVER_USED = "NEVER_USED"
    INACTIVE = "INACTIVE"
