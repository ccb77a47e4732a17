"""Who is calling: built once per request by the authentication backend, only read afterwards."""

import enum
from dataclasses import dataclass, field

from starlette.authentication import BaseUser

from app.security.permissions import Permission, WorkspaceRole


class PrincipalKind(enum.Enum):
    ANONYMOUS = "ANONYMOUS"
    USER = "USER"
    MANAGEMENT_TOKEN = "MANAGEMENT_TOKEN"  # noqa: S105 (a kind, not a secret)
    SYSTEM = "SYSTEM"


@dataclass(frozen=True, slots=True)
class Principal(BaseUser):
    kind: PrincipalKind
    workspace_id: int | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    role: WorkspaceRole | None = None
    user_id: int | None = None
    email: str | None = None
    session_id: int | None = None
    token_id: int | None = None
    token_label: str | None = None
    # A management token's project scope (app.services.credential_state.in_scope); None: every project.
    project_ids: frozenset[int] | None = None
    ip_address: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.kind in (PrincipalKind.USER, PrincipalKind.MANAGEMENT_TOKEN)

    def has_permission(self, permission: Permission) -> bool:
        return permission in self.permissions

    def has_role(self, role: WorkspaceRole) -> bool:
        return self.kind is PrincipalKind.USER and self.role is not None and self.role.at_least(role)


ANONYMOUS = Principal(kind=PrincipalKind.ANONYMOUS)
SYSTEM = Principal(kind=PrincipalKind.SYSTEM)
