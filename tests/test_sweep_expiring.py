"""The sweep warns before credentials expire: EXPIRING entries, one CREDENTIAL_EXPIRING event per credential,
and never a flag or a revocation for them."""

from datetime import UTC, datetime, timedelta

from app.graphql.ids import pk_of
from app.models import ManagementToken, WebhookEvent
from app.services.stale_sweep import run_sweep
from tests.support.api import Api
from tests.support.app_clock import AppClock
from tests.support.webhooks import create_endpoint

REPORTS = """
{ staleTokenReports(first: 10) { edges { node { entries { token { id name status } reason autoRevoked } } } } }"""
SETTINGS = """mutation { updateWorkspaceSettings(input: {staleAfterDays: 30, autoRevokeStaleAfterDays: 30}) {
  userErrors { code } } }"""


def ahead(**by: float) -> str:
    return (datetime.now(UTC) + timedelta(**by)).isoformat()


async def test_tokens_expiring_within_7_days_are_listed_and_never_revoked(api: Api) -> None:
    # given a workspace that revokes after 30 idle days, with tokens idle for 40 days: one expiring in 3 days,
    # one in 10 days, one never
    owner = await api.sign_up()
    await api.ok(SETTINGS, token=owner.session)
    soon_id, soon = await api.create_token(owner, ["VIEW_PROJECTS"], "soon", expiresAt=ahead(days=3))
    later_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "later", expiresAt=ahead(days=10))
    never_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "never")
    long_ago = datetime.now(UTC) - timedelta(days=40)
    await ManagementToken.all().update(created_at=long_ago)
    # when the sweep runs
    result = await run_sweep()
    # then the expiring token is listed as EXPIRING, not revoked, not flagged; the others are revoked as stale
    assert result.revoked == 2
    [report] = (await api.ok(REPORTS, token=owner.session))["staleTokenReports"]["edges"]
    entries = {
        e["token"]["name"]: (e["reason"], e["autoRevoked"], e["token"]["status"]) for e in report["node"]["entries"]
    }
    assert entries == {
        "soon": ("EXPIRING", False, "ACTIVE"),
        "later": ("NEVER_USED", True, "REVOKED"),
        "never": ("NEVER_USED", True, "REVOKED"),
    }
    token = await ManagementToken.get(id=pk_of(soon_id, "ManagementToken"))
    assert token.stale_since is None and token.revoked_at is None
    assert (await api.post("{ viewer { kind } }", token=soon)).status_code == 200
    assert later_id and never_id


async def test_credential_expiring_is_sent_once_per_credential(api: Api, app_clock: AppClock) -> None:
    # given a token and a key that expire in 3 days, a key that expires in 10, and a listening endpoint
    owner = await api.sign_up()
    await create_endpoint(api, owner, "https://hooks.invalid/expiring", ["CREDENTIAL_EXPIRING"])
    project = await api.create_project(owner.session)
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "soon", expiresAt=ahead(days=3))
    key_id, _ = await api.create_api_key(owner.session, project, "soon", expiresAt=ahead(days=3))
    later_key_id, _ = await api.create_api_key(owner.session, project, "later", expiresAt=ahead(days=10))
    # when the sweep runs twice
    await run_sweep()
    await run_sweep()
    # then each credential within 7 days is announced once
    sent = await WebhookEvent.filter(type="credential.expiring").order_by("id")
    announced = [e.data["credential"].get("managementToken", e.data["credential"].get("apiKey"))["id"] for e in sent]
    assert announced == [token_id, key_id]
    assert [e.data["credential"]["kind"] for e in sent] == ["MANAGEMENT_TOKEN", "API_KEY"]
    # when the later key comes within 7 days (sessions last 12 hours: the sweep runs in-process)
    app_clock.advance(days=3, hours=1)
    await run_sweep()
    await run_sweep()
    # then it is announced too, once; the others are not announced again
    sent = await WebhookEvent.filter(type="credential.expiring").order_by("id")
    assert [e.data["credential"].get("apiKey", {}).get("id") for e in sent][2:] == [later_key_id]


async def test_the_expiring_event_carries_the_expiry(api: Api) -> None:
    owner = await api.sign_up()
    await create_endpoint(api, owner, "https://hooks.invalid/expiring", ["CREDENTIAL_EXPIRING"])
    expires_at = ahead(days=2)
    await api.create_token(owner, ["VIEW_PROJECTS"], "soon", expiresAt=expires_at)
    await run_sweep()
    [sent] = await WebhookEvent.filter(type="credential.expiring")
    assert datetime.fromisoformat(sent.data["expiresAt"]) == datetime.fromisoformat(expires_at)
    token = sent.data["credential"]["managementToken"]
    assert datetime.fromisoformat(token["expiresAt"]) == datetime.fromisoformat(expires_at)
    assert token["status"] == "ACTIVE"
