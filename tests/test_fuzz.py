"""Fuzzing: schema-valid and schema-breaking operations (hypothesis-graphql) with real credentials,
plus malformed bodies, wrong content types, garbage and truncated tokens, huge strings and invalid IDs.

Every answer must be GraphQL JSON (or the verify endpoint's JSON), never a 5xx, and no token
value, password or hash may appear in any answer or in any log line the service writes at its
running level (INFO).

CI runs KEYWARD_FUZZ_EXAMPLES=60 per strategy (about 600 requests in all); on demand:
    KEYWARD_FUZZ_EXAMPLES=3000 .venv/bin/pytest tests/test_fuzz.py
"""

import asyncio
import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from app.graphql.ids import to_global_id
from tests.support.api import ALL_PERMISSIONS, PASSWORD, Api
from tests.support.populated_workspace import World, build_world
from tests.support.running_app import env_int, running_api
from tests.support.schema_calls import SDL

EXAMPLES = env_int("KEYWARD_FUZZ_EXAMPLES", 60)
# signUp, logIn and acceptInvitation each cost an Argon2 hash (~0.1-0.3 s): fewer of them.
PASSWORD_EXAMPLES = max(10, EXAMPLES // 10)
PASSWORD_MUTATIONS = ["signUp", "logIn", "acceptInvitation"]
# logOut would end the fuzzing session itself; it has its own tests.
OTHER_MUTATIONS = [
    "createProject",
    "updateProject",
    "deleteProject",
    "createApiKey",
    "deleteApiKey",
    "createManagementToken",
    "revokeManagementToken",
    "rotateManagementToken",
    "updateWorkspaceSettings",
    "inviteMember",
    "revokeInvitation",
    "changeMemberRole",
    "removeMember",
    "createWorkspace",
    "switchWorkspace",
]
# leaveWorkspace and changePassword would end the fuzzing sessions themselves; they have their own tests.
SHA256_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
SECRET_FIELDS = ("secret", "sessionToken", "inviteToken")
ANSWER_STATUSES = {200, 400, 401, 413}


def _fuzz_settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


@dataclass
class Fuzz:
    runner: asyncio.Runner
    api: Api
    world: World
    full_token: str
    callers: list[str]
    # Every secret this run has seen: never to appear in a later answer or any log line.
    secrets: set[str] = field(default_factory=set)

    def post(self, **request: Any) -> httpx.Response:
        return self.runner.run(asyncio.wait_for(self.api.http.post(**request), 30))

    def graphql(self, document: str, token: str | None, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.post(url="/graphql", json={"query": document, "variables": variables or {}}, headers=headers)

    def forbidden_texts(self) -> set[str]:
        hashes = {hashlib.sha256(s.encode()).hexdigest() for s in self.secrets}
        return self.secrets | hashes | {PASSWORD}


@pytest.fixture(scope="module")
def fuzz(database_url: str) -> Iterator[Fuzz]:
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        api = runner.run(stack.enter_async_context(running_api(database_url)))
        world = runner.run(build_world(api))
        _, full_token = runner.run(api.create_token(world.owner, ALL_PERMISSIONS, "fuzz"))
        for type_name in ("AuditEvent", "StaleTokenReport", "Workspace"):
            runner.run(world.one(type_name))
        state = Fuzz(runner, api, world, full_token, [full_token, world.owner.session])
        state.secrets.update(
            {
                world.owner.session,
                world.admin.session,
                world.member.session,
                full_token,
                world.token_secret,
                world.api_key_secret,
            }
        )
        try:
            yield state
        finally:
            runner.run(stack.aclose())


def _ids(fuzz: Fuzz) -> st.SearchStrategy[Any]:
    real = sorted(fuzz.world.existing.values())
    invented = st.sampled_from(
        ["Project", "ApiKey", "ManagementToken", "Workspace", "Member", "Invitation", "Nope"]
    ).flatmap(lambda t: st.integers(min_value=-2, max_value=2**64).map(lambda pk: to_global_id(t, pk)))
    return st.one_of(st.sampled_from(real), invented, st.text(max_size=50)).map(nodes.String)


def _collect_secrets(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_FIELDS and isinstance(item, str):
                found.add(item)
            else:
                _collect_secrets(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_secrets(item, found)


def check_answer(fuzz: Fuzz, response: httpx.Response, *, graphql: bool = True) -> dict[str, Any]:
    """No 5xx, JSON of the right shape, and no secret, hash or password in it."""
    assert response.status_code in ANSWER_STATUSES, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.text[:500]
    body = response.json()
    assert isinstance(body, dict), body
    if graphql:
        assert set(body) <= {"data", "errors", "extensions"} and ("data" in body or "errors" in body), body
        for error in body.get("errors") or []:
            assert isinstance(error.get("message"), str) and error["message"], error
            # A masked internal error is a 500 in all but status code.
            assert (error.get("extensions") or {}).get("code") != "INTERNAL_SERVER_ERROR", body
    text = response.text
    leaked = [secret[:8] for secret in fuzz.forbidden_texts() if secret in text]
    assert not leaked, f"secret or hash in an answer: {leaked}"
    assert not SHA256_HEX.search(text) and "$argon2" not in text, text[:500]
    new: set[str] = set()
    _collect_secrets(body, new)
    fuzz.secrets.update(new)
    return body


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, fuzz: Fuzz) -> Iterator[None]:
    """After each test: no secret, hash or password in any log line written at the service's level."""
    caplog.set_level(logging.INFO)
    yield
    forbidden = fuzz.forbidden_texts()
    for record in caplog.records:
        line = caplog.handler.format(record)
        assert not [s[:8] for s in forbidden if s in line], line[:300]
        assert not SHA256_HEX.search(line) and "$argon2" not in line, line[:300]


# ---- operations generated from the schema ------------------------------------------------------


def _run_generated(fuzz: Fuzz, document: str, caller: int) -> None:
    check_answer(fuzz, fuzz.graphql(document, fuzz.callers[caller]))


def test_generated_queries(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(EXAMPLES)
    @given(document=queries(SDL, custom_scalars={"ID": _ids(fuzz)}), caller=st.sampled_from([0, 1]))
    def run(document: str, caller: int) -> None:
        _run_generated(fuzz, document, caller)

    run()


def test_generated_mutations(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(EXAMPLES)
    @given(
        document=mutations(SDL, fields=OTHER_MUTATIONS, custom_scalars={"ID": _ids(fuzz)}),
        caller=st.sampled_from([0, 1]),
    )
    def run(document: str, caller: int) -> None:
        _run_generated(fuzz, document, caller)

    run()


def test_generated_password_mutations(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(PASSWORD_EXAMPLES)
    @given(
        document=mutations(SDL, fields=PASSWORD_MUTATIONS, custom_scalars={"ID": _ids(fuzz)}),
        caller=st.sampled_from([0, 1]),
    )
    def run(document: str, caller: int) -> None:
        _run_generated(fuzz, document, caller)

    run()


def test_operations_that_break_the_schema(fuzz: Fuzz, logs: None) -> None:
    """Wrong argument types, missing arguments, unknown enum values: validation errors, never 500."""

    @_fuzz_settings(EXAMPLES)
    @given(
        document=st.one_of(
            queries(SDL, mode=Mode.NEGATIVE), mutations(SDL, fields=OTHER_MUTATIONS, mode=Mode.NEGATIVE)
        ),
        caller=st.sampled_from([0, 1]),
    )
    def run(document: str, caller: int) -> None:
        body = check_answer(fuzz, fuzz.graphql(document, fuzz.callers[caller]))
        assert body.get("errors"), (document, body)

    run()


# ---- malformed requests ------------------------------------------------------------------------

CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/graphql",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "",
    "application/xml",
]


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


def test_malformed_bodies_and_content_types(fuzz: Fuzz, logs: None) -> None:
    valid = json.dumps({"query": "{ viewer { kind } }"}).encode()

    @_fuzz_settings(EXAMPLES)
    @given(
        body=st.one_of(
            st.binary(max_size=2000),
            st.just(valid).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),  # truncated
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                _json_containers,
                max_leaves=20,
            ).map(lambda v: json.dumps(v).encode()),
            st.fixed_dictionaries(
                {"query": st.text(max_size=200)},
                optional={
                    "variables": st.none() | st.integers() | st.text() | st.dictionaries(st.text(), st.text()),
                    "operationName": st.none() | st.integers() | st.text(max_size=20),
                },
            ).map(lambda v: json.dumps(v).encode()),
        ),
        content_type=st.sampled_from(CONTENT_TYPES),
        caller=st.sampled_from([0, 1]),
    )
    def run(body: bytes, content_type: str, caller: int) -> None:
        headers = {"Authorization": f"Bearer {fuzz.callers[caller]}"}
        if content_type:
            headers["content-type"] = content_type
        check_answer(fuzz, fuzz.post(url="/graphql", content=body, headers=headers))

    run()


def _garbage_tokens(fuzz: Fuzz) -> st.SearchStrategy[str]:
    real = [fuzz.full_token, fuzz.world.owner.session, fuzz.world.api_key_secret]
    truncated = st.sampled_from(real).flatmap(lambda t: st.integers(0, len(t) - 1).map(lambda n: t[:n]))
    mutated = (
        st.sampled_from(real)
        .flatmap(
            lambda t: st.tuples(st.integers(0, len(t) - 1), st.sampled_from("aZ09_-")).map(
                lambda p: t[: p[0]] + p[1] + t[p[0] + 1 :]
            )
        )
        .filter(lambda t: t not in real)  # a no-op mutation is the real value
    )
    printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300)
    return st.one_of(truncated, mutated, printable, st.just("kwm_" + "0" * 36), st.just("kws_"))


def test_garbage_and_truncated_tokens_are_refused(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(EXAMPLES)
    @given(token=_garbage_tokens(fuzz), scheme=st.sampled_from(["Bearer ", "bearer ", "Basic ", "", "Bearer  "]))
    def run(token: str, scheme: str) -> None:
        response = fuzz.post(
            url="/graphql",
            json={"query": "{ viewer { kind } }"},
            headers={"Authorization": f"{scheme}{token}"},
        )
        body = check_answer(fuzz, response)
        assert response.status_code == 401, body
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert len(token) < 8 or token not in response.text

    run()


HUGE_INPUTS = [
    (
        "mutation($v: String!) { createProject(input: {name: $v}) { project { id } userErrors { code } } }",
        "createProject",
    ),
    (
        'mutation($v: String!) { createProject(input: {name: "x", description: $v}) { project { id } userErrors { code } } }',
        "createProject",
    ),
    (
        "mutation($v: String!) { createManagementToken(input: {name: $v, permissions: [VIEW_PROJECTS]}) { secret userErrors { code } } }",
        "createManagementToken",
    ),
    (
        "mutation($v: String!) { logIn(input: {email: $v, password: $v}) { sessionToken userErrors { code } } }",
        "logIn",
    ),
    ("query($v: ID!) { node(id: $v) { id } }", "node"),
    ("query($v: ID!) { apiKeys(projectId: $v) { totalCount } }", "apiKeys"),
]


HUGE_BODY_BUDGET = 200_000  # bytes of the one variable; the service refuses bodies over 256 KiB with 413


def test_huge_strings_are_user_errors(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(max(10, EXAMPLES // 5))
    # Over every length limit (names 100, descriptions 2000, emails 254), under the body limit.
    @given(case=st.sampled_from(HUGE_INPUTS), size=st.integers(2_001, 60_000), char=st.sampled_from("aé🔑\u0000"))
    def run(case: tuple[str, str], size: int, char: str) -> None:
        document, root = case
        # Stay under the body limit once JSON-escaped: NUL is six bytes ("\\u0000"), 🔑 four.
        size = min(size, HUGE_BODY_BUDGET // len(json.dumps(char, ensure_ascii=False)[1:-1].encode()))
        body = check_answer(fuzz, fuzz.graphql(document, fuzz.world.owner.session, {"v": char * size}))
        value = (body.get("data") or {}).get(root)
        if isinstance(value, dict) and "userErrors" in value:
            assert value["userErrors"], body
            assert value.get("secret") is None and value.get("sessionToken") is None
        elif root == "node":
            assert value is None
        elif root == "apiKeys":
            assert value == {"totalCount": 0}

    run()


def test_invalid_ids_and_enum_values(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(max(10, EXAMPLES // 2))  # four requests each
    @given(
        node_id=st.text(max_size=100) | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
        status=st.text(max_size=20),
        permission=st.text(max_size=20),
    )
    def run(node_id: str, status: str, permission: str) -> None:
        owner = fuzz.world.owner.session
        answers = [
            fuzz.graphql("query($id: ID!) { node(id: $id) { id } }", owner, {"id": node_id}),
            fuzz.graphql(
                "mutation($id: ID!) { deleteProject(input: {id: $id}) { deletedId userErrors { code } } }",
                owner,
                {"id": node_id},
            ),
            fuzz.graphql(
                "query($s: ManagementTokenStatus) { managementTokens(status: $s) { totalCount } }",
                owner,
                {"s": status},
            ),
            fuzz.graphql(
                'mutation($p: [Permission!]!) { createManagementToken(input: {name: "enum", permissions: $p}) '
                "{ secret userErrors { code } } }",
                owner,
                {"p": [permission]},
            ),
        ]
        for response in answers:
            check_answer(fuzz, response)
        deleted = answers[1].json()["data"]["deleteProject"]
        assert deleted["deletedId"] is None or node_id == deleted["deletedId"]

    run()


STORED_STRINGS = [
    "mutation($v: String!) { createProject(input: {name: $v}) { project { id } userErrors { code } } }",
    'mutation($v: String!) { createProject(input: {name: "x", description: $v}) { project { id } userErrors { code } } }',
    'mutation($v: String!) { signUp(input: {email: $v, password: "long enough pass", workspaceName: "w"}) '
    "{ sessionToken userErrors { code } } }",
    'mutation($v: String!) { signUp(input: {email: "ctl@example.com", password: "long enough pass", workspaceName: $v}) '
    "{ sessionToken userErrors { code } } }",
    'mutation($v: String!) { logIn(input: {email: $v, password: "long enough pass"}) { sessionToken userErrors { code } } }',
    "mutation($v: String!) { createManagementToken(input: {name: $v, permissions: [VIEW_PROJECTS]}) "
    "{ secret userErrors { code } } }",
    "mutation($v: String!) { inviteMember(input: {email: $v, role: MEMBER}) { invitation { id } userErrors { code } } }",
    "mutation($v: String!) { createWorkspace(input: {name: $v}) { sessionToken userErrors { code } } }",
]


def test_control_characters_in_stored_strings_are_user_errors(fuzz: Fuzz, logs: None) -> None:
    """PostgreSQL refuses NUL in text: every string the service stores must refuse it first."""

    @_fuzz_settings(max(10, EXAMPLES // 3))
    @given(
        document=st.sampled_from(STORED_STRINGS),
        value=st.tuples(
            st.text(max_size=10),
            st.characters(max_codepoint=31, exclude_characters="\n\r\t"),
            st.text(max_size=10),
        ).map(lambda p: f"a{p[0]}{p[1]}{p[2]}b@example.com"),
    )
    def run(document: str, value: str) -> None:
        body = check_answer(fuzz, fuzz.graphql(document, fuzz.world.owner.session, {"v": value}))
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"], body

    run()


def test_verify_endpoint_with_garbage(fuzz: Fuzz, logs: None) -> None:
    @_fuzz_settings(EXAMPLES)
    @given(
        body=st.one_of(
            st.binary(max_size=500),
            st.dictionaries(
                st.sampled_from(["key", "Key", "token"]),
                st.none() | st.integers() | st.text(max_size=80) | _garbage_tokens(fuzz),
                max_size=2,
            ).map(lambda v: json.dumps(v).encode()),
        ),
    )
    def run(body: bytes) -> None:
        response = fuzz.post(url="/v1/keys/verify", content=body, headers={"content-type": "application/json"})
        answer = check_answer(fuzz, response, graphql=False)
        assert response.status_code in (200, 400) and answer["valid"] is False, answer

    run()
