"""The stale-token sweep across workspaces with different settings, end to end through the GraphQL API."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.graphql.ids import pk_of
from app.models import AuditEvent, ManagementToken, StaleTokenReport, StaleTokenReportEntry
from app.services.stale_sweep import run_sweep
from app.usage.flush import flush
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import UsageKind, Use
from tests.support.api import ALL_PERMISSIONS, Account, Api, error_codes
from tests.support.sql_statements import statements, token_row, updates_of

NOW = datetime.now(UTC)

UPDATE_SETTINGS = """
mutation($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) {
    workspace { id staleAfterDays autoRevokeStaleAfterDays } userErrors { field message code }
  }
}"""

STALE_TOKENS = """
{ managementTokens(stale: true, first: 50) { edges { node { id name status staleSince lastUsedAt } } } }"""

REPORTS = """
{ staleTokenReports(first: 10) { totalCount edges { node {
  id generatedAt staleAfterDays
  entries { token { id name status } reason lastUsedAt idleDays autoRevoked }
} } } }"""

AUDIT = """
{ auditEvents(first: 100) { edges { node { action actor { kind id label } targetType targetId ipAddress } } } }"""

VIEWER = "{ viewer { kind } }"
REVOKE = """
mutation($input: RevokeManagementTokenInput!) { revokeManagementToken(input: $input) { userErrors { code } } }"""


async def _age(token_id: str, *, created_days_ago: float, used_days_ago: float | None = None) -> None:
    """Arrange a token's history: created long ago, last used through the real usage flush."""
    pk = pk_of(token_id, "ManagementToken")
    assert pk is not None
    await ManagementToken.filter(id=pk).update(created_at=NOW - timedelta(days=created_days_ago))
    if used_days_ago is not None:
        buffer = MemoryUsageBuffer()
        await buffer.record(Use(UsageKind.MANAGEMENT_TOKEN, pk, NOW - timedelta(days=used_days_ago), "192.0.2.10"))
        await flush(buffer)


@dataclass
class World:
    a: Account
    b: Account
    c: Account
    tokens: dict[str, tuple[str, str]]  # name -> (global id, secret)


async def _world(api: Api) -> World:
    """Workspace A: stale after 30 days, revoke after 60. B: defaults (90, never revoke). C: nothing stale."""
    a, b, c = (
        await api.sign_up(workspace="A"),
        await api.sign_up(workspace="B"),
        await api.sign_up(workspace="C"),
    )
    await api.ok(UPDATE_SETTINGS, {"input": {"staleAfterDays": 30, "autoRevokeStaleAfterDays": 60}}, a.session)
    tokens: dict[str, tuple[str, str]] = {}
    for account, name, created, used in [
        (a, "a-never-used-100d", 100, None),  # NEVER_USED, idle 100 >= 60: revoked
        (a, "a-idle-45d", 200, 45),  # INACTIVE, idle 45: flagged only
        (a, "a-fresh", 200, 5),  # not stale
        (a, "a-new", 0, None),  # created today, never used: not stale
        (b, "b-never-used-120d", 120, None),  # NEVER_USED, flagged, B never revokes
        (b, "b-idle-95d", 300, 95),  # INACTIVE
        (b, "b-idle-80d", 300, 80),  # not stale under 90
        (c, "c-idle-10d", 50, 10),
    ]:
        tokens[name] = await api.create_token(account, ["VIEW_PROJECTS"], name=name)
        await _age(tokens[name][0], created_days_ago=created, used_days_ago=used)
    # a token revoked by hand is never stale
    revoked_id, _ = tokens["b-revoked"] = await api.create_token(b, ["VIEW_PROJECTS"], name="b-revoked")
    await api.ok(REVOKE, {"input": {"id": revoked_id}}, b.session)
    await _age(revoked_id, created_days_ago=500)
    return World(a, b, c, tokens)


def _entries(data: dict) -> dict[str, dict]:
    [edge] = data["staleTokenReports"]["edges"][:1]
    return {e["token"]["name"]: e for e in edge["node"]["entries"]}


