"""Concurrent deletes, creates, updates, rotations and revocations: each change happens once, is audited
once, and every loser gets a user error (NOT_FOUND, ALREADY_REVOKED, ...), never an internal error.

Each race sends 32 requests at once through the ASGI app (tests/support/races.py): on PostgreSQL they
run on 32 pooled connections and all their transactions are open at the same time before any commits;
on SQLite one process runs one write transaction at a time, and the same assertions hold.
"""

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from app.models import AuditEvent
from tests.support.api import CREATE_API_KEY, Account, Api
from tests.support.races import race, racing_api

RACERS = 32

DELETE_PROJECT = (
    "mutation($input: DeleteInput!) { deleteProject(input: $input) { deletedId userErrors { field message code } } }"
)
DELETE_API_KEY = (
    "mutation($input: DeleteInput!) { deleteApiKey(input: $input) { deletedId userErrors { field message code } } }"
)
UPDATE_PROJECT = """
mutation($input: UpdateProjectInput!) {
  updateProject(input: $input) { project { id name } userErrors { field message code } }
}"""
REVOKE = """
mutation($input: RevokeManagementTokenInput!) {
  revokeManagementToken(input: $input) { managementToken { id status } userErrors { field message code } }
}"""
ROTATE = """
mutation($input: RotateManagementTokenInput!) {
  rotateManagementToken(input: $input) { secret managementToken { id } userErrors { field message code } }
}"""
AUDIT = """
query($after: String) {
  auditEvents(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id action targetId } }
  }
}"""


@pytest_asyncio.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """The app with a connection pool larger than the races (replaces conftest's `api` here)."""
    async with racing_api(database_url) as racing:
        yield racing


async def _race(
    api: Api, database_url: str, calls: list[tuple[str, dict[str, Any]]], token: str
) -> list[dict[str, Any]]:
    """All calls at once; each answer must be data without GraphQL errors (no INTERNAL_SERVER_ERROR)."""
    bodies = await race(database_url, [api.gql(query, variables, token) for query, variables in calls])
    for body in bodies:
        assert "errors" not in body, body
    return [next(iter(body["data"].values())) for body in bodies]


async def _audit(api: Api, owner: Account) -> list[dict[str, Any]]:
    """Every audit event, oldest first."""
    events, after = [], None
    while True:
        page = (await api.ok(AUDIT, {"after": after}, owner.session))["auditEvents"]
        events += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events[::-1]
        after = page["pageInfo"]["endCursor"]


async def _project_deletion_details() -> list[dict[str, Any]]:
    """What each project.deleted event recorded (the API shows no details)."""
    return list(await AuditEvent.filter(action="project.deleted").values_list("details", flat=True))


def _codes(payloads: list[dict[str, Any]]) -> Counter[str]:
    return Counter(p["userErrors"][0]["code"] if p["userErrors"] else "OK" for p in payloads)


async def test_concurrent_deletes_of_one_project_delete_and_audit_it_once(api: Api, database_url: str) -> None:
    # given a project with three keys
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    key_ids = [(await api.create_api_key(owner.session, project_id, f"k{i}"))[0] for i in range(3)]
    # when 32 callers delete it at once
    payloads = await _race(api, database_url, [(DELETE_PROJECT, {"input": {"id": project_id}})] * RACERS, owner.session)
    # then exactly one succeeds, the others are told it is not there
    assert _codes(payloads) == {"OK": 1, "NOT_FOUND": RACERS - 1}
    assert [p["deletedId"] for p in payloads if p["deletedId"]] == [project_id]
    # and the audit log has one deletion of the project and one of each key
    events = await _audit(api, owner)
    assert [e["targetId"] for e in events if e["action"] == "project.deleted"] == [project_id]
    assert sorted(e["targetId"] for e in events if e["action"] == "api_key.deleted") == sorted(key_ids)


async def test_concurrent_deletes_of_one_api_key_delete_and_audit_it_once(api: Api, database_url: str) -> None:
    # given
    owner = await api.sign_up()
    key_id, _ = await api.create_api_key(owner.session, await api.create_project(owner.session))
    # when
    payloads = await _race(api, database_url, [(DELETE_API_KEY, {"input": {"id": key_id}})] * RACERS, owner.session)
    # then
    assert _codes(payloads) == {"OK": 1, "NOT_FOUND": RACERS - 1}
    events = await _audit(api, owner)
    assert [e["targetId"] for e in events if e["action"] == "api_key.deleted"] == [key_id]


