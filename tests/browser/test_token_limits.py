"""What limits a credential, clicked through in Chromium: the allowlist field of both create dialogs, the
project picker of the token dialog, and ⋯ → Edit of a token."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.support import SyncApi, log_in

TOKENS = """{ managementTokens { edges { node {
  id name permissions allowedIps expiresAt projects { id name }
} } } }"""
KEYS = "query($p: ID!) { apiKeys(projectId: $p) { edges { node { id name allowedIps } } } }"
ROW = "#management-tokens tr[data-token-id='{}']"


def _tokens(api: SyncApi, session: str) -> dict[str, dict[str, object]]:
    edges = api.ok(TOKENS, token=session)["managementTokens"]["edges"]
    return {edge["node"]["name"]: edge["node"] for edge in edges}


def test_a_token_is_created_with_an_allowlist_and_limited_to_projects(page: Page, api: SyncApi) -> None:
    # given two projects
    owner = api.sign_up()
    website = api.create_project(owner.session, "Website")
    api.create_project(owner.session, "Billing")
    log_in(page, owner.email)
    # when: + Create management token, a name, a permission, only Website, two allowed addresses
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    dialog.get_by_label("Name").fill("deploy")
    dialog.get_by_role("checkbox", name="View projects").check()
    dialog.get_by_role("radio", name="Only these projects").check()
    dialog.get_by_role("checkbox", name="Website").check()
    dialog.get_by_label("Allowed IP addresses").fill("2001:db8:0::1\n198.51.100.0/24")
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    page.get_by_role("dialog", name="Save your key").get_by_role("button", name="I have saved my key").click()
    # then: the API shows the normalised allowlist and the one project
    token = _tokens(api, owner.session)["deploy"]
    assert token["allowedIps"] == ["2001:db8::1", "198.51.100.0/24"]
    assert token["projects"] == [{"id": website, "name": "Website"}]
    # and the details panel says so
    page.locator(ROW.format(token["id"])).get_by_role("button", name="Options for deploy").click()
    page.get_by_role("menuitem", name="View details").click()
    details = page.get_by_role("dialog", name="Token details")
    expect(details).to_contain_text("Website")
    expect(details).to_contain_text("198.51.100.0/24")


def test_a_bad_allowlist_entry_is_shown_next_to_the_field(page: Page, api: SyncApi) -> None:
    owner = api.sign_up()
    log_in(page, owner.email)
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    dialog.get_by_label("Name").fill("ci")
    dialog.get_by_role("checkbox", name="View projects").check()
    dialog.get_by_label("Allowed IP addresses").fill("10.0.0.1\n10.0.0.5/24")
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    # then: the error names the entry and the range it may have meant; nothing is created
    error = dialog.locator("[data-field=allowedIps] .field-error")
    expect(error).to_contain_text("'10.0.0.5/24' has host bits set")
    expect(error).to_contain_text("10.0.0.0/24")
    expect(dialog.get_by_label("Allowed IP addresses")).to_have_attribute("aria-invalid", "true")
    assert _tokens(api, owner.session) == {}


def test_an_api_key_is_created_with_an_allowlist(page: Page, api: SyncApi) -> None:
    owner = api.sign_up()
    project_id = api.create_project(owner.session, "Website")
    log_in(page, owner.email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Website").click()
    page.get_by_role("button", name="+ Create API key").click()
    dialog = page.get_by_role("dialog", name="Create API key")
    dialog.get_by_label("Name").fill("edge")
    dialog.get_by_label("Allowed IP addresses").fill("203.0.113.0/24")
    dialog.get_by_role("button", name="Create API key").click()
    save = page.get_by_role("dialog", name="Save your key")
    secret = save.get_by_label("Key value").input_value()
    save.get_by_role("button", name="I have saved my key").click()
    # then: the key carries the allowlist, and verify from this machine (127.0.0.1) refuses it
    [key] = [e["node"] for e in api.ok(KEYS, {"p": project_id}, token=owner.session)["apiKeys"]["edges"]]
    assert key["allowedIps"] == ["203.0.113.0/24"]
    assert api.verify(secret)["code"] == "IP_NOT_ALLOWED"


def test_edit_changes_name_permissions_allowlist_and_brings_the_expiry_forward(page: Page, api: SyncApi) -> None:
    owner = api.sign_up()
    token_id, _ = api.create_token(owner, "ci", ["VIEW_PROJECTS"])
    log_in(page, owner.email)
    # when: ⋯ → Edit
    page.locator(ROW.format(token_id)).get_by_role("button", name="Options for ci").click()
    page.get_by_role("menuitem", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit management token")
    expect(dialog.get_by_label("Name")).to_have_value("ci")
    expect(dialog.get_by_role("checkbox", name="View projects")).to_be_checked()
    dialog.get_by_label("Name").fill("deploy")
    dialog.get_by_role("checkbox", name="Create API key").check()
    dialog.get_by_label("Allowed IP addresses").fill("192.0.2.7")
    in_a_week = (datetime.now(UTC) + timedelta(days=7)).replace(second=0, microsecond=0)
    local = page.evaluate(
        "iso => { const d = new Date(iso); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
        " return d.toISOString().slice(0, 16); }",
        in_a_week.isoformat(),
    )
    dialog.get_by_label("Expires at (earlier only)").fill(local)
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_have_count(0)
    # then
    token = _tokens(api, owner.session)["deploy"]
    assert token["permissions"] == ["VIEW_PROJECTS", "CREATE_API_KEY"]
    assert token["allowedIps"] == ["192.0.2.7"]
    assert datetime.fromisoformat(str(token["expiresAt"])) == in_a_week
    expect(page.locator(ROW.format(token_id))).to_contain_text("deploy")
    # when: Edit again, with a later expiry
    page.locator(ROW.format(token_id)).get_by_role("button", name="Options for deploy").click()
    page.get_by_role("menuitem", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit management token")
    later = page.evaluate("iso => new Date(Date.parse(iso) + 864e5).toISOString().slice(0, 16)", in_a_week.isoformat())
    dialog.get_by_label("Expires at (earlier only)").fill(later)
    dialog.get_by_role("button", name="Save changes").click()
    # then: refused next to the field, saying to rotate
    expect(dialog.locator("[data-field=expiresAt] .field-error")).to_contain_text("rotate")
    assert _tokens(api, owner.session)["deploy"]["expiresAt"] == token["expiresAt"]
