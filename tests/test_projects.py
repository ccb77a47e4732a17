"""Projects: create, rename/describe, delete (with its API keys), list as a Relay connection."""

import pytest

from tests.support.api import CREATE_PROJECT, Api

UPDATE = """
mutation($input: UpdateProjectInput!) {
  updateProject(input: $input) { project { id name description } userErrors { field message code } }
}"""
DELETE = (
    "mutation($input: DeleteInput!) { deleteProject(input: $input) { deletedId userErrors { field message code } } }"
)
LIST = """
query($first: Int, $after: String) {
  projects(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name description } }
  }
}"""
AUDIT = "{ auditEvents(first: 100) { edges { node { action targetType targetId } } } }"
VERIFY = "/v1/keys/verify"


async def test_create_rename_describe_and_delete(api: Api) -> None:
    # given
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session, "Website")
    # when renamed and described
    data = await api.ok(
        UPDATE, {"input": {"id": project_id, "name": "Web", "description": "Public site"}}, owner.session
    )
    assert data["updateProject"]["project"] == {"id": project_id, "name": "Web", "description": "Public site"}
    # when only the name changes the description stays; null clears it
    data = await api.ok(UPDATE, {"input": {"id": project_id, "name": "Web 2"}}, owner.session)
    assert data["updateProject"]["project"]["description"] == "Public site"
    data = await api.ok(UPDATE, {"input": {"id": project_id, "description": None}}, owner.session)
    assert data["updateProject"]["project"] == {"id": project_id, "name": "Web 2", "description": None}
    # when deleted
    data = await api.ok(DELETE, {"input": {"id": project_id}}, owner.session)
    assert data["deleteProject"]["deletedId"] == project_id
    # then
    assert (await api.ok(LIST, token=owner.session))["projects"]["totalCount"] == 0
    again = await api.gql(DELETE, {"input": {"id": project_id}}, owner.session)
    assert again["data"]["deleteProject"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_deleting_a_project_deletes_its_keys_and_says_so_in_the_audit_log(api: Api) -> None:
    # given
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    key_ids, secrets = zip(
        *[await api.create_api_key(owner.session, project_id, f"k{i}") for i in range(2)], strict=True
    )
    # when
    await api.ok(DELETE, {"input": {"id": project_id}}, owner.session)
    # then the keys are gone and invalid at once
    for secret in secrets:
        assert (await api.http.post(VERIFY, json={"key": secret})).json()["code"] == "UNKNOWN_KEY"
    listed = await api.ok("{ apiKeys { totalCount } }", token=owner.session)
    assert listed["apiKeys"]["totalCount"] == 0
    events = [e["node"] for e in (await api.ok(AUDIT, token=owner.session))["auditEvents"]["edges"]]
    assert events[0] == {"action": "project.deleted", "targetType": "Project", "targetId": project_id}
    deleted_keys = {e["targetId"] for e in events if e["action"] == "api_key.deleted"}
    assert deleted_keys == set(key_ids)


async def test_list_pages_with_cursors(api: Api) -> None:
    # given
    owner = await api.sign_up()
    names = [f"p{i}" for i in range(5)]
    for name in names:
        await api.create_project(owner.session, name)
    # when paging two at a time
    seen, after, pages = [], None, 0
    while True:
        page = (await api.ok(LIST, {"first": 2, "after": after}, owner.session))["projects"]
        assert page["totalCount"] == 5
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [edge["node"]["name"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    # then
    assert seen == names and pages == 3


@pytest.mark.parametrize(("first", "after"), [(101, None), (-1, None), (10, "bm90IGEgY3Vyc29y"), (10, "%%%")])
async def test_bad_page_arguments_are_clean_errors(api: Api, first: int, after: str | None) -> None:
    owner = await api.sign_up()
    body = await api.gql(LIST, {"first": first, "after": after}, owner.session)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("name", "code"), [("", "BLANK"), ("   ", "BLANK"), ("x" * 101, "TOO_LONG"), ("tab\tname", "INVALID")]
)
async def test_project_name_user_errors(api: Api, name: str, code: str) -> None:
    owner = await api.sign_up()
    body = await api.gql(CREATE_PROJECT, {"input": {"name": name}}, owner.session)
    assert body["data"]["createProject"] == {
        "project": None,
        "userErrors": [
            {"field": ["name"], "message": body["data"]["createProject"]["userErrors"][0]["message"], "code": code}
        ],
    }


async def test_update_with_nothing_or_unknown_id(api: Api) -> None:
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    nothing = await api.gql(UPDATE, {"input": {"id": project_id}}, owner.session)
    assert nothing["data"]["updateProject"]["userErrors"][0]["code"] == "NOTHING_TO_UPDATE"
    for bad_id in ["UHJvamVjdDo5OTk5OQ==", "garbage", "QXBpS2V5OjE="]:
        body = await api.gql(UPDATE, {"input": {"id": bad_id, "name": "x"}}, owner.session)
        assert body["data"]["updateProject"]["userErrors"][0]["code"] == "NOT_FOUND"
