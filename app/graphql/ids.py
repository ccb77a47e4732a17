"""Relay global IDs: base64 of ``"<TypeName>:<primary key>"``; opaque to clients."""

import base64
import binascii

import strawberry

from app.services import global_ids
from app.services.errors import NotFound


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(global_ids.global_id(type_name, pk))


def from_global_id(value: str) -> tuple[str, int] | None:
    """(type name, pk), or None for anything that is not one of our IDs."""
    try:
        raw = base64.b64decode(value.encode(), validate=True).decode()
        type_name, _, pk = raw.partition(":")
        number = int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not type_name or number <= 0 or number >= 2**63:
        return None
    return type_name, number


def pk_of(value: str, type_name: str) -> int | None:
    """The primary key if `value` is an ID of `type_name`; None otherwise (callers answer "not found")."""
    parsed = from_global_id(value)
    if parsed is None or parsed[0] != type_name:
        return None
    return parsed[1]


def require_pk(value: str, type_name: str, what: str, field: tuple[str, ...] = ("id",)) -> int:
    """The primary key of an ID of `type_name`; anything else is refused here as `what` not found."""
    pk = pk_of(value, type_name)
    if pk is None:
        raise NotFound(what, field)
    return pk


def stored_ref_to_global_id(ref: str | None) -> strawberry.ID | None:
    """Records keep references as ``"Type:pk"``; clients see global IDs."""
    value = global_ids.stored_ref_to_global_id(ref)
    return None if value is None else strawberry.ID(value)
