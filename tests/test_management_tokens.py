"""Management tokens, exactly the product page's flows: create, list, details, revoke, rotate."""

import pytest

from app.security import tokens
from tests.support.api import ALL_PERMISSIONS, CREATE_TOKEN, TOKEN_FIELDS, Api, error_codes

LIST = f"""
query($status: ManagementTokenStatus, $first: Int) {{
  managementTokens(status: $status, first: $first) {{ totalCount edges {{ node {{ {TOKEN_FIELDS} }} }} }}
}}"""
DETAILS = f"query($id: ID!) {{ node(id: $id) {{ ... on ManagementToken {{ {TOKEN_FIELDS} }} }} }}"
REVOKE = f"""
mutation($input: RevokeManagementTokenInput!) {{
  revokeManagementToken(input: $input) {{ managementToken {{ {TOKEN_FIELDS} }} userErrors {{ field message code }} }}
}}"""
ROTATE = f"""
mutation($input: RotateManagementTokenInput!) {{
  rotateManagementToken(input: $input) {{ secret managementToken {{ {TOKEN_FIELDS} }} userErrors {{ field message code }} }}
}}"""
VIEWER = "{ viewer { kind role email permissions workspace { id } } }"


async def test_create_shows_the_value_once_and_lists_the_table(api: Api) -> None:
    # given
    owner = await api.sign_up()
    # when
    data = await api.ok(
        CREATE_TOKEN,
        {"input": {"name": "ci-pipeline", "permissions": ["CREATE_API_KEY", "VIEW_PROJECTS"]}},
        owner.session,
    )
    payload = data["createManagementToken"]
    secret, token = payload["secret"], payload["managementToken"]
    # then
    assert tokens.parse(secret).kind is tokens.TokenKind.MANAGEMENT
    assert secret.startswith(token["keyPrefix"]) and token["keyPrefix"].startswith("kwm_")
    assert token["permissions"] == ["VIEW_PROJECTS", "CREATE_API_KEY"]
    assert token["status"] == "ACTIVE" and token["lastUsedAt"] is None and token["revokedAt"] is None
    assert token["createdBy"]["label"] == owner.email
    table = (await api.ok(LIST, token=owner.session))["managementTokens"]
    assert table["totalCount"] == 1
    assert table["edges"][0]["node"] == token
    details = (await api.ok(DETAILS, {"id": token["id"]}, owner.session))["node"]
    assert details == token
    assert secret not in str(table) + str(details)


async def test_token_can_do_what_its_permissions_allow_in_its_workspace(api: Api) -> None:
    owner = await api.sign_up()
    _, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
    viewer = (await api.ok(VIEWER, token=secret))["viewer"]
    assert viewer == {
        "kind": "MANAGEMENT_TOKEN",
        "role": None,
        "email": None,
        "permissions": ["VIEW_PROJECTS"],
        "workspace": {"id": owner.workspace_id},
    }
    await api.create_project(owner.session, "Visible")
    projects = await api.ok("{ projects { edges { node { name } } } }", token=secret)
    assert projects["projects"]["edges"] == [{"node": {"name": "Visible"}}]
    denied = await api.gql('mutation { createProject(input: {name: "x"}) { project { id } } }', token=secret)
    assert error_codes(denied) == ["FORBIDDEN"] and denied["errors"][0]["path"] == ["createProject"]


@pytest.mark.parametrize(
    ("name", "permissions", "code", "field"),
    [
        ("ci", [], "NO_PERMISSIONS", ["permissions"]),
        ("", ["VIEW_PROJECTS"], "BLANK", ["name"]),
        ("n" * 101, ["VIEW_PROJECTS"], "TOO_LONG", ["name"]),
    ],
)
async def test_create_user_errors(api: Api, name: str, permissions: list[str], code: str, field: list[str]) -> None:
    owner = await api.sign_up()
    body = await api.gql(CREATE_TOKEN, {"input": {"name": name, "permissions": permissions}}, owner.session)
    payload = body["data"]["createManagementToken"]
    assert payload["secret"] is None and payload["managementToken"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]


async def test_duplicate_active_name_is_a_user_error_but_a_revoked_name_is_free(api: Api) -> None:
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="deploy")
    body = await api.gql(CREATE_TOKEN, {"input": {"name": "deploy", "permissions": ["VIEW_PROJECTS"]}}, owner.session)
    assert body["data"]["createManagementToken"]["userErrors"][0]["code"] == "DUPLICATE_NAME"
    await api.ok(REVOKE, {"input": {"id": token_id}}, owner.session)
    await api.create_token(owner, ["VIEW_PROJECTS"], name="deploy")
    assert (await api.ok(LIST, token=owner.session))["managementTokens"]["totalCount"] == 2


async def test_revoke_is_immediate_and_final(api: Api) -> None:
    # given a token in use
    owner = await api.sign_up()
    token_id, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
    assert (await api.ok(VIEWER, token=secret))["viewer"]["kind"] == "MANAGEMENT_TOKEN"
    # when
    data = await api.ok(REVOKE, {"input": {"id": token_id}}, owner.session)
    # then it is listed as revoked and refused on its very next request
    revoked = data["revokeManagementToken"]["managementToken"]
    assert revoked["status"] == "REVOKED" and revoked["revokedAt"] is not None
    response = await api.post(VIEWER, token=secret)
    assert response.status_code == 401 and error_codes(response.json()) == ["UNAUTHENTICATED"]
    # and a second revoke is a user error
    again = await api.gql(REVOKE, {"input": {"id": token_id}}, owner.session)
    assert again["data"]["revokeManagementToken"]["userErrors"] == [
        {"field": ["id"], "message": "This management token is already revoked.", "code": "ALREADY_REVOKED"}
    ]
    listed = await api.ok(LIST, {"status": "REVOKED"}, owner.session)
    assert [e["node"]["id"] for e in listed["managementTokens"]["edges"]] == [token_id]
    assert (await api.ok(LIST, {"status": "ACTIVE"}, owner.session))["managementTokens"]["totalCount"] == 0


