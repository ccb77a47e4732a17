"""What a signed-in person does with their own account: change the password, start another workspace,
switch to another of their workspaces. A session is for one membership; these hand out new ones."""

import asyncio
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.models import Membership, User, Workspace
from app.security.passwords import hash_password, verify_password
from app.security.permissions import WorkspaceRole
from app.security.principal import SYSTEM, Principal
from app.services import access, audit, login_throttle
from app.services.accounts import SignedIn, email_taken, open_session
from app.services.errors import NotFound, UserInputError
from app.services.password_policy import check_password
from app.services.validation import clean_email, clean_name


async def change_password(
    principal: Principal, current_password: str, new_password: str, ip_address: str | None
) -> SignedIn:
    """Every session of the person ends (in every workspace); the answer carries the one new session.

    The current password is checked like a log-in (same budgets), so a stolen session cannot guess it.
    """
    user = await User.get(id=principal.user_id)
    admission = await login_throttle.admit_log_in(user.email, ip_address)
    if not await asyncio.to_thread(verify_password, user.password_hash, current_password):
        raise UserInputError("The current password is incorrect.", "INVALID_CREDENTIALS", ("currentPassword",))
    await admission.succeeded()
    await asyncio.to_thread(check_password, new_password, user.email, "newPassword")
    password_hash = await asyncio.to_thread(hash_password, new_password)
    async with in_transaction():
        await User.filter(id=user.id).update(password_hash=password_hash)
        ended = await access.password_changed(user.id)
        membership = await Membership.get_or_none(workspace_id=principal.workspace_id, user_id=user.id)
        if membership is None:  # removed from the workspace meanwhile
            raise NotFound("Workspace", ("workspaceId",))
        signed_in = await open_session(membership, user, ip_address)
        await audit.record(principal, "user.password_changed", "User", user.id, details={"sessionsEnded": ended})
    return signed_in


async def switch_workspace(principal: Principal, workspace_id: int, ip_address: str | None) -> SignedIn:
    """A session for the person's membership in another workspace (the calling session stays valid)."""
    membership = await Membership.get_or_none(workspace_id=workspace_id, user_id=principal.user_id)
    if membership is None:
        raise NotFound("Workspace", ("workspaceId",))
    user = await User.get(id=principal.user_id)
    return await open_session(membership, user, ip_address, opened_by=principal)


async def create_workspace(principal: Principal, name: str, ip_address: str | None) -> SignedIn:
    """A new workspace with the caller as its OWNER, and a session in it."""
    clean = clean_name(name)
    user = await User.get(id=principal.user_id)
    async with in_transaction():
        workspace = await Workspace.create(name=clean)
        membership = await Membership.create(workspace=workspace, user=user, role=WorkspaceRole.OWNER)
        signed_in = await open_session(membership, user, ip_address, opened_by=principal)
        await audit.record(signed_in.principal, "workspace.created", "Workspace", workspace.id)
    return signed_in


@dataclass
class CreatedOwner:
    user: User
    workspace: Workspace


async def create_owner(email: str, workspace_name: str, password: str) -> CreatedOwner:
    """`keyward create-owner`: an account and a workspace it owns, under every sign-up policy (the operator's
    way to make the first owner, or any other, without the API). The same checks as sign-up."""
    clean_email_ = clean_email(email)
    name = clean_name(workspace_name, "workspace")
    await asyncio.to_thread(check_password, password, clean_email_)
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with in_transaction():
            user = await User.create(email=clean_email_, password_hash=password_hash)
            workspace = await Workspace.create(name=name)
            await Membership.create(workspace=workspace, user=user, role=WorkspaceRole.OWNER)
            await audit.record(
                SYSTEM, "owner.created", "User", user.id, workspace_id=workspace.id, details={"email": user.email}
            )
    except IntegrityError as exc:
        raise email_taken() from exc
    return CreatedOwner(user, workspace)
