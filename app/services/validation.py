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
    if len(text) > DESCRIPTION_MAX:
        raise UserInputError(
            f"Description must be at most {DESCRIPTION_MAX} characters.", "TOO_LONG", ("description",)
        )
    return text or None
