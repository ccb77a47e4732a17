"""Shared checks on names and free text."""

from app.services.errors import UserInputError

NAME_MAX = 100
DESCRIPTION_MAX = 2000


def clean_name(value: str, field: str = "name", max_length: int = NAME_MAX) -> str:
    name = value.strip()
    if not name:
        raise UserInputError("Name cannot be empty.", "BLANK", (field,))
    if len(name) > max_length:
        raise UserInputError(f"Name must be at most {max_length} characters.", "TOO_LONG", (field,))
    if any(ord(ch) < 32 for ch in name):
        raise UserInputError("Name cannot contain control characters.", "INVALID", (field,))
    return name


def clean_description(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    # Line breaks and tabs are fine in free text; other control characters are not (PostgreSQL
    # refuses NUL in text columns, which made such input an internal error instead of a user error).
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
        raise UserInputError("Description cannot contain control characters.", "INVALID", ("description",))
    if len(text) > DESCRIPTION_MAX:
        raise UserInputError(f"Description must be at most {DESCRIPTION_MAX} characters.", "TOO_LONG", ("description",))
    return text or None
