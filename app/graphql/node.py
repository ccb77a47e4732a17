"""`node(id:)`: one global-ID lookup, scoped to the caller's workspace (app.services.nodes), guarded per type.

Each type is guarded by the same permission objects the directives use, so a management
token reads through `node` exactly what it reads through the list fields.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import HasPermission, HasRole
from app.graphql.ids import from_global_id
from app.graphql.types.audit import AuditEvent
from app.graphql.types.common import Node
from app.graphql.types.people import Invitation, Member
from app.graphql.types.projects import ApiKey, Project
from app.graphql.types.tokens import ManagementToken, StaleTokenReport
from app.graphql.types.webhooks import WebhookDelivery, WebhookEndpoint
from app.graphql.types.workspace import Workspace
from app.security.permissions import Permission, WorkspaceRole
from app.services import nodes


@dataclass(frozen=True)
class NodeRule:
    convert: Callable[[Any], Node]
    guard: BasePermission | None


NODE_RULES: dict[str, NodeRule] = {
    "Workspace": NodeRule(Workspace.from_model, None),
    "Project": NodeRule(Project.from_model, HasPermission(Permission.VIEW_PROJECTS)),
    "ApiKey": NodeRule(ApiKey.from_model, HasPermission(Permission.VIEW_API_KEYS)),
    "ManagementToken": NodeRule(ManagementToken.from_model, HasRole(WorkspaceRole.ADMIN)),
    "StaleTokenReport": NodeRule(StaleTokenReport.from_model, HasRole(WorkspaceRole.ADMIN)),
    "AuditEvent": NodeRule(AuditEvent.from_model, HasRole(WorkspaceRole.ADMIN)),
    "WebhookEndpoint": NodeRule(WebhookEndpoint.from_model, HasRole(WorkspaceRole.ADMIN)),
    "WebhookDelivery": NodeRule(WebhookDelivery.from_model, HasRole(WorkspaceRole.ADMIN)),
    "Member": NodeRule(Member.from_model, HasRole(WorkspaceRole.MEMBER)),
    "Invitation": NodeRule(Invitation.from_model, HasRole(WorkspaceRole.ADMIN)),
}


async def resolve_node(info: Info[Context, Any], global_id: str) -> Node | None:
    parsed = from_global_id(global_id)
    rule = NODE_RULES.get(parsed[0]) if parsed else None
    if parsed is None or rule is None:
        return None
    if rule.guard is not None and not rule.guard.has_permission(None, info):
        rule.guard.on_unauthorized()
    row = await nodes.find(info.context.principal, *parsed)
    return rule.convert(row) if row is not None else None
