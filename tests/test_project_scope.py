"""Management tokens limited to some projects (`projectIds`): what they see, what they may change, and
what deleting a project does to their scope. The permission matrix covers scoped tokens too
(tests/test_permissions.py)."""

import asyncio
from typing import Any

import pytest

from app.models import AuditEvent, ManagementToken, Project
from app.security.project_scope import decode_scope
from tests.support.api import ALL_PERMISSIONS, TOKEN_FIELDS, Account, Api, error_codes
from tests.support.sql_statements import statements

CREATE_TOKEN = f"""
mutation($input: CreateManagementTokenInput!) {{
  createManagementToken(input: $input) {{
    secret managementToken {{ {TOKEN_FIELDS} projects {{ id name }} }} userErrors {{ field message code }}
  }}
}}"""
TOKEN = "query($id: ID!) { node(id: $id) { ... on ManagementToken { projects { id name } } } }"
ROTATE = """mutation($id: ID!) { rotateManagementToken(input: {id: $id}) {
  secret managementToken { id projects { id } allowedIps } userErrors { code } } }"""
PROJECTS = "{ projects { totalCount edges { node { id apiKeys { totalCount } } } } }"
API_KEYS = "query($project: ID) { apiKeys(projectId: $project) { totalCount edges { node { id } } } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
CREATE_PROJECT = 'mutation { createProject(input: {name: "new"}) { project { id } userErrors { code } } }'
UPDATE_PROJECT = 'mutation($id: ID!) { updateProject(input: {id: $id, name: "renamed"}) { userErrors { code } } }'
DELETE_PROJECT = "mutation($id: ID!) { deleteProject(input: {id: $id}) { deletedId userErrors { code field } } }"
CREATE_KEY = """mutation($project: ID!) { createApiKey(input: {projectId: $project, name: "k"}) {
  apiKey { id } userErrors { code field } } }"""
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { deletedId userErrors { code field } } }"


async def _scoped_token(
    api: Api, owner: Account, project_ids: list[str] | None, **extra: Any
) -> tuple[dict[str, Any], str]:
    variables = {"input": {"name": f"scoped-{len(project_ids or [])}-{id(extra)}", "permissions": ALL_PERMISSIONS}}
    variables["input"] |= {"projectIds": project_ids, **extra}
    payload = (await api.ok(CREATE_TOKEN, variables, owner.session))["createManagementToken"]
    return payload["managementToken"], payload["secret"]


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return dict(next(iter(body["data"].values())))


async def _world(api: Api) -> tuple[Account, list[str], list[str]]:
    """An owner with projects A, B, C, one key in each: (owner, project ids, key ids)."""
    owner = await api.sign_up()
    projects = [await api.create_project(owner.session, name) for name in ("A", "B", "C")]
    keys = [(await api.create_api_key(owner.session, project))[0] for project in projects]
    return owner, projects, keys


async def test_a_token_is_limited_to_projects_of_its_workspace(api: Api) -> None:
    owner, (a, b, _), _ = await _world(api)
    other = await api.sign_up()
    elsewhere = await api.create_project(other.session, "theirs")
    # limited to A and B: the type lists them
    token, _ = await _scoped_token(api, owner, [b, a])
    assert token["projects"] == [{"id": a, "name": "A"}, {"id": b, "name": "B"}]
    # not limited: null
    unlimited, _ = await _scoped_token(api, owner, None)
    assert unlimited["projects"] is None
    # a project of another workspace, an ID of no project, an empty list: user errors naming the entry
    for project_ids, expected in [
        ([a, elsewhere], ("NOT_FOUND", ["projectIds", "1"])),
        (["UHJvamVjdDo5OTk5OTk="], ("NOT_FOUND", ["projectIds", "0"])),
        ([a, "not-an-id"], ("NOT_FOUND", ["projectIds", "1"])),
        ([], ("NO_PROJECTS", ["projectIds"])),
    ]:
        variables = {"input": {"name": "refused", "permissions": ["VIEW_PROJECTS"], "projectIds": project_ids}}
        [error] = _payload(await api.gql(CREATE_TOKEN, variables, owner.session))["userErrors"]
        assert (error["code"], error["field"]) == expected, (project_ids, error)
    assert await ManagementToken.filter(name="refused").count() == 0
    # the creation is audited with the scope
    event = await AuditEvent.filter(action="management_token.created").order_by("id").first()
    assert event is not None and event.details is not None and len(event.details["projectIds"]) == 2