async def test_sweep_flags_reports_and_revokes_per_workspace_settings(api: Api) -> None:
    # given three workspaces with tokens of several ages
    world = await _world(api)
    # when the sweep runs
    result = await run_sweep()
    # then A and B get one report each, C none
    assert len(result.report_ids) == 2
    assert (result.stale, result.flagged, result.revoked) == (4, 4, 1)
    report_a = await api.ok(REPORTS, token=world.a.session)
    assert report_a["staleTokenReports"]["totalCount"] == 1
    assert report_a["staleTokenReports"]["edges"][0]["node"]["staleAfterDays"] == 30
    entries_a = _entries(report_a)
    assert set(entries_a) == {"a-never-used-100d", "a-idle-45d"}
    assert entries_a["a-never-used-100d"] | {"token": None} == {
        "token": None,
        "reason": "NEVER_USED",
        "lastUsedAt": None,
        "idleDays": 100,
        "autoRevoked": True,
    }
    assert entries_a["a-never-used-100d"]["token"]["status"] == "REVOKED"
    assert entries_a["a-idle-45d"]["reason"] == "INACTIVE" and entries_a["a-idle-45d"]["idleDays"] == 45
    assert entries_a["a-idle-45d"]["autoRevoked"] is False
    assert entries_a["a-idle-45d"]["lastUsedAt"] is not None
    entries_b = _entries(await api.ok(REPORTS, token=world.b.session))
    assert {name: (e["reason"], e["idleDays"], e["autoRevoked"]) for name, e in entries_b.items()} == {
        "b-never-used-120d": ("NEVER_USED", 120, False),
        "b-idle-95d": ("INACTIVE", 95, False),
    }
    assert (await api.ok(REPORTS, token=world.c.session))["staleTokenReports"]["totalCount"] == 0
    # and managementTokens(stale: true) lists exactly the flagged tokens of the caller's workspace
    stale_a = await api.ok(STALE_TOKENS, token=world.a.session)
    assert {e["node"]["name"] for e in stale_a["managementTokens"]["edges"]} == {
        "a-never-used-100d",
        "a-idle-45d",
    }
    stale_b = await api.ok(STALE_TOKENS, token=world.b.session)
    assert {e["node"]["name"] for e in stale_b["managementTokens"]["edges"]} == {
        "b-never-used-120d",
        "b-idle-95d",
    }
    # and every flag and the revocation are audit events by the system
    audit_a = [e["node"] for e in (await api.ok(AUDIT, token=world.a.session))["auditEvents"]["edges"]]
    system = [e for e in audit_a if e["actor"]["kind"] == "SYSTEM"]
    assert sorted((e["action"], e["targetId"]) for e in system) == sorted(
        [
            ("management_token.flagged_stale", world.tokens["a-never-used-100d"][0]),
            ("management_token.flagged_stale", world.tokens["a-idle-45d"][0]),
            ("management_token.revoked", world.tokens["a-never-used-100d"][0]),
        ]
    )
    assert all(e["actor"]["id"] is None and e["ipAddress"] is None for e in system)
    audit_b = [e["node"] for e in (await api.ok(AUDIT, token=world.b.session))["auditEvents"]["edges"]]
    assert sorted(e["action"] for e in audit_b if e["actor"]["kind"] == "SYSTEM") == [
        "management_token.flagged_stale",
        "management_token.flagged_stale",
    ]


async def test_an_auto_revoked_token_is_refused_on_its_next_request(api: Api) -> None:
    # given a token the sweep revoked
    world = await _world(api)
    _, secret = world.tokens["a-never-used-100d"]
    _, fresh = world.tokens["a-fresh"]
    await api.ok(VIEWER, token=secret)
    await run_sweep()
    # when it is used again
    body = await api.gql(VIEWER, token=secret)
    # then it is refused; a token that was not stale still works
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert (await api.ok(VIEWER, token=fresh))["viewer"]["kind"] == "MANAGEMENT_TOKEN"


async def test_a_token_used_after_being_flagged_is_cleared(api: Api) -> None:
    # given a flagged token
    world = await _world(api)
    token_id, secret = world.tokens["a-idle-45d"]
    await run_sweep()
    assert (await token_row(token_id)).stale_since is not None
    # when it is used and the usage is flushed
    await api.ok(VIEWER, token=secret)
    await api.http._transport.app.state.usage.flush_now()  # type: ignore[attr-defined]
    # then it is no longer stale, and the next sweep leaves it out
    assert (await token_row(token_id)).stale_since is None
    stale = await api.ok(STALE_TOKENS, token=world.a.session)
    assert {e["node"]["name"] for e in stale["managementTokens"]["edges"]} == {"a-never-used-100d"}
    second = await run_sweep()
    # (A has nothing stale left: its never-used token was revoked, so only B gets a new report)
    assert len(second.report_ids) == 1 and second.stale == 2
    assert (await api.ok(REPORTS, token=world.a.session))["staleTokenReports"]["totalCount"] == 1


