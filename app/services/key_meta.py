"""An API key's `meta`: a JSON object data-plane services read back from verify (plan, owner, limits).

Stored as canonical JSON text (keys sorted, no spaces) so verify splices it into its answer as is,
without parsing it per request; at most `MAX_BYTES` of that text.
"""

from typing import Any

import orjson

from app.services.errors import UserInputError

MAX_BYTES = 4096


def canonical_meta(value: Any, field: str = "meta") -> str | None:
    """The stored text of `value` (None stays None); a user error unless it is an object of at most 4 KB."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise UserInputError(f'{field} must be a JSON object, such as {{"plan": "pro"}}.', "INVALID_META", (field,))
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise UserInputError(f"{field} cannot be stored as JSON: {exc}.", "INVALID_META", (field,)) from None
    if len(encoded) > MAX_BYTES:
        raise UserInputError(
            f"{field} must be at most {MAX_BYTES} bytes as JSON; it is {len(encoded)}.", "META_TOO_LARGE", (field,)
        )
    return encoded.decode()


def parsed_meta(stored: str | None) -> dict[str, Any] | None:
    return orjson.loads(stored) if stored is not None else None
