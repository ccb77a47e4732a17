"""The stale report lists the API keys that expire within 7 days, so the scheduled report warns
before they stop working; the sweep never revokes or changes them."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from app.clock import utcnow
from app.graphql.ids import pk_of
from app.models import ApiKey, AuditEvent, ManagementToken, StaleTokenReport, StaleTokenReportApiKey, WebhookEvent
from app.services.stale_reports import newest_reports
from app.services.stale_sweep import run_sweep
from keyward.stale_report_output import render
from tests.support.api import Account, Api
from tests.support.app_clock import AppClock
from tests.support.webhooks import create_endpoint

REPORTS = """
{ staleTokenReports(first: 10) { edges { node { id
  entries { token { name } reason }
  expiringApiKeys { apiKey { id name keyPrefix status project { name } } expiresAt lastUsedAt }
} } } }"""
REPORT_NODE = """
query($id: ID!) { node(id: $id) { ... on StaleTokenReport { expiringApiKeys { apiKey { id } } } } }"""
REVOKE_AFTER_30 = """mutation { updateWorkspaceSettings(input: {staleAfterDays: 30, autoRevokeStaleAfterDays: 30}) {
  userErrors { code } } }"""
DELETE_API_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { userErrors { code } } }"
DELETE_PROJECT = "mutation($id: ID!) { deleteProject(input: {id: $id}) { userErrors { code } } }"


def ahead(**by: float) -> str:
    return (utcnow() + timedelta(**by)).isoformat()


def key_pk(global_id: str) -> int:
    pk = pk_of(global_id, "ApiKey")
    assert pk is not None
    return pk


async def reports(api: Api, account: Account) -> list[dict[str, Any]]:
    return [edge["node"] for edge in (await api.ok(REPORTS, token=account.session))["staleTokenReports"]["edges"]]


async def test_keys_expiring_within_7_days_are_listed_with_their_expiry(api: Api) -> None:
    # given a workspace that revokes after 30 idle days, a token idle for 40 days, and keys created 40 days ago:
    # one expiring in 3 days (used 2 days ago), one in 8 days, one never, one already expired, one deleted
    owner = await api.sign_up()
    await api.ok(REVOKE_AFTER_30, token=owner.session)
    project = await api.create_project(owner.session, "Billing")
    soon_at = ahead(days=3)
    soon_id, soon_secret = await api.create_api_key(owner.session, project, "soon", expiresAt=soon_at)
    await api.create_api_key(owner.session, project, "in-8-days", expiresAt=ahead(days=8))
    await api.create_api_key(owner.session, project, "never")
    expired_id, _ = await api.create_api_key(owner.session, project, "expired", expiresAt=ahead(days=1))
    deleted_id, _ = await api.create_api_key(owner.session, project, "deleted", expiresAt=ahead(days=2))
    await api.ok(DELETE_API_KEY, {"id": deleted_id}, owner.session)
    await api.create_token(owner, ["VIEW_PROJECTS"], "idle")
    long_ago = utcnow() - timedelta(days=40)
    await ManagementToken.all().update(created_at=long_ago)
    await ApiKey.all().update(created_at=long_ago)
    await ApiKey.filter(id=key_pk(expired_id)).update(expires_at=utcnow() - timedelta(hours=1))
    used_at = utcnow() - timedelta(days=2)
    await ApiKey.filter(id=key_pk(soon_id)).update(last_used_at=used_at)
    before = await ApiKey.get(id=key_pk(soon_id))
    # when the sweep runs
    result = await run_sweep()
    # then the report lists the one key within 7 days, with its expiry and last use, beside the revoked token
    assert (result.revoked, result.expiring_api_keys) == (1, 1)
    [report] = await reports(api, owner)
    assert [(e["token"]["name"], e["reason"]) for e in report["entries"]] == [("idle", "NEVER_USED")]
    [listed] = report["expiringApiKeys"]
    assert listed["apiKey"] | {"keyPrefix": None} == {
        "id": soon_id,
        "name": "soon",
        "keyPrefix": None,
        "status": "ACTIVE",
        "project": {"name": "Billing"},
    }
    assert soon_secret.startswith(listed["apiKey"]["keyPrefix"])
    assert datetime.fromisoformat(listed["expiresAt"]) == datetime.fromisoformat(soon_at)
    assert datetime.fromisoformat(listed["lastUsedAt"]) == used_at
    # and the sweep left the key as it was: it still verifies, nothing was audited about it
    after = await ApiKey.get(id=key_pk(soon_id))
    assert (after.expires_at, after.last_used_at, after.allowed_ips) == (
        before.expires_at,
        before.last_used_at,
        before.allowed_ips,
    )
    assert (await api.http.post("/v1/keys/verify", json={"key": soon_secret})).json()["valid"] is True
    assert await AuditEvent.filter(target_type="ApiKey", actor_kind="SYSTEM").count() == 0


async def test_a_key_comes_into_the_report_as_its_expiry_nears(api: Api, app_clock: AppClock) -> None:
    # given a workspace whose only credential near its expiry is a key expiring in 8 days
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    key_id, _ = await api.create_api_key(owner.session, project, "in-8-days", expiresAt=ahead(days=8))
    # when the sweep runs now, then it writes no report
    assert (await run_sweep()).report_ids == []
    # when it runs two days later (the clock moved, no sleeping)
    app_clock.advance(days=2)
    result = await run_sweep()
    # then the key is listed, in a report of its own workspace
    [report_id] = result.report_ids
    assert await StaleTokenReportApiKey.filter(report_id=report_id).values_list("api_key_id", flat=True) == [
        key_pk(key_id)
    ]
    # and once it has expired it is not listed again
    app_clock.advance(days=7)
    assert (await run_sweep()).report_ids == []


async def test_a_workspace_with_only_an_expiring_key_gets_a_report_that_only_its_admins_see(api: Api) -> None:
    # given a workspace with one key expiring in 3 days and no stale token, and another workspace
    owner = await api.sign_up(workspace="Keys only")
    project = await api.create_project(owner.session)
    key_id, _ = await api.create_api_key(owner.session, project, "soon", expiresAt=ahead(days=3))
    other = await api.sign_up(workspace="Other")
    # when the sweep runs
    result = await run_sweep()
    # then the workspace gets a report that warns about the key
    [report] = await reports(api, owner)
    assert report["entries"] == []
    assert [k["apiKey"]["id"] for k in report["expiringApiKeys"]] == [key_id]
    assert result.report_ids == [pk_of(report["id"], "StaleTokenReport")]
    assert (await api.ok(REPORT_NODE, {"id": report["id"]}, owner.session))["node"]["expiringApiKeys"] != []
    # and the other workspace's admin sees neither the report nor the key
    assert await reports(api, other) == []
    assert (await api.ok(REPORT_NODE, {"id": report["id"]}, other.session))["node"] is None


async def test_a_replayed_sweep_lists_no_key_twice(api: Api) -> None:
    # given a cron tick's sweep that listed an expiring key
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    await api.create_api_key(owner.session, project, "soon", expiresAt=ahead(days=3))
    first = await run_sweep(sweep_id="cron:stale_sweep:7")
    # when arq replays the same tick
    replay = await run_sweep(sweep_id="cron:stale_sweep:7")
    # then the replay writes nothing
    assert (first.expiring_api_keys, replay.expiring_api_keys, replay.report_ids) == (1, 0, [])
    assert await StaleTokenReport.filter(sweep_id="cron:stale_sweep:7").count() == 1
    assert await StaleTokenReportApiKey.all().count() == 1


async def test_keys_of_a_deleted_project_or_deleted_after_the_sweep_are_not_listed(api: Api) -> None:
    # given keys expiring in 3 days: one in a project deleted before the sweep, one kept
    owner = await api.sign_up()
    gone = await api.create_project(owner.session, "Gone")
    kept = await api.create_project(owner.session, "Kept")
    await api.create_api_key(owner.session, gone, "in-gone", expiresAt=ahead(days=3))
    key_id, _ = await api.create_api_key(owner.session, kept, "in-kept", expiresAt=ahead(days=3))
    await api.ok(DELETE_PROJECT, {"id": gone}, owner.session)
    # when the sweep runs
    await run_sweep()
    # then only the kept project's key is listed
    [report] = await reports(api, owner)
    assert [k["apiKey"]["name"] for k in report["expiringApiKeys"]] == ["in-kept"]
    # and once that key is deleted too, the report no longer lists it
    await api.ok(DELETE_API_KEY, {"id": key_id}, owner.session)
    [report] = await reports(api, owner)
    assert report["expiringApiKeys"] == []


async def test_cli_report_and_webhook_carry_the_expiring_keys_without_secrets(api: Api) -> None:
    # given a workspace that listens for reports, with a key expiring in 3 days
    owner = await api.sign_up(workspace="Acme")
    await create_endpoint(api, owner, "https://hooks.invalid/reports", ["STALE_TOKEN_REPORT_READY"])
    project = await api.create_project(owner.session, "Payments")
    expires_at = ahead(days=3)
    key_id, secret = await api.create_api_key(owner.session, project, "checkout", expiresAt=expires_at)
    # when the sweep runs
    await run_sweep()
    # then `keyward stale-report` shows the key: its prefix, project and expiry, one line, in the table
    views = await newest_reports()
    table = render(views, "table")
    prefix = views[0].expiring_api_keys[0].key_prefix
    assert "0 token(s), 1 API key(s) expiring soon" in table
    [line] = [line for line in table.splitlines() if prefix in line]
    assert "Payments" in line and f"{datetime.fromisoformat(expires_at).astimezone(UTC):%Y-%m-%d %H:%M}" in line
    [report] = orjson.loads(render(views, "json"))
    assert [(k["apiKeyId"], k["projectName"]) for k in report["expiringApiKeys"]] == [(key_id, "Payments")]
    # and the report-ready webhook counts and lists it
    [event] = await WebhookEvent.filter(type="stale_token_report.ready")
    data = event.data["staleTokenReport"]
    assert (data["expiringApiKeyCount"], data["expiringApiKeysTruncated"]) == (1, False)
    [listed] = data["expiringApiKeys"]
    assert listed["apiKey"]["id"] == key_id and listed["apiKey"]["keyPrefix"] == prefix
    assert datetime.fromisoformat(listed["expiresAt"]) == datetime.fromisoformat(expires_at)
    # and no output carries the secret
    for text in (table, render(views, "json"), render(views, "csv"), orjson.dumps(event.data).decode()):
        assert secret not in text and secret[len(prefix) :] not in text
