"""Workspace settings, and the workspaces of a caller."""

from tortoise.transactions import in_transaction

from app.models import Workspace
from app.security.principal import Principal, PrincipalKind
from app.services import audit
from app.services.errors import UserInputError
from app.services.row_locks import Lock, locked

MAX_STALE_DAYS = 3650


async def workspaces_of(principal: Principal) -> list[Workspace]:
    """Every workspace a signed-in person belongs to, oldest first; a management token's own."""
    if principal.kind is PrincipalKind.USER:
        return await Workspace.filter(memberships__user_id=principal.user_id).order_by("id")
    return await Workspace.filter(id=principal.workspace_id)


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