async def test_raising_stale_after_days_clears_flags_at_the_next_sweep(api: Api) -> None:
    # given B's tokens flagged under the default 90 days
    world = await _world(api)
    await run_sweep()
    # when B raises its threshold to 110 days and the sweep runs again
    await api.ok(UPDATE_SETTINGS, {"input": {"staleAfterDays": 110}}, world.b.session)
    result = await run_sweep()
    # then only the token idle for 120 days is still stale in B
    stale_b = await api.ok(STALE_TOKENS, token=world.b.session)
    assert {e["node"]["name"] for e in stale_b["managementTokens"]["edges"]} == {"b-never-used-120d"}
    assert result.flagged == 0


async def test_twice_in_a_row_one_report_per_run_and_no_second_revocation(api: Api) -> None:
    # given a sweep that already ran
    world = await _world(api)
    first = await run_sweep()
    revoked_row = await token_row(world.tokens["a-never-used-100d"][0])
    # when it runs again
    second = await run_sweep()
    # then a second report per workspace, listing what is still stale, with nothing revoked or flagged again
    assert len(second.report_ids) == 2 and set(second.report_ids).isdisjoint(first.report_ids)
    assert (second.stale, second.flagged, second.revoked) == (3, 0, 0)
    data = await api.ok(REPORTS, token=world.a.session)
    assert data["staleTokenReports"]["totalCount"] == 2
    assert set(_entries(data)) == {"a-idle-45d"}
    assert (await token_row(world.tokens["a-never-used-100d"][0])).revoked_at == revoked_row.revoked_at
    assert await AuditEvent.filter(actor_kind="SYSTEM", action="management_token.revoked").count() == 1
    assert await AuditEvent.filter(actor_kind="SYSTEM", action="management_token.flagged_stale").count() == 4


async def test_the_same_sweep_replayed_writes_nothing_twice(api: Api) -> None:
    # given a cron tick's sweep that completed (an arq retry replays the same sweep id)
    await _world(api)
    await run_sweep(sweep_id="cron:stale_sweep:1")
    # when
    replay = await run_sweep(sweep_id="cron:stale_sweep:1")
    # then
    assert replay.report_ids == [] and replay.stale == 0
    assert await StaleTokenReport.filter(sweep_id="cron:stale_sweep:1").count() == 2


@pytest.mark.parametrize("same_id", [False, True])
async def test_twice_at_once_revokes_exactly_once(api: Api, same_id: bool) -> None:
    # given stale tokens
    world = await _world(api)
    # when two sweeps run at the same time
    ids = ["tick", "tick"] if same_id else [None, None]
    results = await asyncio.gather(*(run_sweep(sweep_id=i) for i in ids))
    # then one revocation, one flag per token, and reports that do not repeat within a run
    assert sum(r.revoked for r in results) == 1
    assert sum(r.flagged for r in results) == 4
    assert await AuditEvent.filter(actor_kind="SYSTEM", action="management_token.revoked").count() == 1
    for report_id in [rid for r in results for rid in r.report_ids]:
        tokens = await StaleTokenReportEntry.filter(report_id=report_id).values_list("token_id", flat=True)
        assert len(tokens) == len(set(tokens))
    expected_reports = 2 if same_id else 4
    assert await StaleTokenReport.all().count() == expected_reports
    assert (await token_row(world.tokens["a-never-used-100d"][0])).revoked_at is not None


