"""API keys: created under a project (value shown once), listed, deleted, verified by data-plane services."""

from app.security import tokens
from tests.support.api import CREATE_API_KEY, Api

VERIFY = "/v1/keys/verify"
LIST = """
query($projectId: ID) {
  apiKeys(projectId: $projectId) {
    totalCount edges { node { id name keyPrefix createdAt lastUsedAt createdBy { kind label } project { id } } }
  }
}"""
PROJECT_KEYS = "query($id: ID!) { node(id: $id) { ... on Project { apiKeys { totalCount edges { node { name } } } } } }"
DELETE = (
    "mutation($input: DeleteInput!) { deleteApiKey(input: $input) { deletedId userErrors { field message code } } }"
)


async def test_create_list_verify_delete(api: Api) -> None:
    # given
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    # when
    data = await api.ok(CREATE_API_KEY, {"input": {"projectId": project_id, "name": "checkout"}}, owner.session)
    payload = data["createApiKey"]
    secret, key = payload["secret"], payload["apiKey"]
    # then the value is a well-formed kwk_ token, shown once, recognisable by its prefix
    assert tokens.parse(secret).kind is tokens.TokenKind.API_KEY
    assert secret.startswith(key["keyPrefix"]) and len(key["keyPrefix"]) < len(secret)
    assert key["createdBy"] == {"kind": "USER", "id": key["createdBy"]["id"], "label": owner.email}
    assert key["lastUsedAt"] is None and key["project"] == {"id": project_id, "name": "Website"}
    listed = (await api.ok(LIST, {"projectId": project_id}, owner.session))["apiKeys"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["keyPrefix"] == key["keyPrefix"]
    assert secret not in str(listed)
    nested = await api.ok(PROJECT_KEYS, {"id": project_id}, owner.session)
    assert nested["node"]["apiKeys"]["edges"] == [{"node": {"name": "checkout"}}]
    # and data-plane services can verify it
    verified = (await api.http.post(VERIFY, json={"key": secret})).json()
    assert verified == {
        "valid": True,
        "keyId": key["id"],
        "projectId": project_id,
        "workspaceId": owner.workspace_id,
        "expiresAt": None,
        "meta": None,
    }
    # when deleted, it is invalid at once
    assert (await api.ok(DELETE, {"input": {"id": key["id"]}}, owner.session))["deleteApiKey"]["deletedId"] == key["id"]
    assert (await api.http.post(VERIFY, json={"key": secret})).json()["code"] == "UNKNOWN_KEY"
    again = await api.gql(DELETE, {"input": {"id": key["id"]}}, owner.session)
    assert again["data"]["deleteApiKey"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_verify_refuses_bad_input_and_other_kinds(api: Api) -> None:
    owner = await api.sign_up()
    _, management_secret = await api.create_token(owner, ["VIEW_PROJECTS"])
    valid = tokens.generate(tokens.TokenKind.API_KEY).value
    cases = {
        valid: "UNKNOWN_KEY",
        valid[:-1] + ("a" if valid[-1] != "a" else "b"): "MALFORMED",
        valid[:20]: "MALFORMED",
        "": "MALFORMED",
        management_secret: "NOT_AN_API_KEY",
        owner.session: "NOT_AN_API_KEY",
    }
    for value, code in cases.items():
        response = await api.http.post(VERIFY, json={"key": value})
        body = response.json()
        assert (response.status_code, body["valid"], body["code"]) == (200, False, code)
        assert body["message"]
        if value:
            assert value not in body["message"]
    for body in [b"not json", b"[]", b'{"key": 5}', b"{}"]:
        response = await api.http.post(VERIFY, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and response.json()["code"] == "BAD_REQUEST"


async def test_create_api_key_user_errors(api: Api) -> None:
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    unknown = await api.gql(CREATE_API_KEY, {"input": {"projectId": "UHJvamVjdDo5OTk5", "name": "x"}}, owner.session)
    assert unknown["data"]["createApiKey"]["userErrors"] == [
        {"field": ["projectId"], "message": "Project not found.", "code": "NOT_FOUND"}
    ]
    assert unknown["data"]["createApiKey"]["secret"] is None
    blank = await api.gql(CREATE_API_KEY, {"input": {"projectId": project_id, "name": " "}}, owner.session)
    assert blank["data"]["createApiKey"]["userErrors"][0]["code"] == "BLANK"
    long = await api.gql(CREATE_API_KEY, {"input": {"projectId": project_id, "name": "k" * 101}}, owner.session)
    assert long["data"]["createApiKey"]["userErrors"][0]["code"] == "TOO_LONG"
    assert (await api.ok(LIST, token=owner.session))["apiKeys"]["totalCount"] == 0


async def test_api_key_is_refused_by_the_management_api(api: Api) -> None:
    owner = await api.sign_up()
    _, secret = await api.create_api_key(owner.session, await api.create_project(owner.session))
    response = await api.post("{ viewer { kind } }", token=secret)
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and "management token" in error["message"]
    assert secret not in response.text


async def test_keys_created_by_a_management_token_name_it_as_creator(api: Api) -> None:
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    token_id, token = await api.create_token(owner, ["CREATE_API_KEY"], name="ci-pipeline")
    body = await api.gql(CREATE_API_KEY, {"input": {"projectId": project_id, "name": "from-ci"}}, token)
    created_by = body["data"]["createApiKey"]["apiKey"]["createdBy"]
    assert created_by["kind"] == "MANAGEMENT_TOKEN" and created_by["id"] == token_id
    assert created_by["label"].startswith("ci-pipeline (kwm_") and token not in created_by["label"]
    # the token may create but not view projects: the nested field is denied, the key is still created
    assert body["data"]["createApiKey"]["apiKey"]["project"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["createApiKey", "apiKey", "project"], "FORBIDDEN")
    ]


async def test_listing_by_an_id_that_is_not_a_project_finds_nothing_and_checks_the_page_as_usual(api: Api) -> None:
    # given a workspace with a key, and IDs that name no project of it
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    await api.create_api_key(owner.session, project_id)
    paging = "query($p: ID, $first: Int, $after: String) { apiKeys(projectId: $p, first: $first, after: $after) { totalCount edges { node { id } } pageInfo { hasPreviousPage } } }"
    not_projects = ["garbage", owner.workspace_id, "UHJvamVjdDo5OTk5"]  # not an ID, another type, no such project
    for other in not_projects:
        # when listed by it
        listed = (await api.ok(paging, {"p": other}, owner.session))["apiKeys"]
        # then nothing is found
        assert listed == {"totalCount": 0, "edges": [], "pageInfo": {"hasPreviousPage": False}}
        # and a bad page size or cursor is refused exactly as for a real project
        for variables in ({"first": 101}, {"after": "not a cursor"}):
            refused = await api.gql(paging, {"p": other, **variables}, owner.session)
            real = await api.gql(paging, {"p": project_id, **variables}, owner.session)
            assert refused["errors"] == real["errors"] and refused["data"] == real["data"] is None
