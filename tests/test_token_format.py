"""The token format on its own (no server): `<kind>_`, 30 base62 characters, 6 of CRC32 checksum."""

import hashlib
import string

import pytest

from app.security import tokens
from app.security.tokens import TOKEN_LENGTH, MalformedToken, TokenKind

BASE62 = set(string.digits + string.ascii_letters)
PREFIXES = {
    TokenKind.MANAGEMENT: "kwm_",
    TokenKind.SESSION: "kws_",
    TokenKind.API_KEY: "kwk_",
    TokenKind.WEBHOOK_SIGNING_SECRET: "kwh_",
    TokenKind.INVITATION: "kwi_",
}


def _refused(value: str) -> None:
    with pytest.raises(MalformedToken) as refused:
        tokens.parse(value)
    # the refusal never carries the value (or any long part of it) into messages and logs
    assert value[4:] == "" or value[4:12] not in str(refused.value)


@pytest.mark.parametrize("kind", list(TokenKind))
def test_a_generated_token_has_its_kinds_prefix_40_characters_and_parses_back(kind: TokenKind) -> None:
    # when
    token = tokens.generate(kind)
    # then
    assert TOKEN_LENGTH == 40 and len(token.value) == 40
    assert token.value.startswith(PREFIXES[kind]) and set(token.value[4:]) <= BASE62
    assert tokens.parse(token.value) == token
    assert token.display_prefix == token.value[:12]
    assert token.digest == hashlib.sha256(token.value.encode()).hexdigest()


def test_two_generated_tokens_differ() -> None:
    values = {tokens.generate(TokenKind.MANAGEMENT).value for _ in range(100)}
    assert len(values) == 100


def test_the_length_is_exact_one_short_and_one_past_are_refused() -> None:
    value = tokens.generate(TokenKind.API_KEY).value
    _refused(value[:-1])
    _refused(value + "a")
    _refused(value + value)
    _refused("")
    _refused("kwk_")


def test_only_the_five_prefixes_and_their_separator_are_accepted() -> None:
    value = tokens.generate(TokenKind.MANAGEMENT).value
    for prefix in ("kwx", "KWM", "kwM", "abc", "kw_"):
        _refused(prefix + value[3:])
    _refused(value[:3] + "-" + value[4:])
    _refused(value[:3] + "a" + value[4:])


def test_characters_outside_base62_are_refused_even_at_the_right_length() -> None:
    value = tokens.generate(TokenKind.SESSION).value
    for bad in ("-", "_", " ", "+", "/", "=", "é", "\u0000", "\u0660"):  # ARABIC-INDIC DIGIT ZERO is a digit to str
        _refused(value[:10] + bad + value[11:])
        _refused(value[:-1] + bad)


def test_every_single_character_change_fails_the_checksum() -> None:
    # given a valid token
    value = tokens.generate(TokenKind.API_KEY).value
    # when any one character after the prefix is replaced by another base62 character
    for position in range(4, TOKEN_LENGTH):
        replacement = "a" if value[position] != "a" else "b"
        changed = value[:position] + replacement + value[position + 1 :]
        # then it is refused (CRC32 catches every change of one character)
        with pytest.raises(MalformedToken, match="checksum"):
            tokens.parse(changed)


def test_a_token_of_one_kind_with_another_prefix_fails_the_checksum() -> None:
    value = tokens.generate(TokenKind.MANAGEMENT).value
    with pytest.raises(MalformedToken, match="checksum"):
        tokens.parse("kwk" + value[3:])


def test_surrounding_whitespace_is_not_trimmed() -> None:
    value = tokens.generate(TokenKind.MANAGEMENT).value
    for padded in (" " + value, value + "\n", " " + value[:-1]):
        _refused(padded)


def test_hash_token_is_the_sha256_hex_of_the_value() -> None:
    assert tokens.hash_token("kwm_x") == hashlib.sha256(b"kwm_x").hexdigest()
    assert len(tokens.hash_token("anything")) == 64


@pytest.mark.parametrize(
    ("body", "checksum"),
    [
        ("kwm_000000000000000000000000000000", "0D4V2F"),
        ("kwk_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "46AXfT"),
        ("kwk_3Fa9QzL1abcdefghijklmnopqrstuv", "4d7iJA"),
    ],
)
def test_tokens_issued_before_still_parse(body: str, checksum: str) -> None:
    # given values whose checksums were computed by an earlier implementation (six base62 divisions)
    # then they parse, and a token issued now gets the same checksum for the same body
    assert tokens.parse(body + checksum).value == body + checksum
    assert tokens._checksum(body) == checksum
