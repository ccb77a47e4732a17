"""Revocation across processes: two `keyward serve` processes on one database (and Redis, when
the run has one). What one process revokes or deletes, the other refuses on its very next request.

The database is the run's test database: PostgreSQL from KEYWARD_TEST_DATABASE_URL, or the run's
SQLite file (two processes share it the way two workers on one host would).
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from tests.support.api import Account, Api
from tests.support.serve_processes import CLIENT_LIMITS, Server, serve_many

pytestmark = pytest.mark.asyncio(loop_scope="module")

VIEWER = "{ viewer { kind } }"
REVOKE = """mutation($id: ID!) { revokeManagementToken(input: {id: $id}) {
  managementToken { status } userErrors { code } } }"""
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { deletedId userErrors { code } } }"
DELETE_PROJECT = "mutation($id: ID!) { deleteProject(input: {id: $id}) { deletedId userErrors { code } } }"
LOG_OUT = "mutation { logOut { ok } }"


@dataclass
class Pair:
    a: Api
    b: Api
    owner: Account

    def both_ways(self) -> list[tuple[Api, Api]]:
        return [(self.a, self.b), (self.b, self.a)]


@pytest.fixture(scope="module", params=["no-redis", "redis"])
def servers(request: pytest.FixtureRequest, database_url: str) -> Iterator[tuple[Server, Server]]:
    redis_url = request.getfixturevalue("redis_server_url") if request.param == "redis" else None
    with serve_many(2, database_url, redis_url) as (first, second):
        yield first, second


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(servers: tuple[Server, Server]) -> AsyncIterator[Pair]:
    first, second = servers
    async with (
        httpx.AsyncClient(base_url=first.base_url, limits=CLIENT_LIMITS, timeout=30) as a,
        httpx.AsyncClient(base_url=second.base_url, limits=CLIENT_LIMITS, timeout=30) as b,
    ):
        api_a, api_b = Api(a), Api(b)
        yield Pair(api_a, api_b, await api_a.sign_up())


async def _accepted(api: Api, token: str) -> bool:
    response = await api.post(VIEWER, token=token)
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def test_a_token_revoked_in_one_process_is_refused_by_the_other(pair: Pair) -> None:
    for here, there in pair.both_ways():
        # given: a token both processes accept
        token_id, token = await here.create_token(pair.owner, ["VIEW_PROJECTS"])
        assert await _accepted(here, token) and await _accepted(there, token)
        # when
        revoked = await here.ok(REVOKE, {"id": token_id}, pair.owner.session)
        # then
        assert revoked["revokeManagementToken"]["managementToken"]["status"] == "REVOKED"
        response = await there.post(VIEWER, token=token)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_session_logged_out_in_one_process_is_refused_by_the_other(pair: Pair) -> None:
    for here, there in pair.both_ways():
        # given
        account = await here.sign_up()
        assert await _accepted(there, account.session)
        # when
        await here.ok(LOG_OUT, token=account.session)
        # then
        assert not await _accepted(there, account.session)


async def _verify(api: Api, key: str) -> dict[str, object]:
    response = await api.http.post("/v1/keys/verify", json={"key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_api_key_deleted_in_one_process_is_invalid_in_the_other(pair: Pair) -> None:
    project = await pair.a.create_project(pair.owner.session)
    for here, there in pair.both_ways():
        # given
        key_id, key = await here.create_api_key(pair.owner.session, project)
        assert (await _verify(there, key))["valid"] is True
        # when
        await here.ok(DELETE_KEY, {"id": key_id}, pair.owner.session)
        # then
        assert await _verify(there, key) == {
            "valid": False,
            "code": "UNKNOWN_KEY",
            "message": "The API key is unknown or has been deleted.",
        }


async def test_keys_of_a_project_deleted_in_one_process_are_invalid_in_the_other(pair: Pair) -> None:
    for here, there in pair.both_ways():
        # given
        project = await here.create_project(pair.owner.session)
        _, key = await here.create_api_key(pair.owner.session, project)
        assert (await _verify(there, key))["valid"] is True
        # when
        await here.ok(DELETE_PROJECT, {"id": project}, pair.owner.session)
        # then
        assert (await _verify(there, key))["code"] == "UNKNOWN_KEY"


MEMBERS = "{ members(first: 100) { edges { node { id email } } } }"
REMOVE_MEMBER = "mutation($id: ID!) { removeMember(input: {id: $id}) { deletedId userErrors { code } } }"
CHANGE_ROLE = """mutation($id: ID!) { changeMemberRole(input: {id: $id, role: MEMBER}) {
  member { role } userErrors { code } } }"""


async def _member_id(api: Api, owner: Account, email: str) -> str:
    edges = (await api.ok(MEMBERS, token=owner.session))["members"]["edges"]
    return str(next(e["node"]["id"] for e in edges if e["node"]["email"] == email))


async def test_a_person_removed_in_one_process_is_refused_by_the_other(pair: Pair) -> None:
    for here, there in pair.both_ways():
        # given: an ADMIN signed in on the other process
        admin = await here.add_member(pair.owner, "ADMIN")
        assert await _accepted(there, admin.session)
        # when
        await here.ok(REMOVE_MEMBER, {"id": await _member_id(here, pair.owner, admin.email)}, pair.owner.session)
        # then: their very next request, on the other process, is refused
        assert not await _accepted(there, admin.session)


async def test_a_person_demoted_in_one_process_loses_the_role_on_the_other(pair: Pair) -> None:
    for here, there in pair.both_ways():
        # given: an ADMIN who reads the audit log through the other process
        admin = await here.add_member(pair.owner, "ADMIN")
        audit = "{ auditEvents(first: 1) { totalCount } }"
        assert "errors" not in (await there.gql(audit, token=admin.session))
        # when
        await here.ok(CHANGE_ROLE, {"id": await _member_id(here, pair.owner, admin.email)}, pair.owner.session)
        # then: the session that carried the ADMIN role is refused on the other process
        response = await there.post(audit, token=admin.session)
        assert response.status_code == 401


ROTATE = "mutation($id: ID!) { rotateManagementToken(input: {id: $id}) { secret userErrors { code } } }"
CREATE_PROJECT = (
    "mutation($name: String!) { createProject(input: {name: $name}) { project { id } userErrors { code } } }"
)


async def test_changes_racing_through_both_processes_each_happen_once_and_none_is_refused(pair: Pair) -> None:
    _, maker = await pair.a.create_token(pair.owner, ["MANAGE_PROJECTS"])
    for round_ in range(4):
        # given a token to contend for
        token_id, _ = await pair.a.create_token(pair.owner, ["VIEW_PROJECTS"])
        # when 32 changes arrive at once, half through each process (on SQLite: two writers on one file)
        calls = []
        for i in range(8):
            for api in (pair.a, pair.b):
                calls.append(api.post(ROTATE if i % 2 else REVOKE, {"id": token_id}, pair.owner.session))
                calls.append(api.post(CREATE_PROJECT, {"name": f"raced-{round_}-{i}"}, maker))
        responses = await asyncio.gather(*calls)
        # then every one was answered (a writer waits for the other process's write, as for its own process's)
        refused = [r.text for r in responses if r.status_code != 200]
        assert refused == [], refused
        bodies = [r.json() for r in responses]
        assert all("errors" not in body for body in bodies), bodies
        revocations = [b["data"]["revokeManagementToken"] for b in bodies if "revokeManagementToken" in b["data"]]
        assert sum(not r["userErrors"] for r in revocations) == 1
        created = [b["data"]["createProject"] for b in bodies if "createProject" in b["data"]]
        assert all(c["project"] for c in created)
