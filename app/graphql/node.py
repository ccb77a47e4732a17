"""`node(id:)`: one global-ID lookup, scoped to the caller's workspace, guarded per type.

Each type is guarded by the same permission objects the directives use, so a management
token reads through `node` exactly what it reads through the list fields.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info
from tortoise.models import Model

from app import models
from app.graphql.context import Context
from app.graphql.directives import HasPermission, HasRole
from app.graphql.ids import from_global_id
from app.graphql.types.audit import AuditEvent
from app.graphql.types.common import Node
from app.graphql.types.projects import ApiKey, Project
from app.graphql.types.tokens import ManagementToken, StaleTokenReport
from app.graphql.types.webhooks import WebhookDelivery, WebhookEndpoint
from app.graphql.types.workspace import Workspace
from app.security.permissions import Permission, WorkspaceRole


@dataclass(frozen=True)
class NodeRule:
    model: type[Model]
    convert: Callable[[Any], Node]
    guard: BasePermission | None
    workspace_field: str = "workspace_id"


NODE_RULES: dict[str, NodeRule] = {
    "Workspace": NodeRule(models.Workspace, Workspace.from_model, None, "id"),
    "Project": NodeRule(models.Project, Project.from_model, HasPermission(Permission.VIEW_PROJECTS)),
    "ApiKey": NodeRule(models.ApiKey, ApiKey.from_model, HasPermission(Permission.VIEW_API_KEYS)),
    "ManagementToken": NodeRule(models.ManagementToken, ManagementToken.from_model, HasRole(WorkspaceRole.ADMIN)),
    "StaleTokenReport": NodeRule(models.StaleTokenReport, StaleTokenReport.from_model, HasRole(WorkspaceRole.ADMIN)),
    "AuditEvent": NodeRule(models.AuditEvent, AuditEvent.from_model, HasRole(WorkspaceRole.ADMIN)),
    "WebhookEndpoint": NodeRule(models.WebhookEndpoint, WebhookEndpoint.from_model, HasRole(WorkspaceRole.ADMIN)),
    "WebhookDelivery": NodeRule(models.WebhookDelivery, WebhookDelivery.from_model, HasRole(WorkspaceRole.ADMIN)),
}


async def resolve_node(info: Info[Context, Any], global_id: str) -> Node | None:
    parsed = from_global_id(global_id)
    rule = NODE_RULES.get(parsed[0]) if parsed else None
    if parsed is None or rule is None:
        return None
    if rule.guard is not None and not rule.guard.has_permission(None, info):
        rule.guard.on_unauthorized()
    # Two filters, not one dict: for Workspace the scope field is "id" itself, and a dict
    # {"id": pk, "id": workspace} kept only the second, so any Workspace ID found the caller's own.
    scoped = rule.model.filter(**{rule.workspace_field: info.context.principal.workspace_id})
    row = await scoped.filter(id=parsed[1]).first()
    return rule.convert(row) if row is not None else None
