"""Workspace settings, and the workspaces of a caller."""

from tortoise.transactions import in_transaction

from app.models import Workspace
from app.security.principal import Principal, PrincipalKind
from app.services import audit
from app.services.errors import UserInputError
from app.services.expiry import check_lifetime_days
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
    max_token_lifetime_days: int | None = None,
    set_max_token_lifetime: bool = False,
) -> Workspace:
    """`autoRevokeStaleAfterDays: null` turns automatic revocation off; leaving it out keeps it.

    `maxTokenLifetimeDays` likewise: null lifts the limit. It applies to credentials created (or
    rotated) from now on; existing ones keep their expiry.
    """
    if (
        stale_after_days is None
        and not set_auto_revoke
        and revoke_leaked_credentials is None
        and not set_max_token_lifetime
    ):
        raise UserInputError("Nothing to update.", "NOTHING_TO_UPDATE", None)
    if set_max_token_lifetime:
        check_lifetime_days(max_token_lifetime_days)
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
        if set_max_token_lifetime:
            workspace.max_token_lifetime_days = max_token_lifetime_days
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
                "maxTokenLifetimeDays": workspace.max_token_lifetime_days,
            },
        )
    return workspace
