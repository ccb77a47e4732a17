"""Every text a person types (names, descriptions, emails) is checked and normalised here, the same way.

Text is normalised to NFC, so one name has one spelling in storage. Refused, with a user error that
names the field: control characters (Unicode category Cc; descriptions may keep line breaks and
tabs), format characters (Cf: bidi overrides such as U+202E that make "prod\u202egnp.exe" display as
"prodexe.png", soft hyphens, zero-width spaces, tag characters), lone surrogates, and text made only
of characters nobody can see. The zero-width joiner and non-joiner stay allowed: emoji sequences and
several scripts need them between visible characters.
"""

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from app.security import ip_allowlist
from app.services.errors import UserInputError

NAME_MAX = 100
DESCRIPTION_MAX = 2000
EMAIL_MAX = 254

# Format characters that are part of ordinary writing.
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})  # ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER
_LINE_BREAKS = frozenset({"\n", "\r", "\t", "\u2028", "\u2029"})
# Letters and symbols that render as nothing (fillers used to fake an empty name).
_BLANK_LOOKING = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"})
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def _label(field: str) -> str:
    """`workspaceName` -> `Workspace name`: the field as a person reads it in a message."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", field).lower()
    return words[:1].upper() + words[1:]


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" ({unicodedata.name(ch)})" if unicodedata.name(ch, "") else "")


def _refused_character(text: str, *, multiline: bool) -> str | None:
    for ch in text:
        if multiline and ch in _LINE_BREAKS:
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp", "Cs") or (category == "Cf" and ch not in _ALLOWED_FORMAT):
            return ch
    return None


def _strip(text: str) -> str:
    """Spaces and line breaks around the text go; other characters are checked, not silently dropped
    (`str.strip` would also remove C1 controls such as U+0085)."""
    start, end = 0, len(text)
    while start < end and _is_surrounding_space(text[start]):
        start += 1
    while end > start and _is_surrounding_space(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_surrounding_space(ch: str) -> bool:
    return ch in "\t\n\r" or unicodedata.category(ch) == "Zs"


def _is_visible(ch: str) -> bool:
    return unicodedata.category(ch) not in _INVISIBLE_CATEGORIES and ch not in _BLANK_LOOKING


def clean_text(value: str, field: str, *, max_length: int, multiline: bool = False) -> str:
    """NFC, stripped, checked; "" when nothing is left (callers decide whether that is allowed)."""
    label = _label(field)
    text = _strip(unicodedata.normalize("NFC", value))
    refused = _refused_character(text, multiline=multiline)
    if refused is not None:
        kind = "control" if unicodedata.category(refused) in ("Cc", "Zl", "Zp", "Cs") else "invisible formatting"
        raise UserInputError(
            f"{label} cannot contain {kind} characters such as {_describe(refused)}.", "INVALID", (field,)
        )
    if text and not any(_is_visible(ch) for ch in text):
        raise UserInputError(f"{label} must contain a visible character.", "BLANK", (field,))
    if len(text) > max_length:
        raise UserInputError(f"{label} must be at most {max_length} characters.", "TOO_LONG", (field,))
    return text


def clean_name(value: str, field: str = "name", max_length: int = NAME_MAX) -> str:
    name = clean_text(value, field, max_length=max_length)
    if not name:
        raise UserInputError(f"{_label(field)} cannot be empty.", "BLANK", (field,))
    return name


def clean_description(value: str | None, field: str = "description") -> str | None:
    if value is None:
        return None
    return clean_text(value, field, max_length=DESCRIPTION_MAX, multiline=True) or None


def clean_email(value: str, field: str = "email") -> str:
    """A syntactically valid address (email-validator, no DNS), NFC, lower-cased: one account per address."""
    text = _strip(unicodedata.normalize("NFC", value))
    if len(text) > EMAIL_MAX:  # before parsing: the parser's work grows with the input
        raise UserInputError(f"Enter a valid email address: at most {EMAIL_MAX} characters.", "INVALID_EMAIL", (field,))
    try:
        parsed = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc)
        raise UserInputError(
            f"Enter a valid email address: {reason[:1].lower()}{reason[1:]}", "INVALID_EMAIL", (field,)
        ) from None
    return parsed.normalized.lower()


def clean_allowed_ips(entries: list[str] | None, field: str = "allowedIps") -> list[str]:
    """An IP allowlist as stored (app.security.ip_allowlist): normalised; [] (any address) for none."""
    if entries is None:
        return []
    try:
        return ip_allowlist.normalise(entries)
    except ip_allowlist.TooManyEntries as exc:
        raise UserInputError(f"IP allowlist: {exc}", "TOO_MANY_ENTRIES", (field,)) from None
    except ip_allowlist.InvalidEntry as exc:
        raise UserInputError(f"IP allowlist: {exc}", "INVALID_IP", (field, str(exc.index))) from None
