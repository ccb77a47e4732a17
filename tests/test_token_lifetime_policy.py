"""A workspace's maxTokenLifetimeDays: set by an ADMIN, bounded 1..3650, and then an expiry is required
and at most that many days ahead for new management tokens and API keys."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import CREATE_API_KEY, CREATE_TOKEN, Account, Api

SETTINGS = """mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) {
  workspace { maxTokenLifetimeDays staleAfterDays } userErrors { field code message } } }"""
WORKSPACE = "{ viewer { workspace { maxTokenLifetimeDays } } }"
_names = itertools.count(1)


async def _set(api: Api, account: Account, days: int | None) -> dict[str, Any]:
    body = await api.gql(SETTINGS, {"input": {"maxTokenLifetimeDays": days}}, account.session)
    return dict(body["data"]["updateWorkspaceSettings"]) if body["data"] else body


async def _create_errors(api: Api, owner: Account, project: str, **more: Any) -> list[list[tuple[str, list[str]]]]:
    """The user errors of creating a token and a key with these fields (empty lists: both created)."""
    name = f"t-{next(_names)}"
    token = await api.gql(
        CREATE_TOKEN, {"input": {"name": name, "permissions": ["VIEW_PROJECTS"], **more}}, owner.session
    )
    key = await api.gql(CREATE_API_KEY, {"input": {"projectId": project, "name": "k", **more}}, owner.session)
    return [
        [(e["code"], e["field"]) for e in token["data"]["createManagementToken"]["userErrors"]],
        [(e["code"], e["field"]) for e in key["data"]["createApiKey"]["userErrors"]],
    ]


@pytest.mark.parametrize(("days", "accepted"), [(0, False), (1, True), (3650, True), (3651, False), (-5, False)])
async def test_the_bounds_of_max_token_lifetime_days(api: Api, days: int, accepted: bool) -> None:
    owner = await api.sign_up()
    payload = await _set(api, owner, days)
    if accepted:
        assert payload["userErrors"] == [] and payload["workspace"]["maxTokenLifetimeDays"] == days
    else:
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("OUT_OF_RANGE", ["maxTokenLifetimeDays"])]
        assert (await api.ok(WORKSPACE, token=owner.session))["viewer"]["workspace"]["maxTokenLifetimeDays"] is None


async def test_null_lifts_the_limit_and_leaving_it_out_keeps_it(api: Api) -> None:
    owner = await api.sign_up()
    await _set(api, owner, 30)
    kept = await api.gql(SETTINGS, {"input": {"staleAfterDays": 60}}, owner.session)
    assert kept["data"]["updateWorkspaceSettings"]["workspace"]["maxTokenLifetimeDays"] == 30
    assert (await _set(api, owner, None))["workspace"]["maxTokenLifetimeDays"] is None


async def test_only_admins_set_it(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    body = await api.gql(SETTINGS, {"input": {"maxTokenLifetimeDays": 7}}, member.session)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.ok(WORKSPACE, token=owner.session))["viewer"]["workspace"]["maxTokenLifetimeDays"] is None


async def test_with_a_limit_an_expiry_is_required_and_bounded(api: Api) -> None:
    # given a workspace whose credentials must expire within 30 days
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    await _set(api, owner, 30)
    now = datetime.now(UTC)
    # then no expiry is refused, naming the field
    assert await _create_errors(api, owner, project) == [[("EXPIRY_REQUIRED", ["expiresAt"])]] * 2
    # exactly 30 days ahead is accepted (the server's now comes a moment after the test's)
    assert await _create_errors(api, owner, project, expiresAt=(now + timedelta(days=30)).isoformat()) == [[], []]
    # a minute past it is refused
    late = (datetime.now(UTC) + timedelta(days=30, minutes=1)).isoformat()
    assert await _create_errors(api, owner, project, expiresAt=late) == [[("EXPIRY_TOO_LATE", ["expiresAt"])]] * 2
    # and one day ahead is fine
    assert await _create_errors(api, owner, project, expiresAt=(now + timedelta(days=1)).isoformat()) == [[], []]