async def test_a_scoped_token_sees_only_its_projects_and_their_keys(api: Api) -> None:
    owner, (a, b, c), (key_a, key_b, key_c) = await _world(api)
    _, token = await _scoped_token(api, owner, [a, b])
    # projects: A and B, counted as such
    projects = (await api.ok(PROJECTS, token=token))["projects"]
    assert projects["totalCount"] == 2 and [e["node"]["id"] for e in projects["edges"]] == [a, b]
    assert [e["node"]["apiKeys"]["totalCount"] for e in projects["edges"]] == [1, 1]
    # apiKeys: of A and B; of C: none
    keys = (await api.ok(API_KEYS, {"project": None}, token))["apiKeys"]
    assert keys["totalCount"] == 2 and {e["node"]["id"] for e in keys["edges"]} == {key_a, key_b}
    assert (await api.ok(API_KEYS, {"project": c}, token))["apiKeys"]["totalCount"] == 0
    # node: C and its key look like nothing at all
    assert (await api.ok(NODE, {"id": a}, token))["node"] == {"id": a}
    assert (await api.ok(NODE, {"id": key_b}, token))["node"] == {"id": key_b}
    assert (await api.ok(NODE, {"id": c}, token))["node"] is None
    assert (await api.ok(NODE, {"id": key_c}, token))["node"] is None


