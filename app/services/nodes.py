"""Any object of the caller's workspace by its type name and primary key (what `node(id:)` asks)."""

from typing import Any

from tortoise.models import Model

from app.models import (
    ApiKey,
    AuditEvent,
    Invitation,
    ManagementToken,
    Membership,
    Project,
    StaleTokenReport,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
)
from app.security.principal import Principal
from app.services.credential_state import scope_q

# Type name -> (model, the column that names its workspace).
_SCOPED: dict[str, tuple[type[Model], str]] = {
    "Workspace": (Workspace, "id"),
    "Project": (Project, "workspace_id"),
    "ApiKey": (ApiKey, "workspace_id"),
    "ManagementToken": (ManagementToken, "workspace_id"),
    "StaleTokenReport": (StaleTokenReport, "workspace_id"),
    "AuditEvent": (AuditEvent, "workspace_id"),
    "WebhookEndpoint": (WebhookEndpoint, "workspace_id"),
    "WebhookDelivery": (WebhookDelivery, "workspace_id"),
    "Member": (Membership, "workspace_id"),
    "Invitation": (Invitation, "workspace_id"),
}
# Types that belong to a project: the column naming it, judged against a token's project scope.
_PROJECT_OF: dict[str, str] = {"Project": "id", "ApiKey": "project_id"}
# Relations a type's record carries loaded (a Member shows its person's email).
_RELATED: dict[str, tuple[str, ...]] = {"Member": ("user",)}

TYPE_NAMES = frozenset(_SCOPED)


async def find(principal: Principal, type_name: str, pk: int) -> Any | None:
    """The record, or None when unknown, of a type `find` does not know, or in another workspace."""
    if type_name not in _SCOPED:
        return None
    model, workspace_field = _SCOPED[type_name]
    # Two filters, not one dict: for Workspace the scope field is "id" itself, and a dict
    # {"id": pk, "id": workspace} would keep only the second.
    scoped = model.filter(**{workspace_field: principal.workspace_id}).filter(id=pk)
    if type_name in _PROJECT_OF:
        scoped = scoped.filter(scope_q(principal.project_ids, _PROJECT_OF[type_name]))
    return await scoped.select_related(*_RELATED.get(type_name, ())).first()
