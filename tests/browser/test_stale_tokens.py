"""Stale tokens: the newest sweep report with one-click revoke, and the workspace's stale settings."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from app.models import ApiKey
from app.services.stale_sweep import run_sweep
from tests.browser.support import SyncApi, log_in, mark_used, pk, run_in_database, write_stale_report

WORKSPACE = "{ viewer { workspace { staleAfterDays autoRevokeStaleAfterDays } } }"
REVOKE = "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code } } }"
CALLER = "{ viewer { kind } }"


def test_newest_report_with_one_click_revoke(page: Page, api: SyncApi, database_url: str) -> None:
    # given: an older report, then a newer one listing a never-used and an inactive token
    owner = api.sign_up()
    earlier_id, _ = api.create_token(owner, "earlier-report-only", ["VIEW_PROJECTS"])
    never_id, never_secret = api.create_token(owner, "never-used", ["VIEW_PROJECTS"])
    idle_id, idle_secret = api.create_token(owner, "inactive", ["VIEW_API_KEYS"])
    mark_used(database_url, idle_id, datetime.now(UTC) - timedelta(days=120), "192.0.2.9")
    write_stale_report(database_url, [earlier_id], datetime.now(UTC) - timedelta(days=1), 90)
    write_stale_report(database_url, [never_id, idle_id], datetime.now(UTC), 90)
    log_in(page, owner.email)
    report = page.locator("#stale-tokens")
    # then: only the newest report's entries
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report).not_to_contain_text("earlier-report-only")
    never_row = report.locator(f"tr[data-token-id='{never_id}']")
    idle_row = report.locator(f"tr[data-token-id='{idle_id}']")
    expect(never_row).to_contain_text("Never used")
    expect(idle_row).to_contain_text("Inactive")
    expect(idle_row).to_contain_text("4 months ago")
    # when: one click revokes
    never_row.get_by_role("button", name="Revoke never-used").click()
    # then: the entry says so, the tokens table agrees, the API refuses the token
    expect(never_row).to_contain_text("Revoked")
    expect(page.locator(f"#management-tokens tr[data-token-id='{never_id}'] td.status")).to_have_text("Revoked")
    assert api.post(CALLER, token=never_secret).status_code == 401
    assert api.post(CALLER, token=idle_secret).status_code == 200
    # when: a token already revoked elsewhere is revoked here
    api.ok(REVOKE, {"id": idle_id}, token=owner.session)
    idle_row.get_by_role("button", name="Revoke inactive").click()
    # then: the API's answer in words, next to the button that caused it
    expect(idle_row.locator(".field-error")).to_have_text("This management token is already revoked.")


def test_stale_settings_are_saved_and_checked(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    settings = page.locator("#stale-tokens form")
    auto_revoke_days = settings.get_by_label("Days without use before automatic revocation")
    expect(auto_revoke_days).to_be_disabled()
    # when: stale after 30 days, revoked automatically after 60
    settings.get_by_label("Days without use before a token is stale").fill("30")
    settings.get_by_label("Revoke stale tokens automatically").check()
    auto_revoke_days.fill("60")
    settings.get_by_role("button", name="Save settings").click()
    # then
    expect(settings.get_by_role("status")).to_contain_text("revoked automatically after 60 days")
    workspace = api.ok(WORKSPACE, token=owner.session)["viewer"]["workspace"]
    assert workspace == {"staleAfterDays": 30, "autoRevokeStaleAfterDays": 60}
    # when: automatic revocation sooner than the stale threshold
    auto_revoke_days.fill("10")
    settings.get_by_role("button", name="Save settings").click()
    # then: the error sits next to that field and nothing changed
    expect(settings.locator("[data-field=autoRevokeStaleAfterDays] .field-error")).to_contain_text(
        "autoRevokeStaleAfterDays must be between"
    )
    assert api.ok(WORKSPACE, token=owner.session)["viewer"]["workspace"]["autoRevokeStaleAfterDays"] == 60
    # when: automatic revocation turned off
    settings.get_by_label("Revoke stale tokens automatically").uncheck()
    settings.get_by_role("button", name="Save settings").click()
    # then
    expect(settings.get_by_role("status")).to_contain_text("automatic revocation is off")
    workspace = api.ok(WORKSPACE, token=owner.session)["viewer"]["workspace"]
    assert workspace == {"staleAfterDays": 30, "autoRevokeStaleAfterDays": None}


def test_the_report_lists_api_keys_that_expire_soon(page: Page, api: SyncApi, database_url: str) -> None:
    # given a key that expires in 3 days, and a sweep that ran
    owner = api.sign_up()
    project = api.create_project(owner.session, "Checkout")
    key_id, secret = api.create_api_key(owner.session, project, "payments")

    async def expire_soon_and_sweep() -> None:
        await ApiKey.filter(id=pk(key_id)).update(expires_at=datetime.now(UTC) + timedelta(days=3, hours=1))
        await run_sweep()

    run_in_database(database_url, expire_soon_and_sweep)
    # when the owner opens the console
    log_in(page, owner.email)
    # then the newest report lists the key with its project and expiry, and never its secret
    row = page.locator(f"#stale-tokens tr[data-api-key-id='{key_id}']")
    expect(row).to_contain_text("payments")
    expect(row).to_contain_text("Checkout")
    expect(row).to_contain_text("in 3 days")
    assert secret not in page.content()