async def test_a_scoped_token_manages_only_in_its_projects(api: Api) -> None:
    owner, (a, b, c), (key_a, _, key_c) = await _world(api)
    _, token = await _scoped_token(api, owner, [a, b])
    # outside its scope: NOT_FOUND, as for another workspace, and nothing changes
    assert _payload(await api.gql(CREATE_KEY, {"project": c}, token))["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["projectId"]}
    ]
    assert _payload(await api.gql(UPDATE_PROJECT, {"id": c}, token))["userErrors"] == [{"code": "NOT_FOUND"}]
    assert _payload(await api.gql(DELETE_KEY, {"id": key_c}, token))["userErrors"][0]["code"] == "NOT_FOUND"
    assert _payload(await api.gql(DELETE_PROJECT, {"id": c}, token))["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await api.ok(NODE, {"id": key_c}, owner.session))["node"] == {"id": key_c}
    # inside it: as any token with the permissions
    assert _payload(await api.gql(CREATE_KEY, {"project": a}, token))["apiKey"] is not None
    await api.ok(UPDATE_PROJECT, {"id": b}, token)
    assert _payload(await api.gql(DELETE_KEY, {"id": key_a}, token))["deletedId"] == key_a
    assert _payload(await api.gql(DELETE_PROJECT, {"id": b}, token))["deletedId"] == b


async def test_create_project_is_refused_to_a_scoped_token(api: Api) -> None:
    owner, (a, _, _), _ = await _world(api)
    _, scoped = await _scoped_token(api, owner, [a])
    _, unscoped = await api.create_token(owner, ["MANAGE_PROJECTS"])
    body = await api.gql(CREATE_PROJECT, token=scoped)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    assert "limited to some projects" in body["errors"][0]["message"]
    assert _payload(await api.gql(CREATE_PROJECT, token=unscoped))["project"] is not None


async def test_a_deleted_project_leaves_every_scope_and_an_emptied_scope_stays_empty(api: Api) -> None:
    owner, (a, b, c), _ = await _world(api)
    both, both_secret = await _scoped_token(api, owner, [a, b])
    only_a, only_a_secret = await _scoped_token(api, owner, [a])
    # when A is deleted
    await api.ok(DELETE_PROJECT, {"id": a}, owner.session)
    # then it leaves both scopes; the one it emptied is limited to nothing, never to every project
    assert (await api.ok(TOKEN, {"id": both["id"]}, owner.session))["node"]["projects"] == [{"id": b, "name": "B"}]
    assert (await api.ok(TOKEN, {"id": only_a["id"]}, owner.session))["node"]["projects"] == []
    assert await ManagementToken.filter(project_ids="[]").count() == 1
    assert (await api.ok(PROJECTS, token=only_a_secret))["projects"]["totalCount"] == 0
    assert (await api.ok(NODE, {"id": c}, only_a_secret))["node"] is None
    assert (await api.ok(PROJECTS, token=both_secret))["projects"]["totalCount"] == 1


async def test_the_replacement_of_a_rotation_keeps_the_scope_and_the_allowlist(api: Api) -> None:
    owner, (a, _, _), _ = await _world(api)
    token, _ = await _scoped_token(api, owner, [a], allowedIps=["192.0.2.0/24"])
    replacement = _payload(await api.gql(ROTATE, {"id": token["id"]}, owner.session))["managementToken"]
    assert replacement["projects"] == [{"id": a}] and replacement["allowedIps"] == ["192.0.2.0/24"]


async def test_the_scope_costs_no_query_on_the_request_path(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    owner, (a, _, _), _ = await _world(api)
    _, token = await _scoped_token(api, owner, [a])
    page = "{ projects(first: 2) { edges { node { id } } } }"
    await api.ok(page, token=token)
    with statements(monkeypatch) as seen:
        await api.ok(page, token=token)
    # one lookup of the token (which carries the scope), one page query
    assert len(seen) == 2, seen


async def test_the_viewer_tells_a_token_its_scope_and_what_is_left_of_it(api: Api) -> None:
    # given a token limited to A and C (with only the create-key permission), and one for every project
    owner, (a, b, c), _ = await _world(api)
    _, scoped = await _scoped_token(api, owner, [c, a], permissions=["CREATE_API_KEY"])
    _, unlimited = await _scoped_token(api, owner, None)
    viewer = "{ viewer { projectIds } }"
    # then: the scoped token reads its projects' IDs (what createApiKey takes); the others null
    assert _payload(await api.gql(viewer, None, scoped))["projectIds"] == [a, c]
    assert _payload(await api.gql(viewer, None, unlimited))["projectIds"] is None
    assert _payload(await api.gql(viewer, None, owner.session))["projectIds"] is None
    # when its projects are deleted, one by one: what is left of the scope, then [] (never "every project")
    for deleted, left in ((a, [c]), (c, [])):
        assert _payload(await api.gql(DELETE_PROJECT, {"id": deleted}, owner.session))["deletedId"] == deleted
        assert _payload(await api.gql(viewer, None, scoped))["projectIds"] == left
    assert b not in str(await api.gql(viewer, None, scoped))


async def test_a_rotation_racing_the_deletion_of_a_project_in_its_scope_keeps_no_deleted_project(api: Api) -> None:
    """On PostgreSQL the two run side by side: the replacement's scope is written from the old token's while
    the deletion takes the project out of the scopes it can see. The loser waits; no scope keeps the project."""
    owner = await api.sign_up()
    for round_ in range(12):
        doomed = await api.create_project(owner.session, f"doomed-{round_}")
        kept = await api.create_project(owner.session, f"kept-{round_}")
        token, _ = await _scoped_token(api, owner, [doomed, kept])
        rotated, deleted = await asyncio.gather(
            api.gql(ROTATE, {"id": token["id"]}, owner.session),
            api.gql(DELETE_PROJECT, {"id": doomed}, owner.session),
        )
        assert _payload(deleted)["deletedId"] == doomed
        assert _payload(rotated)["userErrors"] == [], rotated
        assert _payload(rotated)["managementToken"]["projects"] in ([{"id": kept}], [{"id": doomed}, {"id": kept}])
    for token_row in await ManagementToken.filter(workspace_id__isnull=False, project_ids__isnull=False):
        scope = decode_scope(token_row.project_ids) or frozenset()
        existing = set(await Project.filter(id__in=list(scope)).values_list("id", flat=True))
        assert scope == existing, (token_row.id, token_row.name, sorted(scope - existing))
