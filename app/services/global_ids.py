"""Relay global IDs as plain strings, for what services hand out beyond GraphQL (webhook bodies).

`app.graphql.ids` builds the schema's IDs from the same function, so both always agree.
"""

from binascii import b2a_base64


def global_id(type_name: str, pk: int) -> str:
    """base64 of ``"<TypeName>:<primary key>"`` (binascii directly: every node of a page makes one)."""
    return b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode()


def stored_ref_to_global_id(ref: str | None) -> str | None:
    """Records keep references as ``"Type:pk"``; clients see global IDs."""
    if not ref:
        return None
    type_name, _, pk = ref.partition(":")
    return global_id(type_name, int(pk)) if pk.isdigit() else None
