"""Where a password is set (signUp, addMember) it must not be common, guessable, or made from the email."""

from typing import Any

import pytest

from tests.support.api import ADD_MEMBER, SIGN_UP, Api

REFUSED = [
    ("aaaaaaaaaa", "PASSWORD_TOO_WEAK"),  # a repeat
    ("1234567890", "PASSWORD_TOO_WEAK"),  # a top-100 password
    ("qwertyuiop", "PASSWORD_TOO_WEAK"),  # a keyboard row
    ("password123!", "PASSWORD_TOO_WEAK"),
    ("iloveyou2024", "PASSWORD_TOO_WEAK"),
    ("a" * 256, "PASSWORD_TOO_WEAK"),  # longest allowed, scored by its first 72 characters
    ("ada.lovelace@example.com", "PASSWORD_FROM_EMAIL"),  # the email itself
    ("ADA.LOVELACE@EXAMPLE.COM", "PASSWORD_FROM_EMAIL"),
    ("lovelace.ada.2024!", "PASSWORD_FROM_EMAIL"),  # its words, digits and punctuation
    ("example-lovelace-99", "PASSWORD_FROM_EMAIL"),
]
ACCEPTED = ["correct horse battery", "ada writes notes 1843", "Tr0ub4dor&3 and more", "ü" * 5 + " straße quartz"]
EMAIL = "ada.lovelace@example.com"


async def _set_password(api: Api, where: str, email: str, password: str) -> dict[str, Any]:
    if where == "signUp":
        body = await api.gql(SIGN_UP, {"input": {"email": email, "password": password, "workspaceName": "W"}})
    else:
        owner = await api.sign_up()
        body = await api.gql(
            ADD_MEMBER, {"input": {"email": email, "password": password, "role": "MEMBER"}}, owner.session
        )
    assert "errors" not in body, body
    return body["data"][where]


@pytest.mark.parametrize("where", ["signUp", "addMember"])
@pytest.mark.parametrize(("password", "code"), REFUSED)
async def test_weak_passwords_are_refused_with_a_clear_error(api: Api, where: str, password: str, code: str) -> None:
    # when
    payload = await _set_password(api, where, EMAIL, password)
    # then
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (["password"], code)
    expected = "Password is too easy to guess." if code == "PASSWORD_TOO_WEAK" else "Password cannot be your email"
    assert error["message"].startswith(expected), error
    assert password not in error["message"]


@pytest.mark.parametrize("where", ["signUp", "addMember"])
@pytest.mark.parametrize("password", ACCEPTED)
async def test_good_passwords_are_accepted(api: Api, where: str, password: str) -> None:
    payload = await _set_password(api, where, f"{abs(hash((where, password)))}@example.com", password)
    assert payload["userErrors"] == []
