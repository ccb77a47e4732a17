"""`updateManagementToken`: rename, change permissions, change the allowlist, shorten the expiry.

Only an expiry that comes sooner is accepted: extending or removing one would keep a credential alive
past what was decided when it was made (rotate for a new lifetime instead). Every change is audited with
its values before and after, sent as a MANAGEMENT_TOKEN_UPDATED event in the same transaction, and
seen by every process on its next request (the revocation epoch moves: a cached token carries its
name, permissions and allowlist).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.credentials.epoch import bump_revocation_epoch
from app.models import ManagementToken
from app.security import ip_allowlist
from app.security.permissions import PERMISSION_ORDER, Permission, decode_permissions, encode_permissions
from app.security.principal import Principal
from app.services import audit, events
from app.services.credential_state import CredentialKind, CredentialState, state_of
from app.services.errors import UserInputError
from app.services.expiry import requested_expiry
from app.services.management_tokens import get_token, release_expired_name
from app.services.row_locks import Lock
from app.services.validation import clean_allowed_ips, clean_name


@dataclass(frozen=True)
class TokenChanges:
    """What the caller asked to change; None: leave it as it is (`remove_expiry`: expiresAt given as null)."""

    name: str | None = None
    permissions: list[Permission] | None = None
    allowed_ips: list[str] | None = None
    expires_at: datetime | None = None
    remove_expiry: bool = False

    def is_empty(self) -> bool:
        return (
            self.name is None
            and self.permissions is None
            and self.allowed_ips is None
            and self.expires_at is None
            and not self.remove_expiry
        )


def _permission_names(stored: str) -> list[str]:
    granted = decode_permissions(stored)
    return [p.value for p in PERMISSION_ORDER if p in granted]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _new_values(token: ManagementToken, changes: TokenChanges, now: datetime) -> dict[str, Any]:
    """The columns that change, checked; raises UserInputError naming the field at fault."""
    columns: dict[str, Any] = {}
    if changes.name is not None:
        columns["name"] = clean_name(changes.name)
    if changes.permissions is not None:
        if not changes.permissions:
            raise UserInputError("Choose at least one permission.", "NO_PERMISSIONS", ("permissions",))
        columns["permissions"] = encode_permissions(frozenset(changes.permissions))
    if changes.allowed_ips is not None:
        columns["allowed_ips"] = ip_allowlist.encode(clean_allowed_ips(changes.allowed_ips))
    if changes.remove_expiry and token.expires_at is not None:
        raise UserInputError(
            "An expiry can only be brought forward, never removed: rotate the token for one that does not expire.",
            "EXPIRY_NOT_SHORTENED",
            ("expiresAt",),
        )
    if changes.expires_at is not None:
        expires_at = requested_expiry(changes.expires_at, now)
        if token.expires_at is not None and expires_at > token.expires_at:
            raise UserInputError(
                f"An expiry can only be brought forward (now {token.expires_at.isoformat()}), never extended: "
                "rotate the token for a longer lifetime.",
                "EXPIRY_NOT_SHORTENED",
                ("expiresAt",),
            )
        columns["expires_at"] = expires_at
    return {column: value for column, value in columns.items() if value != getattr(token, column)}


def _shown(column: str, value: Any) -> Any:
    """A column's value as the audit log and the API show it."""
    if column == "permissions":
        return _permission_names(value)
    if column == "allowed_ips":
        return ip_allowlist.entries_of(value)
    if column == "expires_at":
        return _time(value)
    return value


_FIELDS = {"name": "name", "permissions": "permissions", "allowed_ips": "allowedIps", "expires_at": "expiresAt"}


async def update_token(principal: Principal, token_id: int, changes: TokenChanges) -> ManagementToken:
    if changes.is_empty():
        raise UserInputError(
            "Nothing to update: give a name, permissions, an allowlist or an earlier expiry.", "NOTHING_TO_UPDATE"
        )
    try:
        async with in_transaction():
            token = await get_token(principal, token_id, lock=Lock.CHANGE)
            now = utcnow()
            state = state_of(CredentialKind.MANAGEMENT_TOKEN, token, now)
            if state is not CredentialState.ACTIVE:
                raise UserInputError(
                    f"A {state.value.lower()} management token cannot be updated.", state.value, ("id",)
                )
            columns = _new_values(token, changes, now)
            if not columns:
                return token
            if "name" in columns and token.active_name is not None:
                columns["active_name"] = columns["name"]  # a replaced token keeps no active name
                await release_expired_name(principal.workspace_id, columns["name"], now)
            before = {_FIELDS[c]: _shown(c, getattr(token, c)) for c in columns if c in _FIELDS}
            await ManagementToken.filter(id=token.id).update(**columns)
            token.update_from_dict(columns)
            after = {_FIELDS[c]: _shown(c, getattr(token, c)) for c in columns if c in _FIELDS}
            await audit.record(
                principal,
                audit.AuditAction.MANAGEMENT_TOKEN_UPDATED,
                "ManagementToken",
                token.id,
                details={"name": token.name, "keyPrefix": token.key_prefix, "before": before, "after": after},
            )
            await events.management_token_updated(principal, token, sorted(before))
    except IntegrityError as exc:
        raise UserInputError(
            f"An active management token named {clean_name(changes.name or '-')!r} already exists in this workspace.",
            "DUPLICATE_NAME",
            ("name",),
        ) from exc
    await bump_revocation_epoch()
    return token
