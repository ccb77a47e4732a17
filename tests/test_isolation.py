"""Two workspaces that cannot see or touch each other, for every node type and every field that
takes an ID (found in the schema): an ID of the other workspace, a deleted ID and an ID that never
existed get the very same answer, and nothing of the other workspace shows anywhere.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from app.graphql.ids import to_global_id
from tests.support.api import Account, Api
from tests.support.populated_workspace import World, build_world
from tests.support.running_app import running_api
from tests.support.schema_calls import (
    SchemaField,
    all_fields,
    build_call,
    deep_selection,
    node_types,
    object_type,
    takes_id,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

FOREIGN = "FOREIGNMARK"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
VERIFY_TOKEN = "{ viewer { kind } }"
NEVER_EXISTED_PK = 2**62


@dataclass
class Worlds:
    home: World
    foreign: World
    deleted: dict[str, str]

    def callers(self) -> dict[str, str]:
        """Home callers: an OWNER session (sees every type) and a token with all five permissions."""
        return {"owner session": self.home.owner.session, "full token": self.full_token}

    full_token: str = ""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def worlds(database_url: str) -> AsyncIterator[Worlds]:
    async with running_api(database_url) as api:
        home = await build_world(api, "Home")
        foreign = await build_world(api, f"{FOREIGN} workspace")
        for type_name in node_types():
            await foreign.one(type_name)
        deleted = {}
        for type_name in node_types():
            delete = f"delete{type_name}"
            if delete in object_type("Mutation").fields:
                victim = await home.fresh(type_name)
                await api.ok(
                    f"mutation($id: ID!) {{ {delete}(input: {{id: $id}}) {{ userErrors {{ code }} }} }}",
                    {"id": victim},
                    home.owner.session,
                )
                deleted[type_name] = victim
        _, full_token = await api.create_token(
            home.owner,
            ["VIEW_PROJECTS", "MANAGE_PROJECTS", "VIEW_API_KEYS", "DELETE_API_KEYS", "CREATE_API_KEY"],
        )
        yield Worlds(home, foreign, deleted, full_token)


def _outsiders(worlds: Worlds, type_name: str) -> dict[str, str]:
    ids = {
        "other workspace": worlds.foreign.existing[type_name],
        "never existed": to_global_id(type_name, NEVER_EXISTED_PK),
    }
    if type_name in worlds.deleted:
        ids["deleted"] = worlds.deleted[type_name]
    return ids


@pytest.mark.parametrize("type_name", node_types())
async def test_node_of_another_workspace_is_not_found(worlds: Worlds, type_name: str) -> None:
    for caller, token in worlds.callers().items():
        answers = {}
        for origin, node_id in _outsiders(worlds, type_name).items():
            # when
            answers[origin] = (await worlds.home.api.post(NODE, {"id": node_id}, token)).json()
        # then: all the same; for a caller allowed to see the type, plainly nothing
        assert len({json.dumps(a, sort_keys=True) for a in answers.values()}) == 1, (caller, answers)
        answer = answers["never existed"]
        assert answer["data"] == {"node": None}, (caller, answer)
        assert FOREIGN not in json.dumps(answer)


def _fields_taking_ids() -> list[SchemaField]:
    return [
        f
        for f in all_fields()
        if f.type_name in ("Query", "Mutation")
        and f.name != "node"
        and any(takes_id(arg.type) for arg in f.definition.args.values())
    ]


@pytest.mark.parametrize("target", _fields_taking_ids(), ids=lambda f: f.label)
async def test_every_field_taking_an_id_treats_other_workspaces_as_not_found(
    worlds: Worlds, target: SchemaField
) -> None:
    for caller, token in worlds.callers().items():
        answers: dict[str, Any] = {}
        for origin in ("other workspace", "never existed", "deleted"):
            # given: the same call, with the ID (of whatever type it takes) from each origin
            async def outsider(type_name: str, origin: str = origin) -> str:
                ids = _outsiders(worlds, type_name)
                return ids.get(origin, ids["never existed"])

            call = await build_call(target, outsider, optional_ids=True)
            # when
            answers[origin] = (await worlds.home.api.post(call.document, token=token)).json()
        # then
        texts = {origin: json.dumps(a, sort_keys=True) for origin, a in answers.items()}
        assert len(set(texts.values())) == 1, (target.label, caller, answers)
        assert FOREIGN not in texts["other workspace"]
        answer = answers["never existed"]
        errors = answer.get("errors") or []
        if errors:  # refused before any lookup (a token on a role-only field)
            assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}, answer
            continue
        value = answer["data"][target.name]
        if "userErrors" in value:
            assert [e["code"] for e in value["userErrors"]] == ["NOT_FOUND"], answer
        else:
            assert value["totalCount"] == 0, answer


async def test_the_other_workspace_is_untouched_after_all_attempts(worlds: Worlds) -> None:
    # given
    foreign, api = worlds.foreign, worlds.foreign.api
    # when
    projects = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Project { name } } }",
        {"id": foreign.project_id},
        foreign.owner.session,
    )
    key = await api.http.post("/v1/keys/verify", json={"key": foreign.api_key_secret})
    token = await api.post(VERIFY_TOKEN, token=foreign.token_secret)
    # then
    assert projects["node"] == {"name": f"{FOREIGN} workspace website"}
    assert key.json()["valid"] is True
    assert token.status_code == 200 and token.json()["data"]["viewer"]["kind"] == "MANAGEMENT_TOKEN"


def _list_fields() -> list[SchemaField]:
    """Root queries that list objects (a connection: `edges` and `totalCount`)."""
    return [f for f in all_fields() if f.type_name == "Query" and "totalCount" in getattr(_named(f), "fields", {})]


def _named(field: SchemaField) -> Any:
    from graphql import get_named_type

    return get_named_type(field.definition.type)


async def _snapshot(worlds: Worlds) -> dict[str, Any]:
    answers = {}
    for target in [*_list_fields(), SchemaField("Query", "viewer", None)]:
        document = f"{{ {target.name} {deep_selection(target.definition.type, 4)} }}"
        answers[target.name] = (await worlds.home.api.post(document, token=worlds.home.owner.session)).json()
    return answers


async def test_lists_and_counts_show_nothing_of_the_other_workspace(worlds: Worlds) -> None:
    # given: what the home workspace sees
    before = await _snapshot(worlds)
    # when: the other workspace is busy
    foreign = worlds.foreign
    project = await foreign.fresh("Project")
    await foreign.api.create_api_key(foreign.owner.session, project, f"{FOREIGN} key")
    await foreign.fresh("ManagementToken")
    await foreign.fresh("StaleTokenReport")
    after = await _snapshot(worlds)
    # then: the home workspace sees exactly the same, and no name, email, ID or prefix of the other
    assert after == before
    text = json.dumps(after)
    assert "errors" not in text, after
    outsiders = [
        FOREIGN,
        foreign.owner.email,
        foreign.admin.email,
        foreign.member.email,
        *foreign.existing.values(),
        project,
    ]
    leaked = [value for value in outsiders if value in text]
    assert not leaked, leaked


COUNTS = "{ projects { totalCount } apiKeys { totalCount } managementTokens { totalCount } auditEvents { totalCount edges { node { targetId actor { label } } } } }"


async def _populate(api: Api, name: str) -> tuple[Account, dict[str, str]]:
    owner = await api.sign_up(workspace=name)
    project_id = await api.create_project(owner.session, f"{name}-project")
    key_id, _ = await api.create_api_key(owner.session, project_id, f"{name}-key")
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name=f"{name}-token")
    events = await api.ok("{ auditEvents(first: 1) { edges { node { id } } } }", token=owner.session)
    return owner, {
        "project": project_id,
        "key": key_id,
        "token": token_id,
        "workspace": owner.workspace_id,
        "event": events["auditEvents"]["edges"][0]["node"]["id"],
    }


async def test_ids_of_another_workspace_behave_like_unknown_ids(worlds: Worlds) -> None:
    api = worlds.home.api
    # given
    alice, _ = await _populate(api, "alice")
    bob, bobs = await _populate(api, "bob")
    before = await api.ok(COUNTS, token=bob.session)
    # when alice reads bob's IDs
    for node_id in bobs.values():
        assert (await api.ok(NODE, {"id": node_id}, alice.session)) == {"node": None}
    # when alice tries every mutation that takes an ID
    mutations = {
        "updateProject": (
            'mutation($id: ID!) { updateProject(input: {id: $id, name: "x"}) { userErrors { code message } } }',
            "project",
        ),
        "deleteProject": (
            "mutation($id: ID!) { deleteProject(input: {id: $id}) { userErrors { code message } } }",
            "project",
        ),
        "createApiKey": (
            'mutation($id: ID!) { createApiKey(input: {projectId: $id, name: "x"}) { secret userErrors { code message } } }',
            "project",
        ),
        "deleteApiKey": (
            "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { userErrors { code message } } }",
            "key",
        ),
        "revokeManagementToken": (
            "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code message } } }",
            "token",
        ),
        "rotateManagementToken": (
            "mutation($id: ID!) { rotateManagementToken(input: {id: $id}) { secret userErrors { code message } } }",
            "token",
        ),
    }
    unknown = {
        "project": "UHJvamVjdDo5OTk5OTk=",
        "key": "QXBpS2V5Ojk5OTk5OQ==",
        "token": "TWFuYWdlbWVudFRva2VuOjk5OTk5OQ==",
    }
    for field, (query, kind) in mutations.items():
        foreign = await api.gql(query, {"id": bobs[kind]}, alice.session)
        missing = await api.gql(query, {"id": unknown[kind]}, alice.session)
        # then the answer is exactly the one for an ID that does not exist
        assert foreign == missing, field
        assert foreign["data"][field]["userErrors"][0]["code"] == "NOT_FOUND"
    # and list filters show nothing of bob's
    filtered = await api.ok(
        "query($id: ID) { apiKeys(projectId: $id) { totalCount } }", {"id": bobs["project"]}, alice.session
    )
    assert filtered["apiKeys"]["totalCount"] == 0
    # then bob's workspace is untouched, and alice's lists hold nothing of bob's
    assert await api.ok(COUNTS, token=bob.session) == before
    alices = str(await api.ok(COUNTS, token=alice.session))
    assert "bob" not in alices and all(value not in alices for value in bobs.values())


async def test_a_management_token_stays_in_its_workspace(worlds: Worlds) -> None:
    api = worlds.home.api
    alice, _ = await _populate(api, "alice")
    _, bobs = await _populate(api, "bob")
    _, secret = await api.create_token(alice, ["VIEW_PROJECTS", "VIEW_API_KEYS", "MANAGE_PROJECTS", "DELETE_API_KEYS"])
    listed = await api.ok("{ projects { edges { node { name } } } apiKeys { edges { node { name } } } }", token=secret)
    assert listed == {
        "projects": {"edges": [{"node": {"name": "alice-project"}}]},
        "apiKeys": {"edges": [{"node": {"name": "alice-key"}}]},
    }
    for node_id in (bobs["project"], bobs["key"]):
        assert await api.ok(NODE, {"id": node_id}, secret) == {"node": None}
    deleted = await api.gql(
        "mutation($id: ID!) { deleteProject(input: {id: $id}) { userErrors { code } } }",
        {"id": bobs["project"]},
        secret,
    )
    assert deleted["data"]["deleteProject"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_a_person_in_both_workspaces_sees_only_the_one_of_their_session(worlds: Worlds) -> None:
    """The other workspace's OWNER, invited into this one as a MEMBER: their session here is a MEMBER's of
    this workspace only; what they own elsewhere is as unknown to it as an ID that never existed."""
    # given
    api, home, foreign = worlds.home.api, worlds.home, worlds.foreign
    _, invite_token = await api.invite(home.owner, "MEMBER", foreign.owner.email)
    here = await api.accept(invite_token, password=None, token=foreign.owner.session)
    # when / then: the role of this workspace, whatever they are in the other
    viewer = (await api.ok("{ viewer { role workspace { id } } }", token=here))["viewer"]
    assert viewer == {"role": "MEMBER", "workspace": {"id": home.owner.workspace_id}}
    assert "errors" in await api.gql("{ managementTokens { totalCount } }", token=here)
    for type_name in node_types():
        answers = [
            (await api.post(NODE, {"id": node_id}, here)).json()
            for node_id in (foreign.existing[type_name], to_global_id(type_name, NEVER_EXISTED_PK))
        ]
        assert answers[0] == answers[1], (type_name, answers)
        assert FOREIGN not in json.dumps(answers[0])
    lists = await api.ok("{ projects { totalCount } apiKeys { totalCount } members { totalCount } }", token=here)
    assert FOREIGN not in json.dumps(lists)
    assert lists["projects"]["totalCount"] == 1 and lists["apiKeys"]["totalCount"] == 1
    # and their own session in the other workspace is untouched
    mine = (await api.ok("{ viewer { role workspace { id } } }", token=foreign.owner.session))["viewer"]
    assert mine == {"role": "OWNER", "workspace": {"id": foreign.owner.workspace_id}}