async def test_sweep_is_set_based(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # given many stale tokens in one workspace
    owner = await api.sign_up()
    await api.ok(UPDATE_SETTINGS, {"input": {"staleAfterDays": 1, "autoRevokeStaleAfterDays": 2}}, owner.session)
    for i in range(30):
        token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name=f"t{i}")
        await ManagementToken.filter(id=pk_of(token_id, "ManagementToken")).update(
            created_at=NOW - timedelta(days=1 + i % 3)
        )
    # when the sweep runs
    with statements(monkeypatch) as seen:
        result = await run_sweep()
    # then a fixed number of statements did the work, not one per token, and no token row came back
    # to Python: unflag, reports and entries, then flag and revoke, each with its audit, and one look
    # for webhook endpoints that listen (none here), and one look per credential table for expiries to
    # announce (none here). PostgreSQL writes reports with their entries and expiring API keys, and each
    # change with its audit, in one statement (data-modifying CTEs): 7. SQLite: reports, entries, expiring
    # API keys, and the audit INSERT ... SELECT before each UPDATE: 11. The advisory lock (PostgreSQL) is
    # not counted.
    assert (result.stale, result.flagged, result.revoked) == (30, 30, 20)
    work = [sql for sql in seen if "pg_advisory_xact_lock" not in sql]
    postgres = "$1" in work[0]
    assert len(work) == (7 if postgres else 11), seen
    assert len(updates_of(seen, "management_token")) == 3
    events = await AuditEvent.filter(actor_kind="SYSTEM").values("action", "details")
    assert (
        sorted(e["action"] for e in events)
        == ["management_token.flagged_stale"] * 30 + ["management_token.revoked"] * 20
    )
    revocation = next(e["details"] for e in events if e["action"] == "management_token.revoked")
    assert set(revocation) == {"name", "keyPrefix", "reason", "idleDays", "automatic"}
    assert revocation["automatic"] is True and revocation["reason"] == "NEVER_USED"
    assert revocation["idleDays"] >= 2 and revocation["name"].startswith("t")


async def test_update_workspace_settings_validates_and_turns_auto_revoke_off(api: Api) -> None:
    owner = await api.sign_up()
    # a revocation threshold below the stale threshold is a user error
    body = await api.gql(
        UPDATE_SETTINGS, {"input": {"staleAfterDays": 30, "autoRevokeStaleAfterDays": 10}}, owner.session
    )
    assert [e["code"] for e in body["data"]["updateWorkspaceSettings"]["userErrors"]] == ["OUT_OF_RANGE"]
    # valid values are stored; null turns automatic revocation off; leaving it out keeps it
    data = await api.ok(
        UPDATE_SETTINGS, {"input": {"staleAfterDays": 30, "autoRevokeStaleAfterDays": 45}}, owner.session
    )
    assert data["updateWorkspaceSettings"]["workspace"] | {"id": None} == {
        "id": None,
        "staleAfterDays": 30,
        "autoRevokeStaleAfterDays": 45,
    }
    data = await api.ok(UPDATE_SETTINGS, {"input": {"staleAfterDays": 40}}, owner.session)
    assert data["updateWorkspaceSettings"]["workspace"]["autoRevokeStaleAfterDays"] == 45
    data = await api.ok(UPDATE_SETTINGS, {"input": {"autoRevokeStaleAfterDays": None}}, owner.session)
    assert data["updateWorkspaceSettings"]["workspace"]["autoRevokeStaleAfterDays"] is None
    # and a member may not change them
    member = await api.add_member(owner, "MEMBER")
    body = await api.gql(UPDATE_SETTINGS, {"input": {"staleAfterDays": 10}}, member.session)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_stale_fields_are_for_admins_only(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    _, secret = await api.create_token(owner, ALL_PERMISSIONS)
    for credential in (member.session, secret):
        assert error_codes(await api.gql(REPORTS, token=credential)) == ["FORBIDDEN"]
        assert error_codes(await api.gql(STALE_TOKENS, token=credential)) == ["FORBIDDEN"]


async def test_token_tables_leave_room_for_in_place_updates(api: Api, database_url: str) -> None:
    # The flush and the sweep update unindexed columns of many rows: with free room on each page
    # PostgreSQL updates them in place (HOT), without new entries in every index (migration 0002).
    if not database_url.startswith("postgres"):
        pytest.skip("fillfactor is PostgreSQL's")
    from tortoise.connection import get_connection

    rows = await get_connection("default").execute_query_dict(
        "SELECT relname, reloptions FROM pg_class WHERE relname IN ('management_token', 'api_key') ORDER BY relname"
    )
    assert [(r["relname"], r["reloptions"]) for r in rows] == [
        ("api_key", ["fillfactor=70"]),
        ("management_token", ["fillfactor=70"]),
    ]
