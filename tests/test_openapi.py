"""GET /openapi.json is a valid OpenAPI document, and the REST endpoints' real answers match it:
every documented status of /v1/keys/verify, /healthz and /readyz, taken from a running app."""

import glob
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_spec_validator import validate

from app.http.openapi import SCHEMAS, openapi_document
from app.http.verify import INVALID_MESSAGES
from app.main import create_app
from app.security.tokens import TokenKind, generate
from app.settings import Settings
from tests.support.api import ALL_PERMISSIONS, Api
from tests.support.app_clock import AppClock
from tests.support.required_tools import tool_missing
from tests.support.throwaway_services import throwaway_postgres


@dataclass
class SpecRequest:
    """An httpx request as openapi-core reads one."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class SpecResponse:
    status_code: int
    content_type: str
    headers: Mapping[str, str]  # case-insensitive, as HTTP header names are
    data: bytes


def check_against_spec(spec: OpenAPI, response: httpx.Response) -> None:
    """Fails unless the answer's status, media type, headers and body are what the spec documents."""
    request = response.request
    spec_request = SpecRequest(
        host_url=f"{request.url.scheme}://{request.url.netloc.decode()}",
        path=request.url.path,
        method=request.method.lower(),
        body=request.content,
        content_type=request.headers.get("content-type", ""),
    )
    spec_response = SpecResponse(
        status_code=response.status_code,
        content_type=response.headers.get("content-type", ""),
        headers=response.headers,
        data=response.content,
    )
    spec.validate_response(spec_request, spec_response)


@pytest.fixture
def spec() -> OpenAPI:
    """The document the app serves (test_the_document_is_valid_openapi checks it is what /openapi.json answers)."""
    return OpenAPI.from_dict(openapi_document())


async def test_the_document_is_valid_openapi(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/openapi.json")
    # then
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    document = response.json()
    assert document == openapi_document()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/v1/keys/verify", "/v1/leaks", "/healthz", "/readyz"}


def test_every_refusal_code_of_verify_is_documented() -> None:
    documented = SCHEMAS["VerifyInvalid"]["properties"]["code"]["enum"]
    assert set(documented) == set(INVALID_MESSAGES)


async def test_real_answers_of_verify_and_the_probes_match_the_spec(
    api: Api, client: httpx.AsyncClient, spec: OpenAPI, app_clock: AppClock
) -> None:
    # given a key, one with an expiry and metadata, one that expires, and one deleted with its project
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    _, key = await api.create_api_key(owner.session, project)
    in_a_year = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    _, key_with_meta = await api.create_api_key(
        owner.session, project, "plan", expiresAt=in_a_year, meta={"plan": "pro", "limits": {"rpm": 600}}
    )
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    _, expiring_key = await api.create_api_key(owner.session, project, "soon", expiresAt=in_an_hour)
    gone_project = await api.create_project(owner.session, "Gone")
    _, gone_key = await api.create_api_key(owner.session, gone_project)
    delete = "mutation($id: ID!) { deleteProject(input: {id: $id}) { userErrors { code } } }"
    await api.ok(delete, {"id": gone_project}, owner.session)
    _, management_token = await api.create_token(owner, ALL_PERMISSIONS)
    elsewhere = {"input": {"projectId": project, "name": "elsewhere", "allowedIps": ["192.0.2.1"]}}
    create_key = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }"
    key_for_elsewhere = (await api.ok(create_key, elsewhere, owner.session))["createApiKey"]["secret"]
    verify = "/v1/keys/verify"
    # when every kind of answer is asked for
    valid_with_meta = await client.post(verify, json={"key": key_with_meta})
    app_clock.advance(hours=1)
    answers = {
        "valid": await client.post(verify, json={"key": key}),
        "valid (expiry and meta)": valid_with_meta,
        "EXPIRED": await client.post(verify, json={"key": expiring_key}),
        "MALFORMED": await client.post(verify, json={"key": "kwk_nope"}),
        "NOT_AN_API_KEY (session)": await client.post(verify, json={"key": owner.session}),
        "NOT_AN_API_KEY (management)": await client.post(verify, json={"key": management_token}),
        "UNKNOWN_KEY": await client.post(verify, json={"key": generate(TokenKind.API_KEY).value}),
        "UNKNOWN_KEY (deleted)": await client.post(verify, json={"key": gone_key}),
        "IP_NOT_ALLOWED": await client.post(verify, json={"key": key_for_elsewhere}),
        "400 not JSON": await client.post(verify, content=b"{nope", headers={"content-type": "application/json"}),
        "400 no key": await client.post(verify, json={"token": key}),
        "400 not an object": await client.post(verify, json=[key]),
        "413": await client.post(verify, content=b"x" * (300 * 1024), headers={"content-type": "application/json"}),
        "healthz": await client.get("/healthz"),
        "readyz": await client.get("/readyz"),
    }
    # then each matches what the spec documents for its status
    for name, response in answers.items():
        try:
            check_against_spec(spec, response)
        except Exception as exc:
            raise AssertionError(
                f"{name}: {response.status_code} {response.text[:200]!r} does not match: {exc}"
            ) from exc
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses["valid"] == 200 and answers["valid"].json()["valid"] is True
    assert valid_with_meta.json()["meta"] == {"limits": {"rpm": 600}, "plan": "pro"}
    assert datetime.fromisoformat(valid_with_meta.json()["expiresAt"]) == datetime.fromisoformat(in_a_year)
    assert {answers[n].json()["code"] for n in answers if n.split(" ")[0] in INVALID_MESSAGES} == set(INVALID_MESSAGES)
    assert {statuses[n] for n in answers if n.startswith("400")} == {400}
    assert statuses["413"] == 413


@pytest.fixture
async def app_losing_its_database() -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """The app on a PostgreSQL cluster of the test's own, which the test may stop (no other app runs meanwhile:
    Tortoise's connections are global)."""
    if shutil.which("initdb") is None and not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        tool_missing("PostgreSQL's server binaries", "`apt-get install postgresql`")
    with throwaway_postgres() as pg:
        from app import db

        await db.migrate(pg.url)
        application = create_app(Settings(database_url=pg.url, stale_sweep_cron="off", usage_flush_seconds=3600))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
                yield http, pg


async def test_readyz_during_a_database_outage_matches_the_spec(
    app_losing_its_database: tuple[httpx.AsyncClient, object], spec: OpenAPI
) -> None:
    http, pg = app_losing_its_database
    # when the database stops
    pg.stop()  # type: ignore[attr-defined]
    response = await http.get("/readyz")
    # then
    assert response.status_code == 503
    check_against_spec(spec, response)


async def test_verify_during_a_database_outage_matches_the_spec(
    app_losing_its_database: tuple[httpx.AsyncClient, object], spec: OpenAPI
) -> None:
    http, pg = app_losing_its_database
    # when the database stops
    pg.stop()  # type: ignore[attr-defined]
    response = await http.post("/v1/keys/verify", json={"key": generate(TokenKind.API_KEY).value})
    # then
    assert response.status_code == 503, response.text
    check_against_spec(spec, response)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


async def test_leaks_during_a_database_outage_matches_the_spec(
    app_losing_its_database: tuple[httpx.AsyncClient, object], spec: OpenAPI
) -> None:
    http, pg = app_losing_its_database
    # when the database stops
    pg.stop()  # type: ignore[attr-defined]
    response = await http.post("/v1/leaks", json=[{"token": generate(TokenKind.API_KEY).value, "type": "kw"}])
    # then
    assert response.status_code == 503, response.text
    check_against_spec(spec, response)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
