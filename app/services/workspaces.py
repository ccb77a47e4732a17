"""Workspace settings and membership."""

import asyncio

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.models import Membership, User, Workspace
from app.security.passwords import hash_password
from app.security.permissions import WorkspaceRole
from app.security.principal import Principal
from app.services import audit, events, login_throttle
from app.services.accounts import email_taken
from app.services.errors import UserInputError
from app.services.password_policy import check_password
from app.services.row_locks import Lock, locked
from app.services.validation import clean_email

MAX_STALE_DAYS = 3650


async def get_workspace(principal: Principal) -> Workspace:
    return await Workspace.get(id=principal.workspace_id)


async def update_settings(
    principal: Principal,
    stale_after_days: int | None,
    auto_revoke_stale_after_days: int | None,
    *,
    set_auto_revoke: bool,
    revoke_leaked_credentials: bool | None = None,
) -> Workspace:
    """`autoRevokeStaleAfterDays: null` turns automatic revocation off; leaving it out keeps it."""
    if stale_after_days is None and not set_auto_revoke and revoke_leaked_credentials is None:
        raise UserInputError("Nothing to update.", "NOTHING_TO_UPDATE", None)
    if stale_after_days is not None and not 1 <= stale_after_days <= MAX_STALE_DAYS:
        raise UserInputError(
            f"staleAfterDays must be between 1 and {MAX_STALE_DAYS}.", "OUT_OF_RANGE", ("staleAfterDays",)
        )
    async with in_transaction():
        workspace = await locked(Workspace.filter(id=principal.workspace_id), Lock.CHANGE).get()
        if stale_after_days is not None:
            workspace.stale_after_days = stale_after_days
        if set_auto_revoke:
            workspace.auto_revoke_stale_after_days = auto_revoke_stale_after_days
        if revoke_leaked_credentials is not None:
            workspace.revoke_leaked_credentials = revoke_leaked_credentials
        revoke_after = workspace.auto_revoke_stale_after_days
        if revoke_after is not None and not workspace.stale_after_days <= revoke_after <= MAX_STALE_DAYS:
            raise UserInputError(
                f"autoRevokeStaleAfterDays must be between staleAfterDays ({workspace.stale_after_days}) "
                f"and {MAX_STALE_DAYS}, or null to turn it off.",
                "OUT_OF_RANGE",
                ("autoRevokeStaleAfterDays",),
            )
        await workspace.save()
        await audit.record(
            principal,
            "workspace.settings_updated",
            "Workspace",
            workspace.id,
            details={
                "staleAfterDays": workspace.stale_after_days,
                "autoRevokeStaleAfterDays": workspace.auto_revoke_stale_after_days,
                "revokeLeakedCredentials": workspace.revoke_leaked_credentials,
            },
        )
    return workspace


async def add_member(principal: Principal, email: str, password: str, role: WorkspaceRole) -> Membership:
    """Create a person's account inside the caller's workspace with an initial password.

    Only an OWNER may add another OWNER.
    """
    if role is WorkspaceRole.OWNER and principal.role is not WorkspaceRole.OWNER:
        raise UserInputError("Only an owner can add another owner.", "ROLE_NOT_ALLOWED", ("role",))
    clean = clean_email(email)
    await asyncio.to_thread(check_password, password, clean)
    admission = await login_throttle.admit_sign_up(principal.ip_address)
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with in_transaction():
            user = await User.create(email=clean, password_hash=password_hash)
            membership = await Membership.create(workspace_id=principal.workspace_id, user=user, role=role)
            await audit.record(principal, "member.added", "User", user.id, details={"role": role.value})
            await events.member_changed(principal, principal.workspace_id, user.id, user.email, role.value, "ADDED")
    except IntegrityError as exc:
        raise email_taken() from exc
    await admission.succeeded()
    return membership
