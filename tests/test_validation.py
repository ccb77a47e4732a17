"""The rules for text people type (no server): NFC, trimmed, no control or invisible characters, length limits."""

import unicodedata

import pytest

from app.services.errors import UserInputError
from app.services.validation import (
    DESCRIPTION_MAX,
    EMAIL_MAX,
    NAME_MAX,
    clean_description,
    clean_email,
    clean_name,
)


def _error(call: object, *args: object) -> UserInputError:
    with pytest.raises(UserInputError) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value


# ---- names ------------------------------------------------------------------------------------------


def test_a_name_is_normalised_to_nfc_and_trimmed() -> None:
    decomposed = "Cafe\u0301"  # e + COMBINING ACUTE ACCENT
    assert clean_name(decomposed) == "Café" == unicodedata.normalize("NFC", decomposed)
    assert clean_name("  \t ci pipeline \n") == "ci pipeline"
    assert clean_name("\u00a0\u3000name\u2003") == "name"  # NO-BREAK, IDEOGRAPHIC and EM spaces are spaces
    assert clean_name("two  words") == "two  words"  # inner spaces are kept


def test_a_name_keeps_the_joiners_that_writing_needs() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_name(f"team {family}") == f"team {family}"
    assert (
        clean_name("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")
        == "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )


def test_a_name_is_at_most_100_characters_after_normalising() -> None:
    assert NAME_MAX == 100
    assert clean_name("n" * NAME_MAX) == "n" * NAME_MAX
    assert clean_name("e\u0301" * NAME_MAX) == "é" * NAME_MAX  # 200 code points in, 100 after NFC
    assert clean_name(" " + "n" * NAME_MAX + " ") == "n" * NAME_MAX  # the trimmed length counts
    error = _error(clean_name, "n" * (NAME_MAX + 1))
    assert (error.code, error.field) == ("TOO_LONG", ("name",))
    assert "at most 100 characters" in error.message


@pytest.mark.parametrize("value", ["", " ", "\t\n", "\u3164", "\u2800\u2800", "\u115f", "\u200d", "\u3000"])
def test_an_empty_or_invisible_name_is_blank(value: str) -> None:
    assert _error(clean_name, value).code == "BLANK"


@pytest.mark.parametrize(
    "bad",
    [
        "\u0000",  # NUL
        "\u0007",  # BEL
        "\u0085",  # NEXT LINE: a C1 control, never trimmed away
        "\u007f",  # DELETE
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u200b",  # ZERO WIDTH SPACE
        "\u00ad",  # SOFT HYPHEN
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A
        "\u2028",  # LINE SEPARATOR
        "\n",  # a line break inside a one-line name
        "\ud800",  # a lone surrogate
    ],
)
def test_control_and_formatting_characters_are_refused_not_dropped(bad: str) -> None:
    error = _error(clean_name, f"prod{bad}name")
    assert (error.code, error.field) == ("INVALID", ("name",))
    assert f"U+{ord(bad):04X}" in error.message


def test_the_field_is_named_in_the_error_as_a_person_reads_it() -> None:
    error = _error(clean_name, "", "workspaceName")
    assert error.field == ("workspaceName",) and error.message == "Workspace name cannot be empty."


# ---- descriptions -----------------------------------------------------------------------------------


def test_a_description_may_be_absent_or_empty_and_keeps_line_breaks() -> None:
    assert clean_description(None) is None
    assert clean_description("") is None and clean_description("  \n ") is None
    assert clean_description(" first line\n\tsecond line \n") == "first line\n\tsecond line"


def test_a_description_is_at_most_2000_characters_and_refuses_controls() -> None:
    assert DESCRIPTION_MAX == 2000
    assert clean_description("d" * DESCRIPTION_MAX) == "d" * DESCRIPTION_MAX
    assert _error(clean_description, "d" * (DESCRIPTION_MAX + 1)).code == "TOO_LONG"
    assert _error(clean_description, "a\u0000b").code == "INVALID"
    assert _error(clean_description, "a\u202eb").code == "INVALID"


# ---- emails -----------------------------------------------------------------------------------------


def _address_of_length(length: int) -> str:
    """A valid address of exactly `length` characters: a 64-character local part and labels of at most 63."""
    local, remaining = "a" * 64, length - 65
    labels = []
    while remaining > 0:
        label = min(63, remaining if remaining <= 63 else remaining - 1)
        labels.append("b" * label)
        remaining -= label + (1 if remaining > label else 0)
    address = f"{local}@{'.'.join(labels)}"
    assert len(address) == length
    return address


def test_an_email_is_trimmed_normalised_and_lower_cased() -> None:
    assert clean_email("  Ops@Example.COM \n") == "ops@example.com"
    assert clean_email("U\u0308ser@example.com") == "\u00fcser@example.com"  # NFC, then lower case


def test_an_email_is_at_most_254_characters() -> None:
    assert EMAIL_MAX == 254
    assert clean_email(_address_of_length(EMAIL_MAX)) == _address_of_length(EMAIL_MAX)
    error = _error(clean_email, _address_of_length(EMAIL_MAX + 1))
    assert (error.code, error.field) == ("INVALID_EMAIL", ("email",))
    assert "at most 254 characters" in error.message
    assert _error(clean_email, "a" * 100_000 + "@example.com").code == "INVALID_EMAIL"


@pytest.mark.parametrize(
    "value", ["", "plain", "@example.com", "a@", "a@b", "a b@example.com", "a@exa mple.com", "a\u0000@example.com"]
)
def test_what_is_not_an_address_is_refused_with_the_reason(value: str) -> None:
    error = _error(clean_email, value)
    assert error.code == "INVALID_EMAIL" and error.message.startswith("Enter a valid email address")
