"""Where a password is set (signUp, acceptInvitation for a new account, changePassword) it must not be common,
guessable, or made from the email."""

from typing import Any

import pytest

from tests.support.api import ACCEPT_INVITATION, PASSWORD, SIGN_UP, Api

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
    elif where == "acceptInvitation":
        owner = await api.sign_up()
        _, invite_token = await api.invite(owner, "MEMBER", email)
        body = await api.gql(ACCEPT_INVITATION, {"input": {"inviteToken": invite_token, "password": password}})
    else:
        person = await api.sign_up(email)
        body = await api.gql(
            CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": password}}, person.session
        )
    assert "errors" not in body, body
    return body["data"][where]


CHANGE_PASSWORD = """mutation($input: ChangePasswordInput!) {
  changePassword(input: $input) { sessionToken userErrors { field message code } } }"""
FIELD = {"signUp": "password", "acceptInvitation": "password", "changePassword": "newPassword"}


@pytest.mark.parametrize("where", ["signUp", "acceptInvitation", "changePassword"])
@pytest.mark.parametrize(("password", "code"), REFUSED)
async def test_weak_passwords_are_refused_with_a_clear_error(api: Api, where: str, password: str, code: str) -> None:
    # when
    payload = await _set_password(api, where, EMAIL, password)
    # then
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ([FIELD[where]], code)
    expected = "Password is too easy to guess." if code == "PASSWORD_TOO_WEAK" else "Password cannot be your email"
    assert error["message"].startswith(expected), error
    assert password not in error["message"]


@pytest.mark.parametrize("where", ["signUp", "acceptInvitation", "changePassword"])
@pytest.mark.parametrize("password", ACCEPTED)
async def test_good_passwords_are_accepted(api: Api, where: str, password: str) -> None:
    payload = await _set_password(api, where, f"{abs(hash((where, password)))}@example.com", password)
    assert payload["userErrors"] == []
