"""Bad input gets a user error that names the field, never an internal error: cursors on every
connection, and the names, descriptions and emails people type (one validation module serves them all).
"""

import base64
import unicodedata
from typing import Any

import pytest

from app.models import Project
from tests.support.api import CREATE_PROJECT, INVITE_MEMBER, LOG_IN, PASSWORD, SIGN_UP, Account, Api
from tests.support.schema_calls import SCHEMA

# ---- cursors ---------------------------------------------------------------------------------------


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


# Every root connection (found in the schema, so a new one is covered) and the nested Project.apiKeys.
ROOT_CONNECTIONS = sorted(name for name, f in SCHEMA.query_type.fields.items() if "after" in f.args)  # type: ignore[union-attr]
PROJECT_KEYS = (
    "query($id: ID!, $after: String) { node(id: $id) { ... on Project { apiKeys(after: $after) { totalCount } } } }"
)

BAD_CURSORS = [
    _cursor("cursor:" + "9" * 30),  # past BIGINT: int64 overflow in the database
    _cursor(f"cursor:{2**63}"),  # one past the largest key
    _cursor("cursor:-5"),
    _cursor("cursor:0"),
    _cursor("cursor:+5"),
    _cursor("cursor:\u0663"),  # ARABIC-INDIC DIGIT THREE: int() would take it
    _cursor("cursor:" + "1" * 5000),  # int() refuses it, and it is far longer than any cursor
    "not base64!",
]


def test_the_schema_has_the_connections_this_test_expects() -> None:
    assert {"projects", "apiKeys", "managementTokens", "auditEvents", "staleTokenReports"} <= set(ROOT_CONNECTIONS)


@pytest.mark.parametrize("connection", ROOT_CONNECTIONS)
async def test_a_bad_cursor_is_a_user_error_on_every_connection(api: Api, connection: str) -> None:
    # given
    owner = await api.sign_up()
    query = f"query($after: String) {{ {connection}(after: $after) {{ totalCount }} }}"
    for cursor in BAD_CURSORS:
        # when
        body = await api.gql(query, {"after": cursor}, owner.session)
        # then
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_CURSOR", "field": ["after"]}, (
            cursor,
            body,
        )
    # and the largest key a cursor can hold is fine (an empty page)
    body = await api.ok(query, {"after": _cursor(f"cursor:{2**63 - 1}")}, owner.session)
    assert body[connection]["totalCount"] >= 0


async def test_a_bad_cursor_is_a_user_error_on_a_projects_keys(api: Api) -> None:
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    for cursor in BAD_CURSORS:
        body = await api.gql(PROJECT_KEYS, {"id": project_id, "after": cursor}, owner.session)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], (cursor, body)


# ---- names and descriptions ------------------------------------------------------------------------

REFUSED_TEXT = [
    ("a\x7fb", "INVALID"),  # DEL
    ("a\x85b", "INVALID"),  # NEXT LINE, a C1 control
    ("a\x9bb", "INVALID"),  # CONTROL SEQUENCE INTRODUCER
    ("prod\u202egnp.exe", "INVALID"),  # RIGHT-TO-LEFT OVERRIDE: shows as "prodexe.png"
    ("a\u2066b\u2069", "INVALID"),  # bidi isolates
    ("a\u200bb", "INVALID"),  # ZERO WIDTH SPACE
    ("a\u00adb", "INVALID"),  # SOFT HYPHEN
    ("name\x85", "INVALID"),  # a trailing C1 control is refused, not stripped
    ("\u200d\u200d", "BLANK"),  # only joiners: nothing visible
    ("\u3164\u3164", "BLANK"),  # HANGUL FILLER: a letter that shows as nothing
    ("\u2800", "BLANK"),  # BRAILLE PATTERN BLANK
]

# (document, the input's text field as it is named in userErrors, extra input)
NAME_FIELDS: list[tuple[str, str]] = [
    ("createProject", "name"),
    ("createProject", "description"),
    ("updateProject", "name"),
    ("updateProject", "description"),
    ("createApiKey", "name"),
    ("createManagementToken", "name"),
    ("rotateManagementToken", "name"),
    ("signUp", "workspaceName"),
]


