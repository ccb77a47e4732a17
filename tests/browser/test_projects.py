"""Projects (list, create, rename, delete) and each project's API keys, clicked through in Chromium."""

import re

from playwright.sync_api import Page, expect

from tests.browser.support import SyncApi, graphql_answers_held, log_in

PROJECTS = "{ projects { edges { node { id name description } } } }"
API_KEYS = "query($p: ID!) { apiKeys(projectId: $p) { edges { node { id name keyPrefix } } } }"


def test_create_rename_and_delete_a_project(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    expect(page.locator("#projects")).to_contain_text("No projects yet")
    # when: + Create project
    page.get_by_role("button", name="+ Create project").click()
    dialog = page.get_by_role("dialog", name="Create project")
    dialog.get_by_label("Name").fill("Website")
    dialog.get_by_label("Description (optional)").fill("Public site")
    dialog.get_by_role("button", name="Create project").click()
    # then: the project's page, and the API has it
    expect(page.get_by_role("heading", name="Website", level=1)).to_be_visible()
    [project] = [e["node"] for e in api.ok(PROJECTS, token=owner.session)["projects"]["edges"]]
    assert project["name"] == "Website" and project["description"] == "Public site"
    # when: renamed from the list's ⋯ menu
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    page.get_by_role("button", name="Options for Website").click()
    page.get_by_role("menuitem", name="Rename").click()
    rename = page.get_by_role("dialog", name="Rename project")
    expect(rename.get_by_label("Name")).to_have_value("Website")
    rename.get_by_label("Name").fill("Marketing site")
    rename.get_by_role("button", name="Save").click()
    # then
    expect(page.locator("#projects tbody")).to_contain_text("Marketing site")
    assert api.ok(PROJECTS, token=owner.session)["projects"]["edges"][0]["node"]["name"] == "Marketing site"
    # when: deleted, after a confirmation that names it
    page.get_by_role("button", name="Options for Marketing site").click()
    page.get_by_role("menuitem", name="Delete project").click()
    confirm = page.get_by_role("dialog", name="Delete project")
    expect(confirm).to_contain_text("Marketing site")
    expect(confirm).to_contain_text("every API key in it")
    confirm.get_by_role("button", name="Delete project").click()
    # then
    expect(page.locator("#projects")).to_contain_text("No projects yet")
    assert api.ok(PROJECTS, token=owner.session)["projects"]["edges"] == []


def test_project_errors_are_shown_next_to_the_name(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    page.get_by_role("button", name="+ Create project").click()
    dialog = page.get_by_role("dialog", name="Create project")
    # when: an empty name
    dialog.get_by_role("button", name="Create project").click()
    # then
    expect(dialog.locator("[data-field=name] .field-error")).not_to_be_empty()
    expect(dialog.get_by_label("Name")).to_be_focused()
    assert api.ok(PROJECTS, token=owner.session)["projects"]["edges"] == []


def test_cancelling_a_delete_keeps_the_project(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    api.create_project(owner.session, "Backend")
    log_in(page, owner.email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    # when
    page.get_by_role("button", name="Options for Backend").click()
    page.get_by_role("menuitem", name="Delete project").click()
    page.get_by_role("dialog", name="Delete project").get_by_role("button", name="Cancel").click()
    # then
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#projects tbody")).to_contain_text("Backend")
    assert len(api.ok(PROJECTS, token=owner.session)["projects"]["edges"]) == 1


def test_api_key_is_shown_once_works_and_is_deleted(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    project_id = api.create_project(owner.session, "Website")
    log_in(page, owner.email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Website").click()
    expect(page.locator("#api-keys")).to_contain_text("No API keys in this project yet.")
    # when: + Create API key
    page.get_by_role("button", name="+ Create API key").click()
    dialog = page.get_by_role("dialog", name="Create API key")
    dialog.get_by_label("Name").fill("web-server")
    dialog.get_by_role("button", name="Create API key").click()
    # then: the same Save your key dialog, and the key verifies on the data plane
    save = page.get_by_role("dialog", name="Save your key")
    expect(save).to_contain_text("You cannot access this value again after closing this dialog.")
    secret = save.get_by_label("Key value").input_value()
    assert re.fullmatch(r"kwk_[0-9A-Za-z]{36}", secret)
    assert api.verify(secret)["valid"] is True
    page.keyboard.press("Escape")  # closing with the keyboard forgets the value too
    expect(save).to_have_count(0)
    assert secret not in page.content()
    # and the list shows it, never used yet
    [key] = [e["node"] for e in api.ok(API_KEYS, {"p": project_id}, token=owner.session)["apiKeys"]["edges"]]
    row = page.locator(f"#api-keys tr[data-api-key-id='{key['id']}']")
    expect(row).to_contain_text("web-server")
    expect(row).to_contain_text(key["keyPrefix"])
    expect(row.locator("td.last-used")).to_have_text("Never")
    expect(row).to_contain_text(owner.email)
    # when: deleted after a confirmation
    row.get_by_role("button", name="Delete web-server").click()
    confirm = page.get_by_role("dialog", name="Delete API key")
    expect(confirm).to_contain_text(key["keyPrefix"])
    confirm.get_by_role("button", name="Delete API key").click()
    # then
    expect(page.locator("#api-keys")).to_contain_text("No API keys in this project yet.")
    assert api.verify(secret)["valid"] is False
    assert api.ok(API_KEYS, {"p": project_id}, token=owner.session)["apiKeys"]["edges"] == []


def test_a_project_left_while_it_loads_draws_nothing_on_the_next_page(page: Page, api: SyncApi) -> None:
    # given: a project page whose query has not been answered yet
    owner = api.sign_up()
    project_id = api.create_project(owner.session, "Website")
    log_in(page, owner.email)
    with graphql_answers_held(page):
        page.goto(f"/#/projects/{project_id}")
        expect(page.get_by_role("heading", name="Project", level=1)).to_be_visible()
        # when: the person goes to their account page, and then the project's answer arrives
        page.goto("/#/account")
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    # then: the account page alone, without the left project's API keys drawn into it
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("#api-keys")).to_have_count(0)
    expect(page.get_by_role("heading", name="Website")).to_have_count(0)
