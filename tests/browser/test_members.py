"""Members: an owner adds people; a MEMBER sees read-only views with no buttons that would fail."""

from playwright.sync_api import Page, expect

from tests.browser.support import SyncApi, log_in, unique_email
from tests.support.api import LOG_IN, PASSWORD

CREATE_PROJECT = 'mutation { createProject(input: {name: "Nope"}) { project { id } } }'


def test_owner_adds_a_member_who_can_log_in(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    log_in(page, owner.email)
    members = page.locator("#members")
    email = unique_email("colleague")
    # when
    members.get_by_label("Email").fill(email)
    members.get_by_label("Initial password").fill(PASSWORD)
    members.get_by_label("Role").select_option("ADMIN")
    members.get_by_role("button", name="Add member").click()
    # then
    expect(members.get_by_role("status")).to_have_text(f"Added {email} as ADMIN.")
    signed_in = api.ok(LOG_IN, {"input": {"email": email, "password": PASSWORD}})["logIn"]
    assert signed_in["viewer"]["role"] == "ADMIN"
    # when: the same email again
    members.get_by_label("Email").fill(email)
    members.get_by_label("Initial password").fill(PASSWORD)
    members.get_by_role("button", name="Add member").click()
    # then: the API's answer next to the email field
    expect(members.locator("[data-field=email] .field-error")).to_have_text(
        "An account with this email already exists."
    )


def test_an_admin_cannot_pick_the_owner_role(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    admin_email = api.add_member(owner, "ADMIN")
    # when
    log_in(page, admin_email)
    # then
    options = page.locator("#members").get_by_label("Role").locator("option").all_inner_texts()
    assert options == ["MEMBER", "ADMIN"]


def test_a_member_sees_read_only_views(page: Page, api: SyncApi) -> None:
    # given: a project with a key, and a MEMBER of the workspace
    owner = api.sign_up()
    project_id = api.create_project(owner.session, "Website")
    api.create_api_key(owner.session, project_id, "web-server")
    member_email = api.add_member(owner, "MEMBER")
    # when
    log_in(page, member_email)
    # then: no administration, no buttons that would fail
    expect(page.get_by_role("heading", name="Your access")).to_be_visible()
    expect(page.get_by_role("button", name="+ Create management token")).to_have_count(0)
    expect(page.locator("#members, #stale-tokens, #management-tokens")).to_have_count(0)
    sidebar = page.get_by_role("navigation", name="Console")
    expect(sidebar.get_by_role("link", name="Audit log")).to_have_count(0)
    expect(sidebar).to_contain_text("MEMBER")
    sidebar.get_by_role("link", name="Projects").click()
    expect(page.locator("#projects tbody")).to_contain_text("Website")
    expect(page.get_by_role("button", name="+ Create project")).to_have_count(0)
    expect(page.get_by_role("button", name="Options for Website")).to_have_count(0)
    page.get_by_role("link", name="Website").click()
    expect(page.locator("#api-keys tbody")).to_contain_text("web-server")
    expect(page.get_by_role("button", name="+ Create API key")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete web-server")).to_have_count(0)
    expect(page.get_by_role("button", name="Rename")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete project")).to_have_count(0)
    # and the API would indeed have refused those actions
    session = page.evaluate("sessionStorage.getItem('keyward.session')")
    body = api.post(CREATE_PROJECT, token=session).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # and an admin-only page asked for by address falls back to the member's view
    page.goto("/#/audit")
    expect(page.get_by_role("heading", name="Your access")).to_be_visible()