async def test_rotate_links_both_ways_and_keeps_the_old_token_valid_until_revoked(api: Api) -> None:
    # given
    owner = await api.sign_up()
    old_id, old_secret = await api.create_token(owner, ["VIEW_PROJECTS", "VIEW_API_KEYS"], name="key-rotation-script")
    # when
    data = await api.ok(ROTATE, {"input": {"id": old_id}}, owner.session)
    payload = data["rotateManagementToken"]
    new, new_secret = payload["managementToken"], payload["secret"]
    # then
    assert new_secret != old_secret and tokens.parse(new_secret).kind is tokens.TokenKind.MANAGEMENT
    assert new["name"] == "key-rotation-script" and new["permissions"] == ["VIEW_PROJECTS", "VIEW_API_KEYS"]
    assert new["replaces"] == {"id": old_id, "name": "key-rotation-script"}
    old = (await api.ok(DETAILS, {"id": old_id}, owner.session))["node"]
    assert old["replacedBy"] == {"id": new["id"], "name": "key-rotation-script"} and old["status"] == "ACTIVE"
    for secret in (old_secret, new_secret):
        assert (await api.ok(VIEWER, token=secret))["viewer"]["kind"] == "MANAGEMENT_TOKEN"
    # a token can be rotated once; rotate the replacement next time
    twice = await api.gql(ROTATE, {"input": {"id": old_id}}, owner.session)
    assert twice["data"]["rotateManagementToken"]["userErrors"][0]["code"] == "ALREADY_ROTATED"
    # when the old one is revoked, only the new one works
    await api.ok(REVOKE, {"input": {"id": old_id}}, owner.session)
    assert (await api.post(VIEWER, token=old_secret)).status_code == 401
    assert (await api.ok(VIEWER, token=new_secret))["viewer"]["permissions"] == ["VIEW_PROJECTS", "VIEW_API_KEYS"]
    revoked_rotation = await api.gql(ROTATE, {"input": {"id": old_id}}, owner.session)
    assert revoked_rotation["data"]["rotateManagementToken"]["userErrors"][0]["code"] == "REVOKED"


async def test_rotate_with_a_new_name(api: Api) -> None:
    owner = await api.sign_up()
    old_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="ci")
    data = await api.ok(ROTATE, {"input": {"id": old_id, "name": "ci-2026"}}, owner.session)
    assert data["rotateManagementToken"]["managementToken"]["name"] == "ci-2026"


@pytest.mark.parametrize("permissions", [ALL_PERMISSIONS, ["VIEW_PROJECTS"]])
async def test_a_management_token_can_never_manage_management_tokens(api: Api, permissions: list[str]) -> None:
    owner = await api.sign_up()
    token_id, secret = await api.create_token(owner, permissions)
    calls = {
        "createManagementToken": (CREATE_TOKEN, {"input": {"name": "escalate", "permissions": ALL_PERMISSIONS}}),
        "rotateManagementToken": (ROTATE, {"input": {"id": token_id}}),
        "revokeManagementToken": (REVOKE, {"input": {"id": token_id}}),
        "managementTokens": (LIST, {}),
        "updateWorkspaceSettings": (
            "mutation { updateWorkspaceSettings(input: {staleAfterDays: 5}) { userErrors { code } } }",
            {},
        ),
        "auditEvents": ("{ auditEvents { totalCount } }", {}),
    }
    for field, (query, variables) in calls.items():
        body = await api.gql(query, variables, secret)
        assert body["data"] is None, field
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([field], "FORBIDDEN")]
    # and through node(id:) the token's own record stays out of reach
    denied = await api.gql(DETAILS, {"id": token_id}, secret)
    assert error_codes(denied) == ["FORBIDDEN"]
    assert (await api.ok(LIST, token=owner.session))["managementTokens"]["totalCount"] == 1


async def test_members_cannot_manage_management_tokens_admins_can(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    admin = await api.add_member(owner, "ADMIN")
    body = await api.gql(CREATE_TOKEN, {"input": {"name": "m", "permissions": ["VIEW_PROJECTS"]}}, member.session)
    assert error_codes(body) == ["FORBIDDEN"]
    await api.create_token(admin, ["VIEW_PROJECTS"], name="by-admin")
    member_viewer = (await api.ok(VIEWER, token=member.session))["viewer"]
    assert member_viewer["role"] == "MEMBER" and member_viewer["permissions"] == ["VIEW_PROJECTS", "VIEW_API_KEYS"]


async def test_revoke_and_rotate_are_audited_without_secrets(api: Api) -> None:
    owner = await api.sign_up()
    token_id, secret = await api.create_token(owner, ["VIEW_PROJECTS"], name="audited")
    rotated = await api.ok(ROTATE, {"input": {"id": token_id}}, owner.session)
    await api.ok(REVOKE, {"input": {"id": token_id}}, owner.session)
    events = await api.ok(
        "{ auditEvents { edges { node { action targetId actor { kind label } ipAddress } } } }", token=owner.session
    )
    actions = [(e["node"]["action"], e["node"]["targetId"]) for e in events["auditEvents"]["edges"]][:4]
    new_id = rotated["rotateManagementToken"]["managementToken"]["id"]
    assert actions == [
        ("management_token.revoked", token_id),
        ("management_token.created", new_id),
        ("management_token.rotated", token_id),
        ("management_token.created", token_id),
    ]
    text = str(events)
    assert secret not in text and rotated["rotateManagementToken"]["secret"] not in text
