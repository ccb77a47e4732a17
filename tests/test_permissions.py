"""A management token with each single permission against every protected field (and the three roles)."""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import ALL_PERMISSIONS, Account, Api


@dataclass(frozen=True)
class Call:
    path: list[str]
    query: str
    permission: str | None = None  # @requiresPermission
    role: str | None = None  # @requiresRole
    reach: str | None = None  # the permission that reaches the parent of a nested field


def calls(project_id: str, key_id: str, token_id: str) -> list[Call]:
    return [
        Call(["projects"], "{ projects { totalCount } }", permission="VIEW_PROJECTS"),
        Call(["apiKeys"], "{ apiKeys { totalCount } }", permission="VIEW_API_KEYS"),
        Call(
            ["projects", "edges", 0, "node", "apiKeys"],
            "{ projects { edges { node { apiKeys { totalCount } } } } }",
            permission="VIEW_API_KEYS",
            reach="VIEW_PROJECTS",
        ),
        Call(
            ["node", "apiKeys"],
            f'{{ node(id: "{project_id}") {{ ... on Project {{ apiKeys {{ totalCount }} }} }} }}',
            permission="VIEW_API_KEYS",
            reach="VIEW_PROJECTS",
        ),
        Call(
            ["apiKeys", "edges", 0, "node", "project"],
            "{ apiKeys { edges { node { project { id } } } } }",
            permission="VIEW_PROJECTS",
            reach="VIEW_API_KEYS",
        ),
        Call(
            ["node", "project"],
            f'{{ node(id: "{key_id}") {{ ... on ApiKey {{ project {{ id }} }} }} }}',
            permission="VIEW_PROJECTS",
            reach="VIEW_API_KEYS",
        ),
        Call(
            ["createProject"],
            'mutation { createProject(input: {name: "p"}) { userErrors { code } } }',
            permission="MANAGE_PROJECTS",
        ),
        Call(
            ["updateProject"],
            f'mutation {{ updateProject(input: {{id: "{project_id}", name: "q"}}) {{ userErrors {{ code }} }} }}',
            permission="MANAGE_PROJECTS",
        ),
        Call(
            ["deleteProject"],
            'mutation { deleteProject(input: {id: "UHJvamVjdDo5OTk5OTk="}) { userErrors { code } } }',
            permission="MANAGE_PROJECTS",
        ),
        Call(
            ["createApiKey"],
            f'mutation {{ createApiKey(input: {{projectId: "{project_id}", name: "k"}}) {{ userErrors {{ code }} }} }}',
            permission="CREATE_API_KEY",
        ),
        Call(
            ["deleteApiKey"],
            'mutation { deleteApiKey(input: {id: "QXBpS2V5Ojk5OTk5OQ=="}) { userErrors { code } } }',
            permission="DELETE_API_KEYS",
        ),
        Call(["managementTokens"], "{ managementTokens { totalCount } }", role="ADMIN"),
        Call(["staleTokenReports"], "{ staleTokenReports { totalCount } }", role="ADMIN"),
        Call(["auditEvents"], "{ auditEvents { totalCount } }", role="ADMIN"),
        Call(
            ["createManagementToken"],
            'mutation { createManagementToken(input: {name: "t", permissions: [VIEW_PROJECTS]}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["revokeManagementToken"],
            'mutation { revokeManagementToken(input: {id: "TWFuYWdlbWVudFRva2VuOjk5OTk5OQ=="}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["rotateManagementToken"],
            f'mutation {{ rotateManagementToken(input: {{id: "{token_id}"}}) {{ userErrors {{ code }} }} }}',
            role="ADMIN",
        ),
        Call(
            ["updateWorkspaceSettings"],
            "mutation { updateWorkspaceSettings(input: {staleAfterDays: 30}) { userErrors { code } } }",
            role="ADMIN",
        ),
        Call(
            ["addMember"],
            'mutation { addMember(input: {email: "x@example.com", password: "long enough pw", role: MEMBER}) { userErrors { code } } }',
            role="ADMIN",
        ),
    ]


ROLE_RANK = {"MEMBER": 1, "ADMIN": 2, "OWNER": 3}
ROLE_PERMISSIONS = {
    "OWNER": set(ALL_PERMISSIONS),
    "ADMIN": set(ALL_PERMISSIONS),
    "MEMBER": {"VIEW_PROJECTS", "VIEW_API_KEYS"},
}


def assert_outcome(body: dict[str, Any], call: Call, allowed: bool, who: str) -> None:
    errors = [e for e in body.get("errors", []) if e["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")]
    if allowed:
        assert errors == [], (who, call.path, body)
    else:
        assert [(e["path"], e["extensions"]["code"]) for e in errors] == [(call.path, "FORBIDDEN")], (
            who,
            call.path,
            body,
        )


@pytest.fixture
async def world(api: Api) -> tuple[Account, list[Call]]:
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    key_id, _ = await api.create_api_key(owner.session, project_id)
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="rotatable")
    return owner, calls(project_id, key_id, token_id)


@pytest.mark.parametrize("permission", ALL_PERMISSIONS)
async def test_single_permission_token_against_every_protected_field(
    api: Api, world: tuple[Account, list[Call]], permission: str
) -> None:
    owner, protected = world
    secrets: dict[str | None, str] = {None: (await api.create_token(owner, [permission]))[1]}
    for call in protected:
        if call.reach not in secrets:  # nested fields: the token also holds what reaches the parent
            secrets[call.reach] = (await api.create_token(owner, sorted({permission, call.reach or permission})))[1]
        body = await api.gql(call.query, token=secrets[call.reach])
        assert_outcome(body, call, allowed=call.permission == permission, who=permission)


@pytest.mark.parametrize("role", ["MEMBER", "ADMIN", "OWNER"])
async def test_each_role_against_every_protected_field(api: Api, world: tuple[Account, list[Call]], role: str) -> None:
    owner, protected = world
    person = owner if role == "OWNER" else await api.add_member(owner, role)
    for call in protected:
        body = await api.gql(call.query, token=person.session)
        allowed = (
            call.permission in ROLE_PERMISSIONS[role]
            if call.permission
            else ROLE_RANK[role] >= ROLE_RANK[call.role or "OWNER"]
        )
        assert_outcome(body, call, allowed=allowed, who=role)


async def test_anonymous_callers_are_unauthenticated_on_every_protected_field(
    api: Api, world: tuple[Account, list[Call]]
) -> None:
    _, protected = world
    for call in protected:
        body = await api.gql(call.query)
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"UNAUTHENTICATED"}, (call.path, body)


async def test_only_an_owner_adds_an_owner(api: Api) -> None:
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    query = 'mutation { addMember(input: {email: "o2@example.com", password: "long enough pw", role: OWNER}) { userErrors { code } } }'
    assert (await api.gql(query, token=admin.session))["data"]["addMember"]["userErrors"][0][
        "code"
    ] == "ROLE_NOT_ALLOWED"
    assert (await api.ok(query, token=owner.session))["addMember"]["userErrors"] == []
