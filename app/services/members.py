"""The people of a workspace: list them, change a role, remove someone, leave.

ADMINs change roles and remove members; only OWNERs make, change or remove OWNERs; the last OWNER
can be neither demoted nor removed, nor leave. Every change reads the workspace's OWNER rows, the
target's and the caller's own membership under row locks (`locked_people`), in one order, so
concurrent changes take turns and each decides on what the others committed: 32 removals and
demotions of the last two OWNERs at once leave exactly one.
"""

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.models import Membership
from app.security.permissions import WorkspaceRole
from app.security.principal import Principal
from app.services import access, audit, events
from app.services.errors import NotFound, UserInputError
from app.services.pagination import Page, paginate
from app.services.row_locks import Lock, locked


async def list_members(principal: Principal, first: int | None, after: str | None) -> Page[Membership]:
    query = Membership.filter(workspace_id=principal.workspace_id).select_related("user")
    return await paginate(query, first, after, newest_first=False)


@dataclass
class LockedPeople:
    """The rows a people change decides on, as they are now that this transaction holds them."""

    caller: Membership | None
    target: Membership | None
    owners: list[Membership]

    @property
    def owner_count(self) -> int:
        return len(self.owners)


async def locked_people(principal: Principal, target_id: int | None) -> LockedPeople:
    """Lock (in id order, so concurrent changes never deadlock) the OWNER rows, the target and the caller."""
    wanted = Q(role=WorkspaceRole.OWNER) | Q(user_id=principal.user_id)
    if target_id is not None:
        wanted |= Q(id=target_id)
    rows = await locked(
        Membership.filter(workspace_id=principal.workspace_id).filter(wanted).order_by("id"), Lock.DELETE
    )
    caller = next((r for r in rows if r.user_id == principal.user_id), None)  # type: ignore[attr-defined]
    target = next((r for r in rows if r.id == target_id), None)
    owners = [r for r in rows if r.role is WorkspaceRole.OWNER]
    return LockedPeople(caller, target, owners)


def _no_longer_allowed() -> UserInputError:
    return UserInputError(
        "Your role in this workspace changed: this needs an ADMIN or OWNER.", "ROLE_NOT_ALLOWED", None
    )


def _check_caller_may_change(people: LockedPeople, target: Membership, new_role: WorkspaceRole | None) -> None:
    caller = people.caller
    if caller is None or not caller.role.at_least(WorkspaceRole.ADMIN):
        raise _no_longer_allowed()
    touches_owner = target.role is WorkspaceRole.OWNER or new_role is WorkspaceRole.OWNER
    if touches_owner and caller.role is not WorkspaceRole.OWNER:
        raise UserInputError(
            "Only an owner can make, change or remove an owner.",
            "ROLE_NOT_ALLOWED",
            ("role",) if new_role is WorkspaceRole.OWNER else ("id",),
        )


def _check_not_last_owner(people: LockedPeople, target: Membership, field: tuple[str, ...] | None) -> None:
    if target.role is WorkspaceRole.OWNER and people.owner_count <= 1:
        raise UserInputError("A workspace needs an owner: make someone else an owner first.", "LAST_OWNER", field)


async def change_role(principal: Principal, member_id: int, role: WorkspaceRole) -> Membership:
    async with in_transaction():
        people = await locked_people(principal, member_id)
        target = people.target
        if target is None:
            raise NotFound("Member")
        _check_caller_may_change(people, target, role)
        if target.role is role:
            return await Membership.get(id=target.id).select_related("user")
        if role is not WorkspaceRole.OWNER:
            _check_not_last_owner(people, target, ("role",))
        previous = target.role
        target.role = role
        await target.save(update_fields=["role"])
        if not role.at_least(previous):
            await access.access_narrowed(target.id)
        user = await target.user
        await audit.record(
            principal,
            "member.role_changed",
            "Member",
            target.id,
            details={"email": user.email, "from": previous.value, "to": role.value},
        )
        await events.member_changed(principal, target.workspace_id, user.id, user.email, role.value, "ROLE_CHANGED")  # type: ignore[attr-defined]
    return await Membership.get(id=target.id).select_related("user")


async def remove_member(principal: Principal, member_id: int) -> int:
    """Deletes the membership (its sessions end at once); the account and the workspace's tokens stay."""
    async with in_transaction():
        people = await locked_people(principal, member_id)
        target = people.target
        if target is None:
            raise NotFound("Member")
        _check_caller_may_change(people, target, None)
        _check_not_last_owner(people, target, ("id",))
        await _delete(principal, target, "member.removed", "REMOVED")
    return member_id


async def leave_workspace(principal: Principal) -> int:
    """The caller leaves the workspace of their session (which ends); the last OWNER cannot."""
    async with in_transaction():
        people = await locked_people(principal, None)
        me = people.caller
        if me is None:
            raise NotFound("Member")
        _check_not_last_owner(people, me, None)
        await _delete(principal, me, "member.left", "LEFT")
    return me.id


async def _delete(principal: Principal, membership: Membership, action: str, change: str) -> None:
    user = await membership.user
    await access.access_narrowed(membership.id)
    await membership.delete()
    await audit.record(
        principal, action, "Member", membership.id, details={"email": user.email, "role": membership.role.value}
    )
    await events.member_changed(principal, membership.workspace_id, user.id, user.email, None, change)  # type: ignore[attr-defined]
