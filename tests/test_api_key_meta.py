"""An API key's meta: a JSON object of at most 4 KB, shown on the key and returned by verify."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from app.models import ApiKey
from tests.support.api import CREATE_API_KEY, Api
from tests.support.sql_statements import statements

KEY = "query($id: ID!) { node(id: $id) { ... on ApiKey { meta } } }"


def _object_of_size(size: int) -> dict[str, Any]:
    """An object whose canonical JSON is exactly `size` bytes."""
    overhead = len(orjson.dumps({"a": ""}))
    return {"a": "x" * (size - overhead)}


async def _errors(api: Api, session: str, project: str, meta: Any) -> list[tuple[str, list[str]]]:
    body = await api.gql(CREATE_API_KEY, {"input": {"projectId": project, "name": "k", "meta": meta}}, session)
    payload = body["data"]["createApiKey"]
    assert payload["secret"] is None
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_meta_is_stored_as_canonical_json_and_returned_by_verify_and_the_api(api: Api) -> None:
    # given
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    meta = {"plan": "pro", "limits": {"rpm": 600, "burst": 20}, "owners": ["a@example.com"], "trial": False}
    # when
    key_id, key = await api.create_api_key(owner.session, project, meta=meta)
    # then verify returns it, the API shows it, and the column holds it as canonical text (sorted, no spaces)
    assert (await api.http.post("/v1/keys/verify", json={"key": key})).json()["meta"] == meta
    assert (await api.ok(KEY, {"id": key_id}, owner.session))["node"]["meta"] == meta
    stored = (await ApiKey.get()).meta
    assert stored == orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode()


async def test_meta_of_4096_bytes_is_accepted_and_4097_refused(api: Api) -> None:
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    largest = _object_of_size(4096)
    _, key = await api.create_api_key(owner.session, project, meta=largest)
    assert (await api.http.post("/v1/keys/verify", json={"key": key})).json()["meta"] == largest
    assert await _errors(api, owner.session, project, _object_of_size(4097)) == [("META_TOO_LARGE", ["meta"])]


@pytest.mark.parametrize("meta", [["plan", "pro"], "pro", 42, True], ids=["list", "string", "number", "boolean"])
async def test_meta_must_be_an_object(api: Api, meta: Any) -> None:
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    assert await _errors(api, owner.session, project, meta) == [("INVALID_META", ["meta"])]
    assert await ApiKey.all().count() == 0


async def test_an_integer_json_cannot_hold_exactly_is_refused_never_stored_rounded(api: Api) -> None:
    """Sent in variables or written in the document, 2**70 gets the same answer: never a float stored in its place."""
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    # in variables
    assert await _errors(api, owner.session, project, {"account": 2**70}) == [("INVALID_META", ["meta"])]
    # in the document
    inline = f'mutation {{ createApiKey(input: {{projectId: "{project}", name: "k", meta: {{account: {2**70}}}}}) {{'
    body = await api.gql(inline + " secret userErrors { code field } } }", {}, owner.session)
    assert [(e["code"], e["field"]) for e in body["data"]["createApiKey"]["userErrors"]] == [("INVALID_META", ["meta"])]
    assert await ApiKey.all().count() == 0
    # the largest integer JSON holds exactly is kept as it is
    _, key = await api.create_api_key(owner.session, project, meta={"account": 2**64 - 1})
    assert (await api.http.post("/v1/keys/verify", json={"key": key})).json()["meta"] == {"account": 2**64 - 1}


async def test_a_key_without_meta_answers_null(api: Api) -> None:
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    key_id, key = await api.create_api_key(owner.session, project)
    assert (await api.http.post("/v1/keys/verify", json={"key": key})).json()["meta"] is None
    assert (await api.ok(KEY, {"id": key_id}, owner.session))["node"]["meta"] is None


async def test_verify_of_a_key_with_meta_and_expiry_is_one_statement(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The expiry and the metadata come with the one lookup's row: no statement more than a bare key costs."""
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    in_a_day = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    _, key = await api.create_api_key(owner.session, project, meta={"plan": "pro"}, expiresAt=in_a_day)
    with statements(monkeypatch) as seen:
        answer = (await api.http.post("/v1/keys/verify", json={"key": key})).json()
    assert answer["meta"] == {"plan": "pro"} and answer["expiresAt"] is not None
    assert len(seen) == 1 and "FROM api_key" in seen[0], seen
