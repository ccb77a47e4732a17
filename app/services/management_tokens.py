"""Management tokens: create (shown once), list, revoke (final), rotate (linked both ways, with grace)."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.credentials.epoch import bump_revocation_epoch
from app.models import ManagementToken, Project, Workspace
from app.security import ip_allowlist, tokens
from app.security.permissions import Permission, decode_permissions, encode_permissions
from app.security.principal import Principal
from app.security.project_scope import decode_scope, encode_scope
from app.security.tokens import TokenKind
from app.services import audit, events
from app.services.actors import actor_of
from app.services.credential_state import (
    REVOKED,
    CredentialKind,
    CredentialState,
    in_state_q,
    revocation,
    state_of,
)
from app.services.errors import NotFound, UserInputError
from app.services.expiry import grace_expiry, new_expiry, replacement_expiry
from app.services.pagination import Page, paginate
from app.services.row_locks import Lock, locked
from app.services.validation import clean_allowed_ips, clean_name

MANAGEMENT_TOKEN = CredentialKind.MANAGEMENT_TOKEN


@dataclass
class CreatedToken:
    token: ManagementToken
    secret: str


def _duplicate_name(name: str) -> UserInputError:
    return UserInputError(
        f"An active management token named {name!r} already exists in this workspace.", "DUPLICATE_NAME", ("name",)
    )


async def get_token(principal: Principal, token_id: int, *, lock: Lock | None = None) -> ManagementToken:
    """The caller's token; with `lock`, read inside the caller's transaction to act on it (row_locks)."""
    token = await locked(ManagementToken.filter(id=token_id, workspace_id=principal.workspace_id), lock).first()
    if token is None:
        raise NotFound("Management token")
    return token


async def tokens_by_id(principal: Principal, ids: list[int]) -> dict[int, ManagementToken]:
    """The caller's tokens among `ids` (for batched loads)."""
    return {row.id: row for row in await ManagementToken.filter(id__in=ids, workspace_id=principal.workspace_id)}


async def replacements_by_replaced_id(principal: Principal, ids: list[int]) -> dict[int, ManagementToken]:
    """Replaced token id -> the caller's token that replaced it, among `ids` (for batched loads)."""
    rows = await ManagementToken.filter(replaces_id__in=ids, workspace_id=principal.workspace_id)
    return {row.replaces_id: row for row in rows}  # type: ignore[attr-defined]


async def list_tokens(
    principal: Principal,
    first: int | None,
    after: str | None,
    *,
    status: CredentialState | None,
    stale: bool | None,
) -> Page[ManagementToken]:
    query = ManagementToken.filter(workspace_id=principal.workspace_id)
    if status is not None:
        query = query.filter(in_state_q(MANAGEMENT_TOKEN, status, utcnow()))
    if stale is not None:
        query = query.filter(stale_since__isnull=not stale)
    return await paginate(query, first, after, newest_first=True)


async def release_expired_name(workspace_id: int | None, name: str, now: datetime) -> None:
    """Free `name` if an expired token still holds it (call it in the transaction that takes the name).

    A token expires by time passing, with no write at that moment, so its `active_name` stays set.
    Rather than a job that clears it some time later (a window in which the name is wrongly taken),
    the name is released when someone wants it, in the same transaction as the insert or rename
    that takes it: exact at any time, and no work for tokens whose name nobody wants again.
    """
    await ManagementToken.filter(workspace_id=workspace_id, active_name=name, expires_at__lte=now).update(
        active_name=None
    )


async def max_lifetime_days(workspace_id: int | None) -> int | None:
    """The workspace's `maxTokenLifetimeDays` (null: no limit)."""
    days = await Workspace.filter(id=workspace_id).values_list("max_token_lifetime_days", flat=True)
    return days[0] if days else None  # type: ignore[return-value]


