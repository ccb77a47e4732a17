"""Every protected field, read from the SDL, against every kind of caller.

Callers: management tokens with each of the 32 subsets of the five permissions, OWNER, ADMIN
and MEMBER sessions, and no credential at all. A call is built for each field from the schema
(arguments from their types, IDs of real objects, a route from the root for nested fields);
the expectation comes from the directives on the route, not from the code under test.

The hand-written calls at the end check single-permission tokens and each role against the
same fields by name, independently of the schema reader.
"""

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from app import models
from app.graphql.ids import from_global_id, to_global_id
from app.security import tokens
from app.security.tokens import TokenKind
from tests.support.api import ALL_PERMISSIONS, Account, error_codes
from tests.support.populated_workspace import World, build_world
from tests.support.running_app import running_api
from tests.support.schema_calls import (
    ROOTS,
    Requirement,
    SchemaField,
    Step,
    all_fields,
    build_call,
    node_types,
    protected_fields,
    response_path,
    route_to,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Root fields anyone may call without a directive. Each resolver still requires a caller where it
# should (viewer, node, logOut); anything else must be declared with a directive.
PUBLIC_ROOT_FIELDS = {
    "Mutation.signUp",
    "Mutation.logIn",
    "Mutation.logOut",
    "Mutation.acceptInvitation",  # a new person has no session yet; an existing one may call with theirs
    "Query.viewer",
    "Query.node",
    "Query.signUpPolicy",  # the log-in page hides Sign up by them
    "Query.signUpOpen",
}

# Fields that change the calling person themselves (they leave, or their sessions end): each session
# caller is replaced by a fresh person of the same role, so the matrix's own sessions stay.
SELF_SERVICE_FIELDS = {"Mutation.leaveWorkspace", "Mutation.changePassword"}

# The product page's role table, written here independently of app.security.permissions.
ROLE_PERMISSIONS = {
    "OWNER": set(ALL_PERMISSIONS),
    "ADMIN": set(ALL_PERMISSIONS),
    "MEMBER": {"VIEW_PROJECTS", "VIEW_API_KEYS"},
}
ROLE_RANK = {"MEMBER": 1, "ADMIN": 2, "OWNER": 3}

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@dataclass(frozen=True)
class Caller:
    label: str
    token: str | None
    permissions: frozenset[str]
    role: str | None

    def may(self, requirement: Requirement) -> bool:
        if requirement.kind == "permission":
            return requirement.value in self.permissions
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[requirement.value]


@dataclass
class Matrix:
    world: World
    callers: list[Caller]


async def _token_without_permissions(world: World) -> str:
    """The 32nd subset. The API refuses to create it (tested below), so it is stored directly,
    the way a row would look, to prove that holding nothing allows nothing."""
    secret = tokens.generate(TokenKind.MANAGEMENT)
    await models.ManagementToken.create(
        workspace_id=world.workspace_pk,
        name="no permissions",
        active_name="no permissions",
        key_prefix=secret.display_prefix,
        token_hash=secret.digest,
        permissions="",
        created_by_kind="SYSTEM",
        created_by_label="test",
    )
    return secret.value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(database_url: str) -> AsyncIterator[Matrix]:
    async with running_api(database_url) as api:
        world = await build_world(api)
        callers = [
            Caller("anonymous", None, frozenset(), None),
            Caller("OWNER session", world.owner.session, frozenset(ROLE_PERMISSIONS["OWNER"]), "OWNER"),
            Caller("ADMIN session", world.admin.session, frozenset(ROLE_PERMISSIONS["ADMIN"]), "ADMIN"),
            Caller("MEMBER session", world.member.session, frozenset(ROLE_PERMISSIONS["MEMBER"]), "MEMBER"),
            Caller("token with no permissions", await _token_without_permissions(world), frozenset(), None),
        ]
        for size in range(1, len(ALL_PERMISSIONS) + 1):
            for subset in itertools.combinations(ALL_PERMISSIONS, size):
                _, secret = await api.create_token(world.owner, list(subset))
                callers.append(Caller(f"token {'+'.join(subset)}", secret, frozenset(subset), None))
        yield Matrix(world, callers)


def _value_at(data: Any, path: list[str | int]) -> Any:
    for key in path:
        if data is None:
            return None
        data = data[key]
    return data


def _same_path(actual: list[str | int], expected: list[str | int]) -> bool:
    """List positions match any index: a denied nested field fails once per parent item."""
    return len(actual) == len(expected) and all(
        isinstance(e, int) and isinstance(a, int) or a == e for a, e in zip(actual, expected, strict=True)
    )


def _first_denied(caller: Caller, steps: list[Step]) -> int | None:
    for index, step in enumerate(steps):
        requirement = step.field.requirement
        if requirement is not None and (caller.token is None or not caller.may(requirement)):
            return index
    return None


def _check(caller: Caller, steps: list[Step], body: dict[str, Any]) -> str | None:
    """None when the answer is what the directives on the route say; otherwise what went wrong."""
    denied_at = _first_denied(caller, steps)
    errors = body.get("errors") or []
    if denied_at is None:
        value = _value_at(body.get("data"), response_path(steps, len(steps) - 1))
        if errors or value is None:
            return f"expected allowed, got {body}"
        if isinstance(value, dict) and value.get("userErrors"):
            return f"allowed, but the generated call was not valid: {value['userErrors']}"
        return None
    expected_path = response_path(steps, denied_at)
    expected_code = "UNAUTHENTICATED" if caller.token is None else "FORBIDDEN"
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    if codes != {expected_code}:
        return f"expected only {expected_code} at {expected_path}, got {body}"
    if not all(_same_path(e.get("path") or [], expected_path) for e in errors):
        return f"expected {expected_code} at {expected_path}, got {body}"
    if _value_at(body.get("data"), expected_path) is not None:
        return f"denied but data was returned at {expected_path}: {body}"
    return None


async def _without_lifetime_policy(world: World) -> None:
    """A generated updateWorkspaceSettings may have set maxTokenLifetimeDays; the factories create
    tokens and keys without an expiry, so each test starts from a workspace without the policy."""
    await models.Workspace.filter(id=world.workspace_pk).update(max_token_lifetime_days=None)


@pytest.mark.parametrize("target", protected_fields(), ids=lambda f: f.label)
async def test_protected_field_against_every_caller(matrix: Matrix, target: SchemaField) -> None:
    await _without_lifetime_policy(matrix.world)
    failures = []
    for caller in matrix.callers:
        if target.label in SELF_SERVICE_FIELDS and caller.role is not None:
            person = await matrix.world.api.add_member(matrix.world.owner, caller.role)
            caller = Caller(f"fresh {caller.label}", person.session, caller.permissions, caller.role)
        # given: a minimal valid call; fields that change or destroy an object get a fresh one
        call = await build_call(target, matrix.world.fresh if target.type_name == "Mutation" else matrix.world.one)
        # when
        response = await matrix.world.api.post(call.document, token=caller.token)
        # then
        assert response.status_code == 200, (caller.label, response.text)
        problem = _check(caller, call.steps, response.json())
        if problem:
            failures.append(f"{caller.label}: {problem}")
    assert not failures, f"{target.label} ({target.requirement}):\n" + "\n".join(failures)


# ---- scoped tokens: every protected field, in scope and out of scope -----------------------------

SCOPE_CREATE = """mutation($input: CreateManagementTokenInput!) {
  createManagementToken(input: $input) { secret userErrors { code } } }"""
PROJECT_BOUND = {"Project", "ApiKey"}  # the types a token's project scope limits


def _workspace_wide(target: SchemaField) -> bool:
    """The field carries @workspaceWide: a token limited to some projects is refused it."""
    node = target.definition.ast_node
    return node is not None and any(d.name.value == "workspaceWide" for d in node.directives or ())


def _global_ids(data: Any) -> set[str]:
    """Every string in `data` that is a global ID of a project-bound object."""
    found: set[str] = set()
    if isinstance(data, dict):
        for value in data.values():
            found |= _global_ids(value)
    elif isinstance(data, list):
        for value in data:
            found |= _global_ids(value)
    elif isinstance(data, str):
        parsed = from_global_id(data)
        if parsed is not None and parsed[0] in PROJECT_BOUND:
            found.add(data)
    return found


async def _scoped_secret(world: World, project_ids: list[str]) -> str:
    variables = {"input": {"name": f"scoped-{next(_scoped_names)}", "permissions": ALL_PERMISSIONS}}
    variables["input"]["projectIds"] = project_ids
    # an expiry any lifetime policy allows (a generated updateWorkspaceSettings may have set one)
    variables["input"]["expiresAt"] = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    data = await world.api.ok(SCOPE_CREATE, variables, world.owner.session)
    return str(data["createManagementToken"]["secret"])


_scoped_names = itertools.count(1)


@pytest.mark.parametrize("target", protected_fields(), ids=lambda f: f.label)
async def test_protected_field_against_scoped_tokens(matrix: Matrix, target: SchemaField) -> None:
    """A token with every permission, limited to projects: in scope it gets what an unlimited one gets
    (@workspaceWide fields excepted); out of scope it sees none of the objects and changes none."""
    world = matrix.world
    await _without_lifetime_policy(world)
    everything = Caller("token, every permission", "", frozenset(ALL_PERMISSIONS), None)
    ids = world.fresh if target.type_name == "Mutation" else world.one
    # given: in scope, a token limited to every project there is once the call's objects exist
    call = await build_call(target, ids)
    every_project = [
        to_global_id("Project", pk)
        for pk in await models.Project.filter(workspace_id=world.workspace_pk).values_list("id", flat=True)
    ]
    in_scope = await _scoped_secret(world, every_project)
    # when
    body = (await world.api.post(call.document, token=in_scope)).json()
    # then
    if _workspace_wide(target) and _first_denied(everything, call.steps) is None:
        assert error_codes(body) == ["FORBIDDEN"] and _value_at(body["data"], [target.name]) is None, body
    else:
        assert _check(everything, call.steps, body) is None, (target.label, "in scope", body)

    # given: out of scope, a token limited to a project of its own that none of the call's objects are in
    call = await build_call(target, ids)
    own_project = await world.api.create_project(world.owner.session, f"elsewhere-{next(_scoped_names)}")
    out_of_scope = await _scoped_secret(world, [own_project])
    # when
    body = (await world.api.post(call.document, token=out_of_scope)).json()
    # then
    if _first_denied(everything, call.steps) is not None:
        assert _check(everything, call.steps, body) is None, (target.label, "out of scope", body)
    elif _workspace_wide(target):
        assert error_codes(body) == ["FORBIDDEN"] and _value_at(body["data"], [target.name]) is None, body
    else:
        # nothing of the workspace's other projects is shown
        assert "errors" not in body, (target.label, body)
        assert _global_ids(body["data"]) <= {own_project}, (target.label, body)
        # an object of another project that the call names is not found, and stays as it was
        if (
            target.type_name == "Mutation"
            and set(call.used_ids)
            and any((from_global_id(value) or ("",))[0] in PROJECT_BOUND for value in call.used_ids.values())
        ):
            payload = _value_at(body["data"], [target.name])
            assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"], (target.label, body)


@pytest.mark.parametrize("type_name", node_types())
async def test_node_lookup_follows_the_list_fields_declarations(matrix: Matrix, type_name: str) -> None:
    """`node(id:)` shows an object exactly to the callers that can reach its type from the root."""
    # given: the route a client would use to list objects of this type, and one real object
    steps = route_to(SchemaField(type_name, "id", None))
    node_id = await matrix.world.one(type_name)
    failures = []
    for caller in matrix.callers:
        # when
        body = (await matrix.world.api.post(NODE, {"id": node_id}, token=caller.token)).json()
        # then
        node_steps = [Step(SchemaField("Query", "node", s.field.requirement), False) for s in steps]
        denied = _first_denied(caller, node_steps)
        if caller.token is None:
            expected = (None, "UNAUTHENTICATED")
        elif denied is not None:
            expected = (None, "FORBIDDEN")
        else:
            expected = ({"__typename": type_name, "id": node_id}, None)
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        actual = ((body.get("data") or {}).get("node"), codes[0] if codes else None)
        if actual != expected or len(codes) > 1:
            failures.append(f"{caller.label}: expected {expected}, got {body}")
    assert not failures, "\n".join(failures)


async def test_every_unprotected_root_field_is_on_the_public_list() -> None:
    # given
    unprotected = {f.label for f in all_fields() if f.type_name in ROOTS and f.requirement is None}
    # then
    assert unprotected <= PUBLIC_ROOT_FIELDS, (
        f"{sorted(unprotected - PUBLIC_ROOT_FIELDS)} have neither @requiresPermission nor @requiresRole"
    )


async def test_the_schema_declares_protected_fields_on_query_mutation_and_nested_types() -> None:
    # given
    protected = {f.type_name for f in protected_fields()}
    # then: the generator found the directives where they are
    assert {"Query", "Mutation", "Project", "ApiKey"} <= protected


async def test_a_token_with_no_permissions_cannot_be_created(matrix: Matrix) -> None:
    # given
    document = """mutation { createManagementToken(input: {name: "empty", permissions: []}) {
      secret userErrors { field code } } }"""
    # when
    body = (await matrix.world.api.post(document, token=matrix.world.owner.session)).json()
    # then
    payload = body["data"]["createManagementToken"]
    assert payload["secret"] is None
    assert payload["userErrors"] and payload["userErrors"][0]["field"] == ["permissions"]


@dataclass(frozen=True)
class Call:
    path: list[str]
    query: str
    permission: str | None = None  # @requiresPermission
    role: str | None = None  # @requiresRole
    reach: str | None = None  # the permission that reaches the parent of a nested field


def calls(project_id: str, key_id: str, token_id: str) -> list[Call]:
    return [
        Call(["projects"], "{ projects { totalCount } }", permission="VIEW_PROJECTS"),
        Call(["apiKeys"], "{ apiKeys { totalCount } }", permission="VIEW_API_KEYS"),
        Call(
            ["projects", "edges", 0, "node", "apiKeys"],
            "{ projects { edges { node { apiKeys { totalCount } } } } }",
            permission="VIEW_API_KEYS",
            reach="VIEW_PROJECTS",
        ),
        Call(
            ["node", "apiKeys"],
            f'{{ node(id: "{project_id}") {{ ... on Project {{ apiKeys {{ totalCount }} }} }} }}',
            permission="VIEW_API_KEYS",
            reach="VIEW_PROJECTS",
        ),
        Call(
            ["apiKeys", "edges", 0, "node", "project"],
            "{ apiKeys { edges { node { project { id } } } } }",
            permission="VIEW_PROJECTS",
            reach="VIEW_API_KEYS",
        ),
        Call(
            ["node", "project"],
            f'{{ node(id: "{key_id}") {{ ... on ApiKey {{ project {{ id }} }} }} }}',
            permission="VIEW_PROJECTS",
            reach="VIEW_API_KEYS",
        ),
        Call(
            ["createProject"],
            'mutation { createProject(input: {name: "p"}) { userErrors { code } } }',
            permission="MANAGE_PROJECTS",
        ),
        Call(
            ["updateProject"],
            f'mutation {{ updateProject(input: {{id: "{project_id}", name: "q"}}) {{ userErrors {{ code }} }} }}',
            permission="MANAGE_PROJECTS",
        ),
        Call(
            ["deleteProject"],
            'mutation { deleteProject(input: {id: "UHJvamVjdDo5OTk5OTk="}) { userErrors { code } } }',
            permission="MANAGE_PROJECTS",
        ),
        Call(
            ["createApiKey"],
            f'mutation {{ createApiKey(input: {{projectId: "{project_id}", name: "k"}}) {{ userErrors {{ code }} }} }}',
            permission="CREATE_API_KEY",
        ),
        Call(
            ["deleteApiKey"],
            'mutation { deleteApiKey(input: {id: "QXBpS2V5Ojk5OTk5OQ=="}) { userErrors { code } } }',
            permission="DELETE_API_KEYS",
        ),
        Call(["managementTokens"], "{ managementTokens { totalCount } }", role="ADMIN"),
        Call(["staleTokenReports"], "{ staleTokenReports { totalCount } }", role="ADMIN"),
        Call(["auditEvents"], "{ auditEvents { totalCount } }", role="ADMIN"),
        Call(
            ["createManagementToken"],
            'mutation { createManagementToken(input: {name: "t", permissions: [VIEW_PROJECTS]}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["revokeManagementToken"],
            'mutation { revokeManagementToken(input: {id: "TWFuYWdlbWVudFRva2VuOjk5OTk5OQ=="}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["rotateManagementToken"],
            f'mutation {{ rotateManagementToken(input: {{id: "{token_id}"}}) {{ userErrors {{ code }} }} }}',
            role="ADMIN",
        ),
        Call(
            ["updateManagementToken"],
            f'mutation {{ updateManagementToken(input: {{id: "{token_id}", allowedIps: []}}) {{ userErrors {{ code }} }} }}',
            role="ADMIN",
        ),
        Call(
            ["updateWorkspaceSettings"],
            "mutation { updateWorkspaceSettings(input: {staleAfterDays: 30}) { userErrors { code } } }",
            role="ADMIN",
        ),
        Call(["members"], "{ members { totalCount } }", role="MEMBER"),
        Call(["invitations"], "{ invitations { totalCount } }", role="ADMIN"),
        Call(
            ["inviteMember"],
            'mutation { inviteMember(input: {email: "x@example.com", role: MEMBER}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["revokeInvitation"],
            'mutation { revokeInvitation(input: {id: "SW52aXRhdGlvbjo5OTk5OTk="}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["changeMemberRole"],
            'mutation { changeMemberRole(input: {id: "TWVtYmVyOjk5OTk5OQ==", role: MEMBER}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["removeMember"],
            'mutation { removeMember(input: {id: "TWVtYmVyOjk5OTk5OQ=="}) { userErrors { code } } }',
            role="ADMIN",
        ),
        Call(
            ["switchWorkspace"],
            'mutation { switchWorkspace(input: {workspaceId: "V29ya3NwYWNlOjk5OTk5OQ=="}) { userErrors { code } } }',
            role="MEMBER",
        ),
        Call(
            ["createWorkspace"],
            'mutation { createWorkspace(input: {name: "side"}) { userErrors { code } } }',
            role="MEMBER",
        ),
    ]


ROLE_RANK = {"MEMBER": 1, "ADMIN": 2, "OWNER": 3}
ROLE_PERMISSIONS = {
    "OWNER": set(ALL_PERMISSIONS),
    "ADMIN": set(ALL_PERMISSIONS),
    "MEMBER": {"VIEW_PROJECTS", "VIEW_API_KEYS"},
}


def assert_outcome(body: dict[str, Any], call: Call, allowed: bool, who: str) -> None:
    errors = [e for e in body.get("errors", []) if e["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")]
    if allowed:
        assert errors == [], (who, call.path, body)
    else:
        assert [(e["path"], e["extensions"]["code"]) for e in errors] == [(call.path, "FORBIDDEN")], (
            who,
            call.path,
            body,
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(matrix: Matrix) -> tuple[Account, list[Call]]:
    """A workspace of its own beside the matrix's, in the same running app."""
    api = matrix.world.api
    owner = await api.sign_up()
    project_id = await api.create_project(owner.session)
    key_id, _ = await api.create_api_key(owner.session, project_id)
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="rotatable")
    return owner, calls(project_id, key_id, token_id)


@pytest.mark.parametrize("permission", ALL_PERMISSIONS)
async def test_single_permission_token_against_every_protected_field(
    matrix: Matrix, world: tuple[Account, list[Call]], permission: str
) -> None:
    api = matrix.world.api
    owner, protected = world
    secrets: dict[str | None, str] = {None: (await api.create_token(owner, [permission]))[1]}
    for call in protected:
        if call.reach not in secrets:  # nested fields: the token also holds what reaches the parent
            secrets[call.reach] = (await api.create_token(owner, sorted({permission, call.reach or permission})))[1]
        body = await api.gql(call.query, token=secrets[call.reach])
        assert_outcome(body, call, allowed=call.permission == permission, who=permission)


@pytest.mark.parametrize("role", ["MEMBER", "ADMIN", "OWNER"])
async def test_each_role_against_every_protected_field(
    matrix: Matrix, world: tuple[Account, list[Call]], role: str
) -> None:
    api = matrix.world.api
    owner, protected = world
    person = owner if role == "OWNER" else await api.add_member(owner, role)
    for call in protected:
        body = await api.gql(call.query, token=person.session)
        allowed = (
            call.permission in ROLE_PERMISSIONS[role]
            if call.permission
            else ROLE_RANK[role] >= ROLE_RANK[call.role or "OWNER"]
        )
        assert_outcome(body, call, allowed=allowed, who=role)


async def test_anonymous_callers_are_unauthenticated_on_every_protected_field(
    matrix: Matrix, world: tuple[Account, list[Call]]
) -> None:
    api = matrix.world.api
    _, protected = world
    for call in protected:
        body = await api.gql(call.query)
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"UNAUTHENTICATED"}, (call.path, body)


