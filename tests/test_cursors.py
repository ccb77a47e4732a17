"""Connection cursors and page sizes on their own (no server): only what `encode_cursor` makes decodes."""

import base64

import pytest

from app.services.errors import UserInputError
from app.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PK, decode_cursor, encode_cursor, page_size


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _refused(cursor: str) -> None:
    with pytest.raises(UserInputError) as refused:
        decode_cursor(cursor)
    assert refused.value.code == "INVALID_CURSOR" and refused.value.field == ("after",)
    assert cursor[:20] not in refused.value.message or not cursor


@pytest.mark.parametrize("pk", [1, 2, 20, 10**9, MAX_PK - 1, MAX_PK])
def test_a_cursor_decodes_to_the_key_it_was_made_from(pk: int) -> None:
    assert decode_cursor(encode_cursor(pk)) == pk


def test_the_largest_key_is_a_bigint_and_one_past_it_is_refused() -> None:
    assert MAX_PK == 2**63 - 1
    _refused(_b64(f"cursor:{MAX_PK + 1}"))
    _refused(_b64(f"cursor:{10**19}"))
    _refused(_b64(f"cursor:{10**30}"))


@pytest.mark.parametrize("number", ["0", "-1", "-9223372036854775808", "01", "+1", " 1", "1 ", "1.0", "1e3", "", "١"])
def test_zero_negative_and_other_spellings_of_numbers_are_refused(number: str) -> None:
    _refused(_b64(f"cursor:{number}"))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "cursor:5",  # not encoded
        "Y3Vyc29yOjU",  # encode_cursor(5) without its padding
        _b64("5"),  # no prefix
        _b64("Cursor:5"),
        _b64("cursor5"),
        _b64("ProjectCursor:5"),
        base64.b64encode(b"\xff\xfe:5").decode(),  # not UTF-8
        encode_cursor(5) + "=",
        encode_cursor(5)[:-1],
    ],
)
def test_anything_else_is_refused(cursor: str) -> None:
    _refused(cursor)


def test_oversized_cursors_are_refused_before_decoding() -> None:
    # the longest cursor there is fits the limit
    assert len(encode_cursor(MAX_PK)) <= 64
    # a well-formed encoding of a longer text, and a huge one, are refused
    _refused(_b64("cursor:" + "1" * 60))
    _refused(_b64("cursor:1" + " " * 100))
    _refused("A" * 1_000_000)


def test_page_sizes_from_zero_to_the_maximum_and_the_default() -> None:
    assert page_size(None) == DEFAULT_PAGE_SIZE == 20
    assert page_size(0) == 0 and page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE == 100
    for refused in (-1, MAX_PAGE_SIZE + 1, 10**9):
        with pytest.raises(UserInputError) as error:
            page_size(refused)
        assert error.value.code == "INVALID_PAGE_SIZE" and error.value.field == ("first",)