async def _insert(
    principal: Principal,
    name: str,
    permissions: frozenset[Permission],
    replaces: ManagementToken | None,
    *,
    allowed_ips: str | None,
    expires_at: datetime | None,
    project_ids: str | None,
) -> CreatedToken:
    actor = actor_of(principal)
    secret = tokens.generate(TokenKind.MANAGEMENT)
    try:
        async with in_transaction():
            await release_expired_name(principal.workspace_id, name, utcnow())
            token = await ManagementToken.create(
                workspace_id=principal.workspace_id,
                name=name,
                active_name=name,
                key_prefix=secret.display_prefix,
                token_hash=secret.digest,
                permissions=encode_permissions(permissions),
                allowed_ips=allowed_ips,
                expires_at=expires_at,
                project_ids=project_ids,
                replaces=replaces,
                created_by_kind=actor.kind,
                created_by_id=actor.id,
                created_by_label=actor.label,
            )
    except IntegrityError as exc:
        raise _duplicate_name(name) from exc
    return CreatedToken(token, secret.value)


MAX_PROJECTS = 1000


async def _checked_scope(principal: Principal, project_ids: list[int] | None) -> frozenset[int] | None:
    """The projects a new token is limited to, each one of the workspace's; None: every project."""
    if project_ids is None:
        return None
    if not project_ids:
        raise UserInputError(
            "Choose at least one project, or leave projectIds out for every project.", "NO_PROJECTS", ("projectIds",)
        )
    if len(project_ids) > MAX_PROJECTS:
        raise UserInputError(
            f"A token is limited to at most {MAX_PROJECTS} projects (got {len(project_ids)}).",
            "TOO_MANY_ENTRIES",
            ("projectIds",),
        )
    # Locked against a concurrent deleteProject: it waits for this token and then takes its id out of the scope.
    projects = Project.filter(id__in=project_ids, workspace_id=principal.workspace_id)
    found = {project.id for project in await locked(projects, Lock.CHANGE)}
    for index, project_id in enumerate(project_ids):
        if project_id not in found:
            raise NotFound("Project", ("projectIds", str(index)))
    return frozenset(project_ids)


async def create_token(
    principal: Principal,
    name: str,
    permissions: list[Permission],
    *,
    allowed_ips: list[str] | None = None,
    expires_at: datetime | None = None,
    project_ids: list[int] | None = None,
) -> CreatedToken:
    clean = clean_name(name)
    if not permissions:
        raise UserInputError("Choose at least one permission.", "NO_PERMISSIONS", ("permissions",))
    granted = frozenset(permissions)
    allowlist = clean_allowed_ips(allowed_ips)
    async with in_transaction():
        expiry = new_expiry(expires_at, await max_lifetime_days(principal.workspace_id), utcnow())
        scope = await _checked_scope(principal, project_ids)
        created = await _insert(
            principal,
            clean,
            granted,
            None,
            allowed_ips=ip_allowlist.encode(allowlist),
            expires_at=expiry,
            project_ids=encode_scope(scope),
        )
        await audit.record(
            principal, "management_token.created", "ManagementToken", created.token.id, details=_created(created.token)
        )
        await events.management_token_created(principal, created.token)
    return created


