"""GraphQL over HTTP as its specification says: the graphql-http audit with no warning, and each of
the rules it checks (and the ones it does not) seen through the ASGI app."""

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from app.graphql.media_types import response_media_type
from tests.support.api import PASSWORD, Api
from tests.support.required_tools import tool_missing
from tests.support.serve_processes import serve

AUDIT = Path(__file__).resolve().parent / "graphql_over_http"
GRAPHQL_RESPONSE = "application/graphql-response+json"
SIGN_UP = 'mutation { signUp(input: {email: "get@example.com", password: "%s", workspaceName: "G"}) { sessionToken } }'


def test_the_graphql_http_audit_passes_without_a_warning(database_url: str) -> None:
    # given node and the pinned graphql-http package (scripts/install-test-tools installs both)
    node = shutil.which("node")
    if node is None:
        tool_missing("node", "`apt-get install nodejs npm`")
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        tool_missing("graphql-http", "`npm ci --prefix tests/graphql_over_http` (scripts/install-test-tools)")
    # when the audit runs against a real `keyward serve`
    with serve(database_url) as server:
        done = subprocess.run(  # noqa: S603
            [node, str(AUDIT / "audit.mjs"), f"{server.base_url}/graphql"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    # then every audit is ok: no error, no warning, no notice
    not_ok = [r for r in results if r["status"] != "ok"]
    assert not_ok == [], json.dumps(not_ok, indent=2)
    assert len(results) >= 61


async def _post(api: Api, body: object, accept: str | None) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return await api.http.post("/graphql", json=body, headers=headers)


FAILURES_BEFORE_EXECUTION = {
    "parse": {"query": "{ viewer { kind "},
    "validation": {"query": "{ viewer { noSuchField } }"},
    "variable coercion": {"query": "query ($n: Int!) { viewer { kind } }", "variables": {"n": "not a number"}},
    "query depth": {"query": "{ viewer { " + "workspace { " * 13 + "id" + " }" * 14},
}


@pytest.mark.parametrize("failure", FAILURES_BEFORE_EXECUTION)
async def test_a_request_that_never_ran_is_a_400_without_data_for_graphql_response_json(api: Api, failure: str) -> None:
    # when
    response = await _post(api, FAILURES_BEFORE_EXECUTION[failure], GRAPHQL_RESPONSE)
    # then
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body and body["errors"]


@pytest.mark.parametrize("accept", ["application/json", None, "*/*", "text/plain"])
@pytest.mark.parametrize("failure", FAILURES_BEFORE_EXECUTION)
async def test_application_json_clients_keep_200_with_data_null(api: Api, failure: str, accept: str | None) -> None:
    # when
    response = await _post(api, FAILURES_BEFORE_EXECUTION[failure], accept)
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None and response.json()["errors"]


async def test_an_operation_that_ran_is_a_200_with_data_also_when_a_field_fails(api: Api) -> None:
    # when: an anonymous caller asks for a protected field (an error at a path: the operation ran)
    response = await _post(api, {"query": "{ projects(first: 1) { totalCount } }"}, GRAPHQL_RESPONSE)
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" in body and body["errors"][0]["path"] == ["projects"]
    ok = await _post(api, {"query": "{ __typename }"}, f"{GRAPHQL_RESPONSE}, application/json")
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"1", "application/json"),
        (b'{"query": "{ __typename }"}', "text/plain"),
    ],
)
async def test_bad_requests_follow_the_media_type_too(api: Api, body: bytes, content_type: str) -> None:
    # when
    new_style = await api.http.post(
        "/graphql", content=body, headers={"content-type": content_type, "accept": GRAPHQL_RESPONSE}
    )
    old_style = await api.http.post("/graphql", content=body, headers={"content-type": content_type})
    # then
    assert new_style.status_code == old_style.status_code == 400
    assert new_style.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in new_style.json() and new_style.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert old_style.headers["content-type"] == "application/json"
    assert old_style.json()["data"] is None and old_style.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_mutation_over_get_is_refused_with_405_and_does_not_run(api: Api, accept: str) -> None:
    # when
    response = await api.http.get("/graphql", params={"query": SIGN_UP % PASSWORD}, headers={"accept": accept})
    # then
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    # and nothing happened: the same sign-up over POST is the first one
    signed_up = await api.post(SIGN_UP % PASSWORD)
    assert signed_up.json()["data"]["signUp"]["sessionToken"].startswith("kws_")


async def test_queries_over_get_still_run(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};charset=utf-8, application/json;charset=utf-8", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0.9, application/json;q=0.8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=oops", GRAPHQL_RESPONSE),
        ("text/html", "application/json"),
        ("garbage,,;;", "application/json"),
    ],
)
def test_response_media_type_negotiation(accept: str | None, chosen: str) -> None:
    assert response_media_type(accept) == chosen


TWO_OPERATIONS = "mutation Out { logOut { __typename } } query Me { viewer { kind } }"


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_document_of_several_operations_without_an_operation_name_runs_none(api: Api, accept: str) -> None:
    # given a signed-in person
    owner = await api.sign_up()
    signed_in = {"authorization": f"Bearer {owner.session}", "accept": accept}
    # when a document holds two operations and the request names neither (the specification: a request error)
    response = await api.http.post("/graphql", json={"query": TWO_OPERATIONS}, headers=signed_in)
    # then it is refused before anything runs: the first operation (a log-out) did not
    assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
    [error] = response.json()["errors"]
    assert error["message"] == "Must provide operation name if query contains multiple operations."
    assert response.json().get("data") is None
    # and naming one runs that one only
    named = await api.http.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "Me"}, headers=signed_in)
    assert named.json() == {"data": {"viewer": {"kind": "USER"}}}
    over_get = await api.http.get("/graphql", params={"query": TWO_OPERATIONS}, headers=signed_in)
    assert over_get.json()["errors"][0]["message"] == error["message"]
    assert (await api.gql("{ viewer { kind } }", token=owner.session))["data"] == {"viewer": {"kind": "USER"}}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"variables": "[]"}, "The GraphQL operation's `variables` must be an object or null, if provided."),
        ({"variables": "1"}, "The GraphQL operation's `variables` must be an object or null, if provided."),
        ({"extensions": "[1]"}, "The GraphQL operation's `extensions` must be an object or null, if provided."),
        ({"variables": "{"}, "The `variables` parameter is not JSON."),
        ({"extensions": "x"}, "The `extensions` parameter is not JSON."),
    ],
)
async def test_get_parameters_that_are_not_objects_are_named_as_such(
    api: Api, params: dict[str, str], message: str
) -> None:
    # when a GET request's variables or extensions are JSON of another kind, or no JSON
    response = await api.http.get("/graphql", params={"query": "{ __typename }", **params})
    # then the answer says what is wrong with that parameter (there is no body, and nothing was batched)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]


@pytest.mark.parametrize("operation_name", [5, True, {}, ["a"]])
async def test_an_operation_name_that_is_not_a_string_is_named_as_such(api: Api, operation_name: object) -> None:
    # when the body's operationName is JSON of another kind than a string
    response = await api.http.post("/graphql", json={"query": "{ __typename }", "operationName": operation_name})
    # then the answer says so, as for query and variables, without a Python rendering of the value
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "The GraphQL operation's `operationName` must be a string or null, if provided.",
            "extensions": {"code": "BAD_REQUEST"},
        }
    ]