async def test_only_an_owner_invites_or_makes_an_owner(matrix: Matrix) -> None:
    # given
    api = matrix.world.api
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    member = await api.add_member(owner, "MEMBER")
    member_id = await _member_id(api, owner, member.email)
    invite = 'mutation { inviteMember(input: {email: "o2@example.com", role: OWNER}) { userErrors { code } } }'
    promote = f'mutation {{ changeMemberRole(input: {{id: "{member_id}", role: OWNER}}) {{ userErrors {{ code }} }} }}'
    # when / then: an ADMIN may neither
    assert (await api.gql(invite, token=admin.session))["data"]["inviteMember"]["userErrors"][0]["code"] == (
        "ROLE_NOT_ALLOWED"
    )
    assert (await api.gql(promote, token=admin.session))["data"]["changeMemberRole"]["userErrors"][0]["code"] == (
        "ROLE_NOT_ALLOWED"
    )
    # and an OWNER may both
    assert (await api.ok(invite, token=owner.session))["inviteMember"]["userErrors"] == []
    assert (await api.ok(promote, token=owner.session))["changeMemberRole"]["userErrors"] == []


async def _member_id(api: Any, owner: Account, email: str) -> str:
    data = await api.ok("{ members(first: 100) { edges { node { id email } } } }", token=owner.session)
    return next(e["node"]["id"] for e in data["members"]["edges"] if e["node"]["email"] == email)