def _created(token: ManagementToken) -> dict[str, object]:
    """A new token as its `management_token.created` entry describes it: what it may do, read from its row, so
    that a replacement's entry (which inherits them) lists its grants as a created token's does."""
    scope = decode_scope(token.project_ids)
    return {
        "name": token.name,
        "keyPrefix": token.key_prefix,
        "permissions": sorted(p.value for p in decode_permissions(token.permissions)),
        "allowedIps": ip_allowlist.entries_of(token.allowed_ips),
        "expiresAt": _time(token.expires_at),
        "projectIds": None if scope is None else [f"Project:{pk}" for pk in sorted(scope)],
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def revoke_token(principal: Principal, token_id: int) -> ManagementToken:
    async with in_transaction():
        token = await get_token(principal, token_id, lock=Lock.CHANGE)
        now = utcnow()
        # Conditional UPDATE: of two concurrent revokes exactly one changes the row.
        changed = await ManagementToken.filter(REVOKED.passes_q(now), id=token.id).update(**revocation(now))
        if not changed:
            raise UserInputError("This management token is already revoked.", "ALREADY_REVOKED", ("id",))
        await audit.record(
            principal,
            "management_token.revoked",
            "ManagementToken",
            token.id,
            details={"name": token.name, "keyPrefix": token.key_prefix},
        )
        token.update_from_dict(revocation(now))
        await events.management_token_revoked(principal, token)
    await bump_revocation_epoch()
    return token


async def _lock_scope_of(principal: Principal, token_id: int) -> None:
    """Lock the projects of a token's scope before the token, in deleteProject's order (the project, then
    the scopes naming it), so the replacement's copy of the scope and a deletion go one after the other.

    A deletion under way finishes first, and has taken its project out of the token by the time it is read;
    one that starts later waits for the replacement, then sees it and takes its project out of it too.
    Without this, a deletion could read the scopes before the replacement was committed and leave the
    project in it. The scope is read unlocked: it can only lose projects before the token is locked.
    """
    stored = await ManagementToken.filter(id=token_id, workspace_id=principal.workspace_id).values_list(
        "project_ids", flat=True
    )
    scope = decode_scope(stored[0]) if stored else None  # type: ignore[arg-type]
    if scope:
        projects = Project.filter(id__in=sorted(scope), workspace_id=principal.workspace_id).order_by("id")
        await locked(projects, Lock.CHANGE)


async def rotate_token(
    principal: Principal, token_id: int, name: str | None, old_expires_at: datetime | None = None
) -> CreatedToken:
    """A replacement with the same permissions, allowlist and project scope.

    With `old_expires_at` the old token stops working then (now, or within 30 days: the grace its
    users have to switch); without it, it stays valid until it is revoked or expires.
    """
    new_name = clean_name(name) if name is not None else None
    async with in_transaction():
        await _lock_scope_of(principal, token_id)
        # Locked: a concurrent revoke or rotation of the same token has finished before this reads it.
        old = await get_token(principal, token_id, lock=Lock.CHANGE)
        now = utcnow()
        state = state_of(MANAGEMENT_TOKEN, old, now)
        if state is not CredentialState.ACTIVE:
            raise UserInputError(f"A {state.value.lower()} management token cannot be rotated.", state.value, ("id",))
        # Releasing the name first lets the replacement take it; the conditional UPDATE also
        # makes a second rotation of the same token fail instead of forking the chain.
        released = await ManagementToken.filter(id=old.id, active_name__isnull=False).update(active_name=None)
        if not released or await ManagementToken.exists(replaces_id=old.id):
            raise UserInputError(
                "This management token has already been rotated: rotate its replacement.", "ALREADY_ROTATED", ("id",)
            )
        expiry = replacement_expiry(
            old.created_at, old.expires_at, await max_lifetime_days(principal.workspace_id), now
        )
        if old_expires_at is not None:
            old.expires_at = grace_expiry(old_expires_at, old.expires_at, now, "oldTokenExpiresAt")
            await ManagementToken.filter(id=old.id).update(expires_at=old.expires_at)
        created = await _insert(
            principal,
            new_name or old.name,
            decode_permissions(old.permissions),
            old,
            allowed_ips=old.allowed_ips,
            expires_at=expiry,
            project_ids=old.project_ids,
        )
        await audit.record(
            principal,
            "management_token.rotated",
            "ManagementToken",
            old.id,
            details={
                "replacementId": f"ManagementToken:{created.token.id}",
                "keyPrefix": created.token.key_prefix,
                "oldTokenExpiresAt": _time(old.expires_at),
            },
        )
        await audit.record(
            principal,
            "management_token.created",
            "ManagementToken",
            created.token.id,
            details={**_created(created.token), "replaces": f"ManagementToken:{old.id}"},
        )
        await events.management_token_rotated(principal, old, created.token)
        await events.management_token_created(principal, created.token)
    # The old token may stay valid for now, but a rotation may narrow it (an expiry): processes check it anew.
    await bump_revocation_epoch()
    return created
