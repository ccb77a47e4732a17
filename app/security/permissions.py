"""The one permission enum, workspace roles, and what each role grants."""

import enum


class Permission(enum.Enum):
    VIEW_PROJECTS = "VIEW_PROJECTS"
    MANAGE_PROJECTS = "MANAGE_PROJECTS"
    VIEW_API_KEYS = "VIEW_API_KEYS"
    DELETE_API_KEYS = "DELETE_API_KEYS"
    CREATE_API_KEY = "CREATE_API_KEY"


PERMISSION_DESCRIPTIONS = {
    Permission.VIEW_PROJECTS: "View projects created within your workspace.",
    Permission.MANAGE_PROJECTS: "Manage, edit, and delete projects in your workspace.",
    Permission.VIEW_API_KEYS: "View API keys generated in your workspace.",
    Permission.DELETE_API_KEYS: "Delete API keys in your workspace.",
    Permission.CREATE_API_KEY: "Create API keys in your workspace.",
}


class WorkspaceRole(enum.Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: "WorkspaceRole") -> bool:
        return self.rank >= other.rank


_RANK = {WorkspaceRole.MEMBER: 1, WorkspaceRole.ADMIN: 2, WorkspaceRole.OWNER: 3}

ALL_PERMISSIONS = frozenset(Permission)
ROLE_PERMISSIONS: dict[WorkspaceRole, frozenset[Permission]] = {
    WorkspaceRole.OWNER: ALL_PERMISSIONS,
    WorkspaceRole.ADMIN: ALL_PERMISSIONS,
    WorkspaceRole.MEMBER: frozenset({Permission.VIEW_PROJECTS, Permission.VIEW_API_KEYS}),
}

# Stable order for storage and display.
PERMISSION_ORDER = list(Permission)


def encode_permissions(permissions: frozenset[Permission] | set[Permission]) -> str:
    return ",".join(p.value for p in PERMISSION_ORDER if p in permissions)


def decode_permissions(stored: str) -> frozenset[Permission]:
    return frozenset(Permission(v) for v in stored.split(",") if v)
