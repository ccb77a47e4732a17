"""Two workspaces cannot see or touch each other's projects, keys, tokens or audit events."""

from tests.helpers import Account, Api

NODE = "query($id: ID!) { node(id: $id) { id } }"
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


async def test_ids_of_another_workspace_behave_like_unknown_ids(api: Api) -> None:
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


async def test_a_management_token_stays_in_its_workspace(api: Api) -> None:
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
