"""People: invitations, roles, removal, leaving, passwords, and a person's several workspaces."""

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_role
from app.graphql.enums import WorkspaceRoleEnum
from app.graphql.ids import require_pk, to_global_id
from app.graphql.mutations.auth import AuthPayload, caller_ip, signed_in_payload
from app.graphql.mutations.projects import DeleteInput, DeletePayload
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError, user_errors
from app.graphql.types.people import Invitation, Member
from app.security.permissions import WorkspaceRole
from app.services import account, invitations, members


@strawberry.input(description="Who to invite, and with which role.")
class InviteMemberInput:
    email: str = strawberry.field(description="The person's email; they accept with this account or make it.")
    role: WorkspaceRoleEnum = strawberry.field(description="The role on accepting (OWNER only by an OWNER).")  # type: ignore[valid-type]


@strawberry.type(description="The invitation, and its link when it was not mailed.")
class InvitePayload:
    invitation: Invitation | None = strawberry.field(default=None, description="The invitation; null when refused.")
    invite_token: str | None = strawberry.field(
        default=None,
        description="The kwi_ token, shown here once; null when the invitation was mailed (KEYWARD_SMTP_URL).",
    )
    invite_url: str | None = strawberry.field(
        default=None, description="The console link that accepts the invitation, shown once; null when mailed."
    )
    user_errors: list[UserError] = user_errors()


@strawberry.input(description="An invitation token, and a password when no session of the invited account calls.")
class AcceptInvitationInput:
    invite_token: str = strawberry.field(description="The kwi_ token from the invitation link.")
    password: str | None = strawberry.field(
        default=None,
        description="A new account's password; for an existing account, its password (unless its session calls).",
    )


@strawberry.input(description="A member and their new role.")
class ChangeMemberRoleInput:
    id: strawberry.ID = strawberry.field(description="The Member.")
    role: WorkspaceRoleEnum = strawberry.field(description="The new role.")  # type: ignore[valid-type]


@strawberry.type(description="The member after the change.")
class MemberPayload:
    member: Member | None = strawberry.field(default=None, description="The member; null when refused.")
    user_errors: list[UserError] = user_errors()


@strawberry.input(description="The current password and the new one.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password the account has now.")
    new_password: str = strawberry.field(description="At least 10 characters, not easy to guess.")


@strawberry.input(description="A new workspace.")
class CreateWorkspaceInput:
    name: str = strawberry.field(description="The workspace's name.")


@strawberry.input(description="One of the person's workspaces.")
class SwitchWorkspaceInput:
    workspace_id: strawberry.ID = strawberry.field(description="The Workspace (one of viewer.workspaces).")


def _member(row: Any) -> dict[str, Any]:
    return {"member": Member.from_model(row)}


def _invitation(row: Any) -> dict[str, Any]:
    return {"invitation": Invitation.from_model(row)}


def _invited(invited: invitations.Invited) -> dict[str, Any]:
    return {
        "invitation": Invitation.from_model(invited.invitation),
        "invite_token": invited.token,
        "invite_url": invited.url,
    }


def _deleted_member(pk: int) -> dict[str, Any]:
    return {"deleted_id": to_global_id("Member", pk)}


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Invites an email with a role (OWNER only by an OWNER). A pending invitation for the same "
        "email is revoked: the new link replaces it.",
    )
    async def invite_member(
        self,
        info: Info[Context, Any],
        input: Annotated[InviteMemberInput, strawberry.argument(description="The email and the role.")],
    ) -> InvitePayload:
        base_url = str(info.context.request.base_url)
        return await run_mutation(
            InvitePayload,
            lambda: invitations.invite(info.context.principal, input.email, input.role, base_url),
            _invited,
        )

    @strawberry.mutation(extensions=requires_role(WorkspaceRole.ADMIN), description="Ends a pending invitation.")
    async def revoke_invitation(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The Invitation.")],
    ) -> InvitePayload:
        async def call() -> Any:
            return await invitations.revoke(info.context.principal, require_pk(input.id, "Invitation", "Invitation"))

        return await run_mutation(InvitePayload, call, _invitation)

    @strawberry.mutation(
        description="Public: joins the invitation's workspace and logs in to it. A new person sets a password; "
        "an existing account calls with its session or gives its password."
    )
    async def accept_invitation(
        self,
        info: Info[Context, Any],
        input: Annotated[AcceptInvitationInput, strawberry.argument(description="The token, and a password.")],
    ) -> AuthPayload:
        return await run_mutation(
            AuthPayload,
            lambda: invitations.accept(info.context.principal, input.invite_token, input.password, caller_ip(info)),
            signed_in_payload,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Only an OWNER makes or changes an OWNER; the last OWNER cannot be demoted. A demoted "
        "person's sessions in this workspace end.",
    )
    async def change_member_role(
        self,
        info: Info[Context, Any],
        input: Annotated[ChangeMemberRoleInput, strawberry.argument(description="The member and the role.")],
    ) -> MemberPayload:
        async def call() -> Any:
            return await members.change_role(
                info.context.principal, require_pk(input.id, "Member", "Member"), input.role
            )

        return await run_mutation(MemberPayload, call, _member)

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Removes a member (only an OWNER removes an OWNER; never the last one). Their sessions in "
        "this workspace end at once; the workspace's management tokens keep working.",
    )
    async def remove_member(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The Member.")],
    ) -> DeletePayload:
        async def call() -> int:
            return await members.remove_member(info.context.principal, require_pk(input.id, "Member", "Member"))

        return await run_mutation(DeletePayload, call, _deleted_member)

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.MEMBER),
        description="Leaves the workspace of this session (which ends). The last OWNER cannot leave.",
    )
    async def leave_workspace(self, info: Info[Context, Any]) -> DeletePayload:
        return await run_mutation(
            DeletePayload, lambda: members.leave_workspace(info.context.principal), _deleted_member
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.MEMBER),
        description="Every session of the person ends, in every workspace; the answer carries the new one.",
    )
    async def change_password(
        self,
        info: Info[Context, Any],
        input: Annotated[ChangePasswordInput, strawberry.argument(description="The current and new password.")],
    ) -> AuthPayload:
        return await run_mutation(
            AuthPayload,
            lambda: account.change_password(
                info.context.principal, input.current_password, input.new_password, caller_ip(info)
            ),
            signed_in_payload,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.MEMBER),
        description="Starts another workspace with the caller as its OWNER; the answer is a session in it.",
    )
    async def create_workspace(
        self,
        info: Info[Context, Any],
        input: Annotated[CreateWorkspaceInput, strawberry.argument(description="The new workspace.")],
    ) -> AuthPayload:
        return await run_mutation(
            AuthPayload,
            lambda: account.create_workspace(info.context.principal, input.name, caller_ip(info)),
            signed_in_payload,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.MEMBER),
        description="A session for another workspace the person belongs to (see viewer.workspaces).",
    )
    async def switch_workspace(
        self,
        info: Info[Context, Any],
        input: Annotated[SwitchWorkspaceInput, strawberry.argument(description="The workspace.")],
    ) -> AuthPayload:
        async def call() -> Any:
            workspace_pk = require_pk(input.workspace_id, "Workspace", "Workspace", ("workspaceId",))
            return await account.switch_workspace(info.context.principal, workspace_pk, caller_ip(info))

        return await run_mutation(AuthPayload, call, signed_in_payload)
