"""Management tokens: create (shown once), list, revoke (final), rotate (linked both ways)."""

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.credentials.epoch import bump_revocation_epoch
from app.models import ManagementToken
from app.security import ip_allowlist, tokens
from app.security.permissions import Permission, decode_permissions, encode_permissions
from app.security.principal import Principal
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


async def _insert(
    principal: Principal,
    name: str,
    permissions: frozenset[Permission],
    replaces: ManagementToken | None,
    *,
    allowed_ips: str | None,
) -> CreatedToken:
    actor = actor_of(principal)
    secret = tokens.generate(TokenKind.MANAGEMENT)
    try:
        async with in_transaction():
            token = await ManagementToken.create(
                workspace_id=principal.workspace_id,
                name=name,
                active_name=name,
                key_prefix=secret.display_prefix,
                token_hash=secret.digest,
                permissions=encode_permissions(permissions),
                allowed_ips=allowed_ips,
                replaces=replaces,
                created_by_kind=actor.kind,
                created_by_id=actor.id,
                created_by_label=actor.label,
            )
    except IntegrityError as exc:
        raise _duplicate_name(name) from exc
    return CreatedToken(token, secret.value)


async def create_token(
    principal: Principal, name: str, permissions: list[Permission], *, allowed_ips: list[str] | None = None
) -> CreatedToken:
    clean = clean_name(name)
    if not permissions:
        raise UserInputError("Choose at least one permission.", "NO_PERMISSIONS", ("permissions",))
    granted = frozenset(permissions)
    allowlist = clean_allowed_ips(allowed_ips)
    async with in_transaction():
        created = await _insert(principal, clean, granted, None, allowed_ips=ip_allowlist.encode(allowlist))
        await audit.record(
            principal,
            "management_token.created",
            "ManagementToken",
            created.token.id,
            details={
                "name": clean,
                "keyPrefix": created.token.key_prefix,
                "permissions": sorted(p.value for p in granted),
                "allowedIps": allowlist,
            },
        )
        await events.management_token_created(principal, created.token)
    return created


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


async def rotate_token(principal: Principal, token_id: int, name: str | None) -> CreatedToken:
    """A replacement with the same permissions; the old token stays valid until it is revoked."""
    new_name = clean_name(name) if name is not None else None
    async with in_transaction():
        # Locked: a concurrent revoke or rotation of the same token has finished before this reads it.
        old = await get_token(principal, token_id, lock=Lock.CHANGE)
        state = state_of(MANAGEMENT_TOKEN, old, utcnow())
        if state is not CredentialState.ACTIVE:
            raise UserInputError(f"A {state.value.lower()} management token cannot be rotated.", state.value, ("id",))
        # Releasing the name first lets the replacement take it; the conditional UPDATE also
        # makes a second rotation of the same token fail instead of forking the chain.
        released = await ManagementToken.filter(id=old.id, active_name__isnull=False).update(active_name=None)
        if not released or await ManagementToken.exists(replaces_id=old.id):
            raise UserInputError(
                "This management token has already been rotated: rotate its replacement.", "ALREADY_ROTATED", ("id",)
            )
        created = await _insert(
            principal, new_name or old.name, decode_permissions(old.permissions), old, allowed_ips=old.allowed_ips
        )
        await audit.record(
            principal,
            "management_token.rotated",
            "ManagementToken",
            old.id,
            details={"replacementId": f"ManagementToken:{created.token.id}", "keyPrefix": created.token.key_prefix},
        )
        await audit.record(
            principal,
            "management_token.created",
            "ManagementToken",
            created.token.id,
            details={
                "name": created.token.name,
                "keyPrefix": created.token.key_prefix,
                "replaces": f"ManagementToken:{old.id}",
            },
        )
        await events.management_token_rotated(principal, old, created.token)
        await events.management_token_created(principal, created.token)
    # The old token stays valid for now, but a rotation may narrow it (an expiry): processes check it anew.
    await bump_revocation_epoch()
    return created
