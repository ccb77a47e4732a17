from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import require_signed_in, requires_permission, requires_role
from app.graphql.enums import ApiKeyStatus, InvitationStatusEnum, ManagementTokenStatus, SignUpPolicyEnum
from app.graphql.ids import pk_of
from app.graphql.node import resolve_node
from app.graphql.types.audit import AuditEvent
from app.graphql.types.common import After, Connection, First, Node, to_connection
from app.graphql.types.people import Invitation, Member
from app.graphql.types.projects import ApiKey, Project
from app.graphql.types.tokens import ManagementToken, StaleTokenReport
from app.graphql.types.webhooks import WebhookEndpoint
from app.graphql.types.workspace import Viewer
from app.security.permissions import Permission, WorkspaceRole
from app.services import (
    api_keys,
    audit,
    invitations,
    management_tokens,
    members,
    projects,
    signup_policy,
    stale_reports,
    webhooks,
)
from app.services.credential_state import CredentialState
from app.services.pagination import empty_page


@strawberry.type(description="What a caller can read; every list is the caller's workspace only.")
class Query:
    @strawberry.field(description="Any object of the caller's workspace by its global ID; null when unknown.")
    async def node(
        self,
        info: Info[Context, Any],
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID from any field of this API.")],
    ) -> Node | None:
        require_signed_in(info)
        return await resolve_node(info, id)

    @strawberry.field(description="Who is calling, and what they may do right now.")
    def viewer(self, info: Info[Context, Any]) -> Viewer:
        return Viewer.of(require_signed_in(info))

    @strawberry.field(
        extensions=requires_permission(Permission.VIEW_PROJECTS), description="The workspace's projects, oldest first."
    )
    async def projects(self, info: Info[Context, Any], first: First = None, after: After = None) -> Connection[Project]:
        page = await projects.list_projects(info.context.principal, first, after)
        return to_connection(page, Project.from_model)

    @strawberry.field(
        extensions=requires_permission(Permission.VIEW_API_KEYS), description="The workspace's API keys, newest first."
    )
    async def api_keys(
        self,
        info: Info[Context, Any],
        project_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this project's keys (none for another ID).")
        ] = None,
        first: First = None,
        after: After = None,
        status: Annotated[ApiKeyStatus | None, strawberry.argument(description="Only keys in this status.")] = None,
    ) -> Connection[ApiKey]:
        principal = info.context.principal
        state = None if status is None else CredentialState[status.name]
        if project_id is None:
            page = await api_keys.list_api_keys(principal, first, after, status=state)
        elif (project_pk := pk_of(project_id, "Project")) is None:
            page = empty_page(first, after)
        else:
            page = await api_keys.list_project_api_keys(principal, project_pk, first, after, status=state)
        return to_connection(page, ApiKey.from_model)

    @strawberry.field(
        extensions=requires_role(WorkspaceRole.ADMIN), description="The workspace's management tokens, newest first."
    )
    async def management_tokens(
        self,
        info: Info[Context, Any],
        first: First = None,
        after: After = None,
        status: Annotated[
            ManagementTokenStatus | None, strawberry.argument(description="Only tokens in this status.")
        ] = None,
        stale: Annotated[
            bool | None, strawberry.argument(description="true: only tokens flagged stale; false: only the others.")
        ] = None,
    ) -> Connection[ManagementToken]:
        state = None if status is None else CredentialState[status.name]
        page = await management_tokens.list_tokens(info.context.principal, first, after, status=state, stale=stale)
        return to_connection(page, ManagementToken.from_model)

    @strawberry.field(
        extensions=requires_role(WorkspaceRole.ADMIN), description="What the stale-token sweep found, newest first."
    )
    async def stale_token_reports(
        self, info: Info[Context, Any], first: First = None, after: After = None
    ) -> Connection[StaleTokenReport]:
        page = await stale_reports.list_reports(info.context.principal, first, after)
        return to_connection(page, StaleTokenReport.from_model)

    @strawberry.field(extensions=requires_role(WorkspaceRole.ADMIN), description="The audit log, newest first.")
    async def audit_events(
        self, info: Info[Context, Any], first: First = None, after: After = None
    ) -> Connection[AuditEvent]:
        page = await audit.list_events(info.context.principal, first, after)
        return to_connection(page, AuditEvent.from_model)

    @strawberry.field(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Where the workspace's events are sent, newest first.",
    )
    async def webhook_endpoints(
        self, info: Info[Context, Any], first: First = None, after: After = None
    ) -> Connection[WebhookEndpoint]:
        page = await webhooks.list_endpoints(info.context.principal, first, after)
        return to_connection(page, WebhookEndpoint.from_model)

    @strawberry.field(
        extensions=requires_role(WorkspaceRole.MEMBER), description="The people of this workspace, oldest first."
    )
    async def members(self, info: Info[Context, Any], first: First = None, after: After = None) -> Connection[Member]:
        page = await members.list_members(info.context.principal, first, after)
        return to_connection(page, Member.from_model)

    @strawberry.field(extensions=requires_role(WorkspaceRole.ADMIN), description="Invitations, newest first.")
    async def invitations(
        self,
        info: Info[Context, Any],
        first: First = None,
        after: After = None,
        status: Annotated[
            InvitationStatusEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only invitations in this status."),
        ] = None,
    ) -> Connection[Invitation]:
        page = await invitations.list_invitations(info.context.principal, first, after, status)
        return to_connection(page, Invitation.from_model)

    @strawberry.field(description="Public: who may sign up on this server (KEYWARD_SIGNUP).")
    def sign_up_policy(self) -> SignUpPolicyEnum:  # type: ignore[valid-type]
        return signup_policy.current_policy()

    @strawberry.field(description="Public: whether signUp is admitted now (FIRST_ONLY: until an account exists).")
    async def sign_up_open(self) -> bool:
        return await signup_policy.sign_up_open()