async def test_key_deletes_racing_their_projects_delete_audit_each_key_once(api: Api, database_url: str) -> None:
    # given a project with 8 keys
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    key_ids = [(await api.create_api_key(owner.session, project_id, f"k{i}"))[0] for i in range(8)]
    # when every key is deleted three times over while the project is deleted too
    calls = [(DELETE_API_KEY, {"input": {"id": key_id}}) for key_id in key_ids * 3]
    calls.insert(len(calls) // 2, (DELETE_PROJECT, {"input": {"id": project_id}}))
    payloads = await _race(api, database_url, calls, owner.session)
    # then the project delete succeeded and every answer is a success or NOT_FOUND
    assert set(_codes(payloads)) <= {"OK", "NOT_FOUND"}
    assert payloads[len(calls) // 2]["deletedId"] == project_id
    # and each key's deletion is audited exactly once, by whichever delete got it
    events = await _audit(api, owner)
    deleted = Counter(e["targetId"] for e in events if e["action"] == "api_key.deleted")
    assert deleted == Counter(key_ids)
    by_key_delete = sum(1 for p in payloads if p["deletedId"] and p["deletedId"] != project_id)
    [details] = await _project_deletion_details()
    assert by_key_delete + details["deletedApiKeys"] == len(key_ids)


async def test_key_creations_racing_their_projects_delete_either_win_before_it_or_are_not_found(
    api: Api, database_url: str
) -> None:
    # given
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    # when 31 key creations race one delete of their project
    calls: list[tuple[str, dict[str, Any]]] = [
        (CREATE_API_KEY, {"input": {"projectId": project_id, "name": f"racer-{i}"}}) for i in range(RACERS - 1)
    ]
    calls.insert(RACERS // 2, (DELETE_PROJECT, {"input": {"id": project_id}}))
    payloads = await _race(api, database_url, calls, owner.session)
    # then the delete succeeded; each creation returned a secret or NOT_FOUND on projectId
    deleted = payloads.pop(RACERS // 2)
    assert deleted == {"deletedId": project_id, "userErrors": []}
    created = [p for p in payloads if p["secret"]]
    refused = [p["userErrors"] for p in payloads if not p["secret"]]
    assert all(errors == [{**errors[0], "code": "NOT_FOUND", "field": ["projectId"]}] for errors in refused)
    # and every key whose secret was returned was created before the delete, deleted with the
    # project and audited as such, once; the delete counted exactly those
    events = await _audit(api, owner)
    created_ids = sorted(p["apiKey"]["id"] for p in created)
    assert sorted(e["targetId"] for e in events if e["action"] == "api_key.created") == created_ids
    assert sorted(e["targetId"] for e in events if e["action"] == "api_key.deleted") == created_ids
    [project_event] = [e for e in events if e["action"] == "project.deleted"]
    assert [d["deletedApiKeys"] for d in await _project_deletion_details()] == [len(created)]
    positions = {e["id"]: i for i, e in enumerate(events)}
    assert all(positions[e["id"]] < positions[project_event["id"]] for e in events if e["action"] == "api_key.created")
    # and no key outlived its project
    for payload in created:
        answer = (await api.http.post("/v1/keys/verify", json={"key": payload["secret"]})).json()
        assert answer["valid"] is False and answer["code"] == "UNKNOWN_KEY"
    assert (await api.ok("{ apiKeys { totalCount } }", token=owner.session))["apiKeys"]["totalCount"] == 0


ROTATE_API_KEY = """
mutation($input: RotateApiKeyInput!) {
  rotateApiKey(input: $input) { secret apiKey { id } userErrors { field message code } }
}"""


async def test_key_rotations_racing_their_projects_delete_win_before_it_or_find_no_key(
    api: Api, database_url: str
) -> None:
    # given a key
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    key_id, _ = await api.create_api_key(owner.session, project_id)
    # when 31 rotations of it race one delete of its project
    calls: list[tuple[str, dict[str, Any]]] = [(ROTATE_API_KEY, {"input": {"id": key_id}})] * (RACERS - 1)
    calls.insert(RACERS // 2, (DELETE_PROJECT, {"input": {"id": project_id}}))
    payloads = await _race(api, database_url, calls, owner.session)
    # then the delete succeeded; a rotation that lost is told what a deleted key is told, never about a project
    assert payloads.pop(RACERS // 2) == {"deletedId": project_id, "userErrors": []}
    after = await api.gql(ROTATE_API_KEY, {"input": {"id": key_id}}, owner.session)
    gone = after["data"]["rotateApiKey"]["userErrors"]
    assert gone == [{"field": ["id"], "message": "API key not found.", "code": "NOT_FOUND"}]
    assert all(p["userErrors"] in ([], gone) for p in payloads), [p["userErrors"] for p in payloads]
    # and every replacement made before the delete went with the project
    for payload in payloads:
        if payload["secret"]:
            answer = (await api.http.post("/v1/keys/verify", json={"key": payload["secret"]})).json()
            assert answer["code"] == "UNKNOWN_KEY"


async def test_key_creations_after_their_projects_delete_began_are_not_found(api: Api, database_url: str) -> None:
    # given a project whose delete has started (and, on PostgreSQL, is held before it commits)
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    creations = [
        api.gql(CREATE_API_KEY, {"input": {"projectId": project_id, "name": f"late-{i}"}}, owner.session)
        for i in range(RACERS - 1)
    ]
    delete = api.gql(DELETE_PROJECT, {"input": {"id": project_id}}, owner.session)
    # when 31 key creations for it come in
    [deleted, *created] = await race(database_url, creations, first=[delete])
    # then the delete succeeds and every creation is told the project is not there: no secret, no
    # internal error (on main: a foreign-key violation once the delete committed)
    assert deleted == {"data": {"deleteProject": {"deletedId": project_id, "userErrors": []}}}
    for body in created:
        assert "errors" not in body, body
        payload = body["data"]["createApiKey"]
        assert payload["secret"] is None and payload["apiKey"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NOT_FOUND", ["projectId"])]
    assert [d["deletedApiKeys"] for d in await _project_deletion_details()] == [0]


async def test_project_updates_racing_its_delete_happen_before_it_or_are_not_found(api: Api, database_url: str) -> None:
    # given
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    calls: list[tuple[str, dict[str, Any]]] = [
        (UPDATE_PROJECT, {"input": {"id": project_id, "name": f"name-{i}"}}) for i in range(RACERS - 1)
    ]
    calls.insert(RACERS // 2, (DELETE_PROJECT, {"input": {"id": project_id}}))
    # when
    payloads = await _race(api, database_url, calls, owner.session)
    # then
    assert payloads.pop(RACERS // 2)["deletedId"] == project_id
    assert set(_codes(payloads)) <= {"OK", "NOT_FOUND"}
    events = await _audit(api, owner)
    actions = [e["action"] for e in events if e["targetId"] == project_id]
    # every update that answered OK is audited, and before the deletion: none after it
    assert actions.count("project.updated") == _codes(payloads)["OK"]
    assert actions[-1] == "project.deleted" and actions.count("project.deleted") == 1


async def test_rotations_racing_revocations_of_one_token_each_happen_once(api: Api, database_url: str) -> None:
    # given
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="contested")
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(RACERS // 2):
        calls += [(ROTATE, {"input": {"id": token_id}}), (REVOKE, {"input": {"id": token_id}})]
    # when
    payloads = await _race(api, database_url, calls, owner.session)
    rotations, revocations = _codes(payloads[0::2]), _codes(payloads[1::2])
    # then one revocation succeeded; at most one rotation did (none if the revocation came first)
    assert revocations == {"OK": 1, "ALREADY_REVOKED": RACERS // 2 - 1}
    assert rotations["OK"] <= 1 and set(rotations) <= {"OK", "ALREADY_ROTATED", "REVOKED"}
    events = await _audit(api, owner)
    actions = Counter(e["action"] for e in events if e["targetId"] == token_id)
    assert actions["management_token.revoked"] == 1
    assert actions["management_token.rotated"] == rotations["OK"]
