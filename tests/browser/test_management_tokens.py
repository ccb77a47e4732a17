"""Management tokens exactly as the product page describes them, clicked through in Chromium."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, Request, expect

from tests.browser.support import SyncApi, log_in, mark_used, write_stale_report

CALLER = "{ viewer { kind permissions } }"
TOKENS = """{ managementTokens { totalCount edges { node {
  id keyPrefix status lastUsedIp staleSince replaces { id } replacedBy { id }
} } } }"""
REVOKE = "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code } } }"
ROW = "#management-tokens tr[data-token-id='{}']"
PAGE_DESCRIPTIONS = {
    "View projects": "View projects created within your workspace.",
    "Manage projects": "Manage, edit, and delete projects in your workspace.",
    "View API keys": "View API keys generated in your workspace.",
    "Delete API keys": "Delete API keys in your workspace.",
    "Create API key": "Create API keys in your workspace.",
}


def _focus_is_inside_dialog(page: Page) -> bool:
    return bool(page.evaluate("document.activeElement && document.activeElement.closest('dialog[open]') !== null"))


def _unlabelled_controls(page: Page) -> list[str]:
    return list(
        page.evaluate("""() => [...document.querySelectorAll(
        'dialog[open] input, dialog[open] select, dialog[open] textarea')]
        .filter(c => !c.labels.length && !c.getAttribute('aria-label')).map(c => c.outerHTML)""")
    )


def test_create_token_shows_the_key_once_then_forgets_it(
    page: Page, api: SyncApi, server_log: Path, snapshot: Callable[[str], Path]
) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    # when: + Create management token, a name, two permissions, Create management token
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    expect(dialog).to_be_visible()
    for label, description in PAGE_DESCRIPTIONS.items():
        expect(dialog.get_by_role("checkbox", name=label, exact=True)).to_be_visible()
        expect(dialog.get_by_text(description, exact=True)).to_be_visible()
    dialog.get_by_label("Name").fill("ci-pipeline")
    dialog.get_by_role("checkbox", name="View projects").check()
    dialog.get_by_role("checkbox", name="Create API key").check()
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    # then: the Save your key dialog with the value, a copy button and the warning
    save = page.get_by_role("dialog", name="Save your key")
    expect(save).to_be_visible()
    expect(save).to_contain_text("You cannot access this value again after closing this dialog.")
    secret = save.get_by_label("Key value").input_value()
    assert re.fullmatch(r"kwm_[0-9A-Za-z]{36}", secret)
    save.get_by_role("button", name="Copy").click()
    expect(save.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    snapshot("save-your-key")
    # and the API accepts the value with exactly the chosen permissions
    assert api.ok(CALLER, token=secret)["viewer"] == {
        "kind": "MANAGEMENT_TOKEN",
        "permissions": ["VIEW_PROJECTS", "CREATE_API_KEY"],
    }
    # when: the dialog is closed
    save.get_by_role("button", name="I have saved my key").click()
    # then: the table lists the token, and nothing on the page or in any request holds the value
    expect(save).to_have_count(0)
    row = page.locator("#management-tokens tbody tr", has_text="ci-pipeline")
    token = api.ok(TOKENS, token=owner.session)
    prefix = token["managementTokens"]["edges"][0]["node"]["keyPrefix"]
    assert secret.startswith(prefix)
    expect(row).to_contain_text(prefix)
    expect(row).to_contain_text("View projects")
    expect(row).to_contain_text("Create API key")
    expect(row.locator("td.last-used")).to_have_text("Never")
    expect(row.locator("td.status")).to_have_text("Active")
    page_state = page.evaluate("""() => document.documentElement.outerHTML
        + [...document.querySelectorAll('input, textarea')].map(e => e.value).join(' ')
        + JSON.stringify({...sessionStorage}) + JSON.stringify({...localStorage}) + location.href""")
    assert secret not in page_state
    assert all(secret not in (r.post_data or "") and secret not in r.url for r in requests)
    assert secret not in server_log.read_text()


def test_create_dialog_works_with_the_keyboard(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    opener = page.get_by_role("button", name="+ Create management token")
    # when: opened with Enter
    opener.focus()
    page.keyboard.press("Enter")
    # then: focus moved into the dialog, every control is labelled, Escape closes it
    dialog = page.get_by_role("dialog", name="Create management token")
    expect(dialog).to_be_visible()
    assert _focus_is_inside_dialog(page)
    expect(dialog.get_by_label("Name")).to_be_focused()
    assert _unlabelled_controls(page) == []
    page.keyboard.type("keyboard-only")
    page.keyboard.press("Tab")  # the first permission
    page.keyboard.press("Space")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
    assert api.ok(TOKENS, token=owner.session)["managementTokens"]["totalCount"] == 0


def test_create_errors_are_shown_next_to_their_fields(page: Page, api: SyncApi) -> None:
    # given: a token named ci-pipeline exists
    owner = api.sign_up()
    api.create_token(owner, "ci-pipeline", ["VIEW_PROJECTS"])
    log_in(page, owner.email)
    page.get_by_role("button", name="+ Create management token").click()
    dialog = page.get_by_role("dialog", name="Create management token")
    # when: no permission chosen
    dialog.get_by_label("Name").fill("ci-pipeline")
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    # then
    expect(dialog.locator("[data-field=permissions] .field-error")).to_have_text("Choose at least one permission.")
    # when: a permission, but the name is taken
    dialog.get_by_role("checkbox", name="View API keys").check()
    dialog.get_by_role("button", name="Create management token", exact=True).click()
    # then
    expect(dialog.locator("[data-field=name] .field-error")).to_contain_text("already exists")
    expect(dialog.locator("[data-field=permissions] .field-error")).to_be_hidden()
    expect(dialog.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    assert api.ok(TOKENS, token=owner.session)["managementTokens"]["totalCount"] == 1


def test_table_shows_last_used_relative_with_exact_time_and_stale_badge(
    page: Page, api: SyncApi, database_url: str, snapshot: Callable[[str], Path]
) -> None:
    # given: one token used three hours ago, one never used and flagged by the stale sweep
    owner = api.sign_up(workspace="Acme Corp")
    idle_id, _ = api.create_token(owner, "old-script", ["VIEW_API_KEYS"])
    revoked_id, _ = api.create_token(owner, "legacy-importer", ["VIEW_PROJECTS", "MANAGE_PROJECTS"])
    api.ok(REVOKE, {"id": revoked_id}, token=owner.session)
    used_id, _ = api.create_token(owner, "ci-pipeline", ["VIEW_PROJECTS", "MANAGE_PROJECTS", "CREATE_API_KEY"])
    used_at = datetime.now(UTC) - timedelta(hours=3)
    mark_used(database_url, used_id, used_at, "198.51.100.23")
    write_stale_report(database_url, [idle_id], datetime.now(UTC), 90)
    # when
    log_in(page, owner.email)
    # then
    used_row = page.locator(ROW.format(used_id))
    last_used = used_row.locator("td.last-used time")
    expect(last_used).to_have_text("3 hours ago")
    expect(last_used).to_have_attribute("title", re.compile(used_at.strftime("%b %-d, %Y")))
    expect(last_used).to_have_attribute("datetime", re.compile(used_at.strftime("%Y-%m-%dT%H:%M")))
    expect(used_row.locator(".badge.stale")).to_have_count(0)
    idle_row = page.locator(ROW.format(idle_id))
    expect(idle_row.locator("td.last-used")).to_have_text("Never")
    expect(idle_row.locator(".badge.stale")).to_have_text("Stale")
    expect(page.locator(ROW.format(revoked_id)).locator("td.status")).to_have_text("Revoked")
    snapshot("tokens-table")
    headers = page.locator("#management-tokens thead th").all_inner_texts()
    assert [h.strip().lower() for h in headers[:6]] == [
        "name",
        "key prefix",
        "permissions",
        "last used",
        "created",
        "status",
    ]
    # and the API says the same
    nodes = api.ok(TOKENS, token=owner.session)
    by_id = {e["node"]["id"]: e["node"] for e in nodes["managementTokens"]["edges"]}
    assert len(by_id) == 3
    assert by_id[used_id]["lastUsedIp"] == "198.51.100.23" and by_id[used_id]["staleSince"] is None
    assert by_id[idle_id]["staleSince"] is not None


def test_view_details_shows_the_token(page: Page, api: SyncApi, database_url: str) -> None:
    # given
    owner = api.sign_up()
    token_id, _ = api.create_token(owner, "key-rotation-script", ["VIEW_API_KEYS", "DELETE_API_KEYS"])
    mark_used(database_url, token_id, datetime.now(UTC) - timedelta(minutes=5), "192.0.2.44")
    log_in(page, owner.email)
    # when: ⋯ → View details
    page.locator(ROW.format(token_id)).get_by_role("button", name="Options for key-rotation-script").click()
    page.get_by_role("menuitem", name="View details").click()
    # then
    panel = page.get_by_role("dialog", name="Token details")
    expect(panel).to_be_visible()
    assert _focus_is_inside_dialog(page)
    details = panel.locator("dl.details")
    expect(details).to_contain_text("key-rotation-script")
    prefix = api.ok(TOKENS, token=owner.session)
    expect(details).to_contain_text(prefix["managementTokens"]["edges"][0]["node"]["keyPrefix"])
    expect(details).to_contain_text("5 minutes ago")
    expect(details).to_contain_text("192.0.2.44")
    expect(details).to_contain_text("View API keys")
    expect(details).to_contain_text("Delete API keys")
    expect(details).to_contain_text(owner.email)
    expect(details).to_contain_text(str(datetime.now(UTC).year))
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)


def test_options_menu_works_with_the_keyboard(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    token_id, _ = api.create_token(owner, "ci-pipeline", ["VIEW_PROJECTS"])
    log_in(page, owner.email)
    menu_button = page.locator(ROW.format(token_id)).get_by_role("button", name="Options for ci-pipeline")
    # when: Enter opens, arrows move, Escape closes back to the button
    menu_button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("menuitem", name="View details")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Rotate")).to_be_focused()
    page.keyboard.press("Escape")
    # then
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(menu_button).to_be_focused()
    expect(menu_button).to_have_attribute("aria-expanded", "false")


def test_rotate_shows_the_replacement_once_and_links_both(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    old_id, old_secret = api.create_token(owner, "ci-pipeline", ["MANAGE_PROJECTS", "VIEW_PROJECTS"])
    log_in(page, owner.email)
    # when: ⋯ → Rotate → confirm
    page.locator(ROW.format(old_id)).get_by_role("button", name="Options for ci-pipeline").click()
    page.get_by_role("menuitem", name="Rotate").click()
    confirm = page.get_by_role("dialog", name="Rotate management token")
    expect(confirm).to_contain_text("keeps working until you revoke it")
    confirm.get_by_role("button", name="Rotate", exact=True).click()
    # then: the new value once; both tokens work, with the same permissions
    save = page.get_by_role("dialog", name="Save your key")
    new_secret = save.get_by_label("Key value").input_value()
    assert new_secret.startswith("kwm_") and new_secret != old_secret
    save.get_by_role("button", name="I have saved my key").click()
    expect(page.locator("#management-tokens tbody tr")).to_have_count(2)
    for secret in (old_secret, new_secret):
        assert api.ok(CALLER, token=secret)["viewer"]["permissions"] == ["VIEW_PROJECTS", "MANAGE_PROJECTS"]
    # and the old token's details say what replaced it
    page.locator(ROW.format(old_id)).get_by_role("button", name="Options for ci-pipeline").click()
    expect(page.get_by_role("menuitem", name="Rotate")).to_have_count(0)  # already rotated
    page.get_by_role("menuitem", name="View details").click()
    panel = page.get_by_role("dialog", name="Token details")
    expect(panel.locator("dt:text-is('Replaced by') + dd")).to_contain_text(new_secret[:8])
    data = api.ok(TOKENS, token=owner.session)
    nodes = {e["node"]["id"]: e["node"] for e in data["managementTokens"]["edges"]}
    new_id = next(i for i in nodes if i != old_id)
    assert nodes[old_id]["replacedBy"] == {"id": new_id} and nodes[new_id]["replaces"] == {"id": old_id}


def test_revoke_key_confirms_with_name_and_prefix_then_the_api_refuses_it(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    token_id, secret = api.create_token(owner, "old-script", ["VIEW_PROJECTS"])
    assert api.post(CALLER, token=secret).status_code == 200
    prefix = api.ok(TOKENS, token=owner.session)["managementTokens"]["edges"][0]["node"]["keyPrefix"]
    log_in(page, owner.email)
    row = page.locator(ROW.format(token_id))
    # when: ⋯ → Revoke key
    row.get_by_role("button", name="Options for old-script").click()
    page.get_by_role("menuitem", name="Revoke key").click()
    # then: the confirmation shows the name and the key prefix
    confirm = page.get_by_role("dialog", name="Revoke management token")
    expect(confirm.locator(".token-name")).to_have_text("old-script")
    expect(confirm.locator(".token-prefix")).to_have_text(prefix)
    expect(confirm).to_contain_text("cannot be undone")
    # when: Revoke key confirms
    confirm.get_by_role("button", name="Revoke key").click()
    # then: still listed, as revoked, and refused by the API
    expect(confirm).to_have_count(0)
    expect(row.locator("td.status")).to_have_text("Revoked")
    response = api.post(CALLER, token=secret)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status = api.ok(TOKENS, token=owner.session)
    assert status["managementTokens"]["edges"][0]["node"]["status"] == "REVOKED"
    row.get_by_role("button", name="Options for old-script").click()
    expect(page.get_by_role("menuitem", name="Revoke key")).to_have_count(0)
    expect(page.get_by_role("menuitem", name="Rotate")).to_have_count(0)