async def _text_call(api: Api, owner: Account, mutation: str, field: str, value: str) -> dict[str, Any]:
    """The mutation with `value` in `field` and valid values everywhere else; returns its payload."""
    ids = {}
    if mutation in ("updateProject", "createApiKey"):
        ids["project"] = await api.create_project(owner.session, "target")
    if mutation == "rotateManagementToken":
        ids["token"], _ = await api.create_token(owner, ["VIEW_PROJECTS"])
    inputs: dict[str, dict[str, Any]] = {
        "createProject": {"name": "ok"},
        "updateProject": {"id": ids.get("project")},
        "createApiKey": {"projectId": ids.get("project"), "name": "ok"},
        "createManagementToken": {"name": "ok", "permissions": ["VIEW_PROJECTS"]},
        "rotateManagementToken": {"id": ids.get("token")},
        "signUp": {"email": "text-check@example.com", "password": PASSWORD, "workspaceName": "ok"},
    }
    types = {
        "createProject": "CreateProjectInput",
        "updateProject": "UpdateProjectInput",
        "createApiKey": "CreateApiKeyInput",
        "createManagementToken": "CreateManagementTokenInput",
        "rotateManagementToken": "RotateManagementTokenInput",
        "signUp": "SignUpInput",
    }
    document = f"mutation($input: {types[mutation]}!) {{ {mutation}(input: $input) {{ userErrors {{ field message code }} }} }}"
    body = await api.gql(document, {"input": {**inputs[mutation], field: value}}, owner.session)
    assert "errors" not in body, body
    return body["data"][mutation]


@pytest.mark.parametrize(("mutation", "field"), NAME_FIELDS)
async def test_text_a_person_would_never_mean_is_refused_naming_the_field(api: Api, mutation: str, field: str) -> None:
    owner = await api.sign_up()
    label = {"name": "Name", "description": "Description", "workspaceName": "Workspace name"}[field]
    for value, code in REFUSED_TEXT:
        # when
        payload = await _text_call(api, owner, mutation, field, value)
        # then
        [error] = payload["userErrors"]
        assert (error["field"], error["code"]) == ([field], code), (value, payload)
        assert error["message"].startswith(label), error


async def test_text_is_stored_in_nfc_and_ordinary_writing_is_kept(api: Api) -> None:
    owner = await api.sign_up()
    for typed in ["e\u0301cole", "👨\u200d👩\u200d👧 family", "مى\u200cخواهم", "Ünïcödé"]:
        data = await api.ok(
            CREATE_PROJECT, {"input": {"name": typed, "description": f"line 1\n\t{typed}"}}, owner.session
        )
        expected = unicodedata.normalize("NFC", typed)
        assert data["createProject"]["project"]["name"] == expected
        stored = await Project.get(name=expected)
        assert stored.description == f"line 1\n\t{expected}"


# ---- emails ----------------------------------------------------------------------------------------

REFUSED_EMAILS = [
    "a@b.c<script>",
    "a\x7f@example.com",
    "a\u202e@example.com",
    "a@exa\u200bmple.com",
    "a@b.c\x85",
    "two@@example.com",
    "no-domain@",
    "x" * 250 + "@example.com",
]


async def test_bad_emails_are_refused_at_sign_up_and_invite_member(api: Api) -> None:
    owner = await api.sign_up()
    for email in REFUSED_EMAILS:
        signed_up = await api.gql(SIGN_UP, {"input": {"email": email, "password": PASSWORD, "workspaceName": "W"}})
        invited = await api.gql(INVITE_MEMBER, {"input": {"email": email, "role": "MEMBER"}}, owner.session)
        for payload in (signed_up["data"]["signUp"], invited["data"]["inviteMember"]):
            [error] = payload["userErrors"]
            assert (error["field"], error["code"]) == (["email"], "INVALID_EMAIL"), (email, payload)
            assert error["message"].startswith("Enter a valid email address"), error


async def test_emails_are_normalised_once_for_sign_up_and_log_in(api: Api) -> None:
    # given an address typed in another case, with a decomposed accent and spaces around it
    await api.sign_up(" Zoe\u0301@Example.COM ")
    # when the person logs in with the composed, lower-case form
    data = await api.ok(LOG_IN, {"input": {"email": "zoé@example.com", "password": PASSWORD}})
    # then it is the same account
    assert data["logIn"]["viewer"]["email"] == "zoé@example.com"


async def test_a_bad_email_at_log_in_reads_like_a_wrong_password(api: Api) -> None:
    wrong = await api.gql(LOG_IN, {"input": {"email": "nobody@example.com", "password": "wrong password!"}})
    bad = await api.gql(LOG_IN, {"input": {"email": "a@b.c<script>", "password": "wrong password!"}})
    assert wrong == bad
    assert bad["data"]["logIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
