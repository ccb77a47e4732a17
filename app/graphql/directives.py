"""The one way to protect a field: ``@requiresPermission`` and ``@requiresRole``.

Each is a strawberry permission whose schema directive carries its argument, so a single
declaration on the field both enforces the rule and prints it in the SDL.
"""

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.enums import PermissionEnum, WorkspaceRoleEnum
from app.security.permissions import Permission, WorkspaceRole
from app.security.principal import Principal, PrincipalKind


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresPermission",
    description="The caller must hold this permission. Management tokens hold the permissions they were "
    "created with; a human session holds them through its workspace role.",
)
class RequiresPermissionDirective:
    permission: PermissionEnum  # type: ignore[valid-type]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresRole",
    description="Only a signed-in person (a session, never a management token) with at least this role "
    "in the workspace may use the field.",
)
class RequiresRoleDirective:
    role: WorkspaceRoleEnum  # type: ignore[valid-type]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="workspaceWide",
    description="A management token limited to some projects (its `projects`) may not use the field: what it "
    "would create lies outside its scope.",
)
class WorkspaceWideDirective:
    pass


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "Authentication required: send `Authorization: Bearer <session or management token>`.",
        extensions={"code": "UNAUTHENTICATED"},
    )


def _principal(info: Info[Context, Any]) -> Principal:
    principal = info.context.principal
    if not principal.is_authenticated:
        raise unauthenticated()
    return principal


class HasPermission(BasePermission):
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.message = f"Forbidden: this requires the {permission.value} permission."
        self._schema_directive = RequiresPermissionDirective(permission=permission)  # type: ignore[misc]

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        return _principal(info).has_permission(self.permission)


class HasRole(BasePermission):
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, role: WorkspaceRole) -> None:
        self.role = role
        self.message = (
            f"Forbidden: this requires a signed-in person with the {role.value} role or higher; "
            "management tokens cannot use it."
        )
        self._schema_directive = RequiresRoleDirective(role=role)  # type: ignore[misc]

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        return _principal(info).has_role(self.role)


class WorkspaceWide(BasePermission):
    error_extensions = {"code": "FORBIDDEN"}
    message = (
        "Forbidden: this management token is limited to some projects, and what this field creates would lie "
        "outside them; use a token for every project or a signed-in person."
    )

    def __init__(self) -> None:
        self._schema_directive = WorkspaceWideDirective()  # type: ignore[misc]

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        return _principal(info).project_ids is None


def requires_permission(permission: Permission, *, workspace_wide: bool = False) -> list[FieldExtension]:
    """``extensions=requires_permission(Permission.X)`` on a field; `workspace_wide`: not for a token
    limited to some projects (checked after the permission)."""
    checks: list[BasePermission] = [HasPermission(permission)]
    if workspace_wide:
        checks.append(WorkspaceWide())
    return [PermissionExtension(permissions=checks)]


def requires_role(role: WorkspaceRole) -> list[FieldExtension]:
    return [PermissionExtension(permissions=[HasRole(role)])]


def require_signed_in(info: Info[Context, Any]) -> Principal:
    """For the few public-by-schema fields that still need a caller (viewer, logOut, node)."""
    return _principal(info)


__all__ = ["HasPermission", "HasRole", "PrincipalKind", "require_signed_in", "requires_permission", "requires_role"]
