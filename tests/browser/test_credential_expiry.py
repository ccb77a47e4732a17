"""Expiry in the console: the create dialogs' expiration (presets, custom date, no expiry unless the workspace
forbids it), Expires and Expired in the tables, and Rotate asking when the old credential stops."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from app.models import ApiKey, ManagementToken
from tests.browser.support import SyncApi, log_in, pk, run_in_database

TOKENS = "{ managementTokens { edges { node { id name status expiresAt replaces { id } } } } }"
KEYS = "query($p: ID!) { apiKeys(projectId: $p) { edges { node { id name status expiresAt } } } }"
POLICY = "mutation($d: Int) { updateWorkspaceSettings(input: {maxTokenLifetimeDays: $d}) { userErrors { code } } }"
LIFETIME = "{ viewer { workspace { maxTokenLifetimeDays } } }"


def _tokens(api: SyncApi, session: str) -> dict[str, dict[str, object]]:
    edges = api.ok(TOKENS, token=session)["managementTokens"]["edges"]
    return {e["node"]["name"]: e["node"] for e in edges}


def _days_ahead(iso: object) -> float:
    assert isinstance(iso, str)
    return (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds() / 86400


def _shown(iso: object) -> str:
    """A time as the console's <time datetime> writes it (JavaScript's toISOString)."""
    assert isinstance(iso, str)
    return datetime.fromisoformat(iso).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _create_token(page: Page, name: str, expiration: str | None) -> None:
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    dialog.get_by_label("Name").fill(name)
    if expiration is not None:
        dialog.get_by_label("Expiration").select_option(label=expiration)
    dialog.get_by_role("checkbox", name="View projects").check()
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    save = page.get_by_role("dialog", name="Save your key")
    save.get_by_role("button", name="I have saved my key").click()
    expect(save).to_have_count(0)


def test_a_token_gets_an_expiry_from_a_preset_a_custom_date_or_none(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    # when: one token with the 7-day preset, one with no expiry (the default)
    _create_token(page, "weekly", "7 days")
    _create_token(page, "forever", None)
    # and one with a custom date
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    expect(dialog.get_by_label("Expiration")).to_have_value("")  # No expiry
    expect(dialog.get_by_label("Expiry date")).to_be_hidden()
    dialog.get_by_label("Name").fill("custom")
    dialog.get_by_label("Expiration").select_option(label="Custom date")
    custom_day = (datetime.now() + timedelta(days=45)).date()
    dialog.get_by_label("Expiry date").fill(custom_day.isoformat())
    dialog.get_by_role("checkbox", name="View projects").check()
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    page.get_by_role("dialog", name="Save your key").get_by_role("button", name="I have saved my key").click()
    # then: the API has the expiries, and the table shows them
    tokens = _tokens(api, owner.session)
    assert 6.9 < _days_ahead(tokens["weekly"]["expiresAt"]) <= 7
    assert tokens["forever"]["expiresAt"] is None
    custom = datetime.fromisoformat(str(tokens["custom"]["expiresAt"])).astimezone()
    assert custom.date() == custom_day
    weekly = page.locator("#management-tokens tbody tr", has_text="weekly").locator("td.expires time")
    expect(weekly).to_have_attribute("datetime", _shown(tokens["weekly"]["expiresAt"]))
    expect(page.locator("#management-tokens tbody tr", has_text="forever").locator("td.expires")).to_have_text("Never")


def test_the_workspace_policy_removes_no_expiry_and_longer_presets(page: Page, api: SyncApi) -> None:
    # given a workspace whose tokens must expire within 30 days
    owner = api.sign_up()
    api.ok(POLICY, {"d": 30}, owner.session)
    log_in(page, owner.email)
    # when the create dialog opens
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    # then it offers 7 and 30 days and a custom date, 30 days chosen, and says why
    options = dialog.get_by_label("Expiration").locator("option").all_inner_texts()
    assert options == ["7 days", "30 days", "Custom date"]
    expect(dialog.get_by_label("Expiration")).to_have_value("30")
    expect(dialog).to_contain_text("This workspace requires every token to expire within 30 days.")
    # and the token it creates expires in 30 days
    dialog.get_by_label("Name").fill("bounded")
    dialog.get_by_role("checkbox", name="View projects").check()
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    page.get_by_role("dialog", name="Save your key").get_by_role("button", name="I have saved my key").click()
    assert 29.9 < _days_ahead(_tokens(api, owner.session)["bounded"]["expiresAt"]) <= 30


def test_an_expired_token_reads_expired_and_offers_no_rotate(page: Page, api: SyncApi, database_url: str) -> None:
    # given a token whose expiry has passed
    owner = api.sign_up()
    token_id, _ = api.create_token(owner, "old", ["VIEW_PROJECTS"])

    async def expire() -> None:
        await ManagementToken.filter(id=pk(token_id)).update(expires_at=datetime.now(UTC) - timedelta(hours=1))

    run_in_database(database_url, expire)
    # when
    log_in(page, owner.email)
    row = page.locator("#management-tokens tbody tr", has_text="old")
    # then
    expect(row.locator("td.status")).to_have_text("Expired")
    expect(row.locator("td.expires time")).to_have_count(1)
    page.get_by_role("button", name="Options for old").click()
    expect(page.get_by_role("menuitem", name="View details")).to_be_visible()
    expect(page.get_by_role("menuitem", name="Rotate")).to_have_count(0)


def test_rotate_asks_when_the_old_token_stops_working(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    api.create_token(owner, "deploy", ["VIEW_PROJECTS"])
    log_in(page, owner.email)
    # when: Rotate, the old one stops in 7 days
    page.get_by_role("button", name="Options for deploy").click()
    page.get_by_role("menuitem", name="Rotate").click()
    dialog = page.get_by_role("dialog", name="Rotate management token")
    expect(dialog.get_by_label("The current token stops working")).to_have_value("")  # as today: until revoked
    dialog.get_by_label("The current token stops working").select_option(label="In 7 days")
    dialog.get_by_role("button", name="Rotate").click()
    page.get_by_role("dialog", name="Save your key").get_by_role("button", name="I have saved my key").click()
    # then: the old token expires in 7 days, the replacement does not
    edges = api.ok(TOKENS, token=owner.session)["managementTokens"]["edges"]
    replacement = next(e["node"] for e in edges if e["node"]["replaces"])
    old = next(e["node"] for e in edges if e["node"]["id"] == replacement["replaces"]["id"])
    assert 6.9 < _days_ahead(old["expiresAt"]) <= 7 and replacement["expiresAt"] is None


def test_api_keys_get_an_expiry_show_it_and_rotate_with_grace(page: Page, api: SyncApi, database_url: str) -> None:
    # given a project
    owner = api.sign_up()
    project = api.create_project(owner.session, "Shop")
    log_in(page, owner.email)
    page.goto(f"/#/projects/{project}")
    # when: a key with the 90-day preset
    page.get_by_role("button", name="+ Create API key").click()
    dialog = page.get_by_role("dialog", name="Create API key")
    dialog.get_by_label("Name").fill("checkout")
    dialog.get_by_label("Expiration").select_option(label="90 days")
    dialog.get_by_role("button", name="Create API key").click()
    save = page.get_by_role("dialog", name="Save your key")
    secret = save.get_by_label("Key value").input_value()
    save.get_by_role("button", name="I have saved my key").click()
    # then
    [key] = [e["node"] for e in api.ok(KEYS, {"p": project}, owner.session)["apiKeys"]["edges"]]
    assert 89.9 < _days_ahead(key["expiresAt"]) <= 90
    row = page.locator("#api-keys tbody tr", has_text="checkout")
    expect(row.locator("td.status")).to_have_text("Active")
    expect(row.locator("td.expires time")).to_have_attribute("datetime", _shown(key["expiresAt"]))
    # when: rotated, the old key stopping now
    page.get_by_role("button", name="Rotate checkout").click()
    rotate = page.get_by_role("dialog", name="Rotate API key")
    rotate.get_by_label("The current key stops working").select_option(label="Now")
    rotate.get_by_role("button", name="Rotate").click()
    page.get_by_role("dialog", name="Save your key").get_by_role("button", name="I have saved my key").click()
    # then: the old key is refused as expired, and the table shows it
    assert api.verify(secret)["code"] == "EXPIRED"
    expired_row = page.locator(f"#api-keys tr[data-api-key-id='{key['id']}']")
    expect(expired_row.locator("td.status")).to_have_text("Expired")
    expect(page.locator("#api-keys tbody tr")).to_have_count(2)
    assert run_in_database(database_url, lambda: ApiKey.filter(name="checkout").count()) == 2


def test_an_admin_limits_the_token_lifetime_in_the_console_and_lifts_it(page: Page, api: SyncApi) -> None:
    # given a workspace without a limit
    owner = api.sign_up()
    log_in(page, owner.email)
    lifetime = page.locator("#token-lifetime")
    expect(lifetime).to_contain_text("New tokens and API keys may be created without an expiry.")
    days = lifetime.get_by_label("Longest lifetime in days")
    expect(days).to_be_disabled()
    # when: one day past the longest allowed
    lifetime.get_by_label("Limit the lifetime of new tokens and API keys").check()
    days.fill("3651")
    lifetime.get_by_role("button", name="Save lifetime").click()
    # then: refused next to the field, and nothing changed
    expect(lifetime.locator("[data-field='maxTokenLifetimeDays'] .field-error")).to_contain_text("between 1 and 3650")
    assert api.ok(LIFETIME, token=owner.session)["viewer"]["workspace"]["maxTokenLifetimeDays"] is None
    # when: 30 days
    days.fill("30")
    lifetime.get_by_role("button", name="Save lifetime").click()
    # then: saved, and a new token's dialog no longer offers No expiry
    expect(lifetime).to_contain_text("Saved. New tokens and API keys must expire within 30 days.")
    assert api.ok(LIFETIME, token=owner.session)["viewer"]["workspace"]["maxTokenLifetimeDays"] == 30
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    expect(dialog.get_by_label("Expiration").locator("option", has_text="No expiry")).to_have_count(0)
    dialog.get_by_role("button", name="Cancel").click()
    # when: the limit is lifted
    lifetime.get_by_label("Limit the lifetime of new tokens and API keys").uncheck()
    lifetime.get_by_role("button", name="Save lifetime").click()
    # then
    expect(lifetime).to_contain_text("Saved. New tokens and API keys may be created without an expiry.")
    assert api.ok(LIFETIME, token=owner.session)["viewer"]["workspace"]["maxTokenLifetimeDays"] is None
    page.reload()
    expect(page.locator("#token-lifetime").get_by_label("Longest lifetime in days")).to_be_disabled()
