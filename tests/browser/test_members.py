"""People: invitations (copy the link once, accept, revoke), role changes and removal with confirmations,
a MEMBER's read-only list, changing the password, and switching workspaces."""

from playwright.sync_api import Browser, Page, expect

from tests.browser.support import SyncApi, graphql_answers_held, log_in, unique_email
from tests.support.api import LOG_IN, PASSWORD

CREATE_PROJECT = 'mutation { createProject(input: {name: "Nope"}) { project { id } } }'
CREATE_WORKSPACE = (
    """mutation($name: String!) { createWorkspace(input: {name: $name}) { sessionToken userErrors { code } } }"""
)
NEW_PASSWORD = "purple giraffe umbrella"


def open_people(page: Page) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()


def test_owner_invites_a_person_who_accepts_from_the_link_and_is_signed_in(
    page: Page, api: SyncApi, browser: Browser, base_url: str
) -> None:
    # given
    owner = api.sign_up(workspace="Inviters")
    log_in(page, owner.email)
    open_people(page)
    email = unique_email("colleague")
    # when
    page.get_by_role("button", name="+ Invite member").click()
    dialog = page.get_by_role("dialog", name="Invite member")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("Role").select_option("ADMIN")
    dialog.get_by_role("button", name="Invite").click()
    # then: the link, once
    shown = page.get_by_role("dialog", name="Copy the invitation link")
    link = shown.get_by_label("Invitation link").input_value()
    assert f"{base_url}/#/accept-invitation/kwi_" in link
    shown.get_by_role("button", name="I have copied the link").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#invitations tbody")).to_contain_text(email)
    expect(page.locator("#invitations tbody")).to_contain_text("Pending")
    assert link not in page.content()
    # when: the person opens the link in a browser of their own and chooses a password
    other = browser.new_context(base_url=base_url)
    invited = other.new_page()
    invited.goto(link)
    expect(invited.get_by_role("heading", name="Accept invitation")).to_be_visible()
    assert "kwi_" not in invited.url  # the token left the address bar and history
    invited.get_by_label("Password").fill(PASSWORD)
    invited.get_by_role("button", name="Accept invitation").click()
    # then: signed in to the workspace as ADMIN
    expect(invited.get_by_role("heading", name="Manage workspace")).to_be_visible()
    sidebar = invited.get_by_role("navigation", name="Console")
    expect(sidebar).to_contain_text("Inviters")
    expect(sidebar).to_contain_text("ADMIN")
    # and the link does not work twice
    invited.goto("/")
    invited.evaluate("sessionStorage.clear()")
    invited.goto(link)
    invited.get_by_label("Password").fill(PASSWORD)
    invited.get_by_role("button", name="Accept invitation").click()
    expect(invited.locator(".form-error")).to_contain_text("This invitation was accepted")
    other.close()


def test_an_invitation_link_opened_while_the_console_loads_keeps_the_accept_page(page: Page, api: SyncApi) -> None:
    # given: a signed-in console whose first load (the viewer query) has not been answered yet
    owner = api.sign_up()
    _, invite_token = api.invite(owner, "MEMBER")
    log_in(page, owner.email)
    with graphql_answers_held(page):
        page.reload()
        expect(page.get_by_text("Loading…")).to_be_visible()
        # when: the invitation link opens in that tab, and then the first load's answer arrives
        page.goto(f"/#/accept-invitation/{invite_token}")
        expect(page.get_by_role("heading", name="Accept invitation")).to_be_visible()
    # then: the accept page stays, not the shell the overtaken load would draw over it
    expect(page.get_by_role("heading", name="Accept invitation")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("heading", name="Manage workspace")).to_have_count(0)


def test_an_admin_cannot_pick_the_owner_role(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    admin_email = api.add_member(owner, "ADMIN")
    # when
    log_in(page, admin_email)
    open_people(page)
    page.get_by_role("button", name="+ Invite member").click()
    # then
    options = page.get_by_role("dialog", name="Invite member").get_by_label("Role").locator("option")
    assert options.all_inner_texts() == ["MEMBER", "ADMIN"]


def test_owner_changes_a_role_and_removes_a_member_after_confirming(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    member_email = api.add_member(owner, "MEMBER")
    log_in(page, owner.email)
    open_people(page)
    row = page.locator("#members tbody tr", has_text=member_email)
    # when: a role change
    row.get_by_role("button", name=f"Options for {member_email}").click()
    page.get_by_role("menuitem", name="Change role").click()
    dialog = page.get_by_role("dialog", name="Change role")
    dialog.get_by_label("Role").select_option("ADMIN")
    dialog.get_by_role("button", name="Change role").click()
    # then
    expect(row.locator("td.role")).to_have_text("ADMIN")
    # when: a removal, confirmed
    row.get_by_role("button", name=f"Options for {member_email}").click()
    page.get_by_role("menuitem", name="Remove").click()
    confirm = page.get_by_role("dialog", name="Remove member")
    expect(confirm.locator(".member-email")).to_have_text(member_email)
    confirm.get_by_role("button", name="Remove").click()
    # then
    expect(page.locator("#members tbody")).not_to_contain_text(member_email)
    body = api.post(LOG_IN, {"input": {"email": member_email, "password": PASSWORD}}).json()
    assert body["data"]["logIn"]["userErrors"][0]["code"] == "NO_WORKSPACE"


def test_the_last_owner_is_told_why_they_cannot_leave(page: Page, api: SyncApi) -> None:
    owner = api.sign_up()
    log_in(page, owner.email)
    open_people(page)
    page.get_by_role("button", name="Leave workspace").click()
    page.get_by_role("dialog", name="Leave workspace").get_by_role("button", name="Leave workspace").click()
    expect(page.get_by_role("dialog", name="Leave workspace").locator(".form-error")).to_contain_text(
        "A workspace needs an owner"
    )


def test_an_invitation_is_revoked_after_confirming(page: Page, api: SyncApi) -> None:
    owner = api.sign_up()
    email, _ = api.invite(owner, "MEMBER")
    log_in(page, owner.email)
    open_people(page)
    page.get_by_role("button", name=f"Options for {email}").click()
    page.get_by_role("menuitem", name="Revoke").click()
    page.get_by_role("dialog", name="Revoke invitation").get_by_role("button", name="Revoke invitation").click()
    expect(page.locator("#invitations tbody tr", has_text=email).locator(".status")).to_have_text("Revoked")


def test_a_member_sees_the_people_read_only(page: Page, api: SyncApi) -> None:
    # given
    owner = api.sign_up()
    member_email = api.add_member(owner, "MEMBER")
    # when
    log_in(page, member_email)
    open_people(page)
    # then: everyone listed, nothing to change
    members = page.locator("#members tbody")
    expect(members).to_contain_text(owner.email)
    expect(members).to_contain_text(member_email)
    expect(page.locator("#members .options")).to_have_count(0)
    expect(page.locator("#invitations")).to_have_count(0)
    expect(page.get_by_role("button", name="+ Invite member")).to_have_count(0)


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


def test_a_person_changes_their_password_and_other_sessions_end(page: Page, api: SyncApi) -> None:
    # given: the person signed in here and through the API
    person = api.sign_up()
    log_in(page, person.email)
    # when
    page.get_by_role("link", name=person.email).click()
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    # then: this page stays signed in, the other session is refused, the new password works
    expect(form.get_by_role("status")).to_have_text("Password changed. Your other sessions have ended.")
    assert api.post("{ viewer { email } }", token=person.session).status_code == 401
    page.get_by_role("navigation", name="Console").get_by_role("link", name="People").click()
    expect(page.locator("#members tbody")).to_contain_text(person.email)
    logged_in = api.ok(LOG_IN, {"input": {"email": person.email, "password": NEW_PASSWORD}})["logIn"]
    assert logged_in["sessionToken"]


def test_a_person_switches_between_their_workspaces(page: Page, api: SyncApi) -> None:
    # given: an OWNER of "Alpha" who is an ADMIN of "Beta"
    alpha = api.sign_up(workspace="Alpha")
    beta = api.sign_up(workspace="Beta")
    email, invite_token = api.invite(beta, "ADMIN", alpha.email)
    api.ok(
        "mutation($t: String!) { acceptInvitation(input: {inviteToken: $t}) { sessionToken userErrors { code } } }",
        {"t": invite_token},
        alpha.session,
    )
    log_in(page, email)
    sidebar = page.get_by_role("navigation", name="Console")
    switcher = sidebar.get_by_role("combobox", name="Switch workspace")
    expect(sidebar).to_contain_text("ADMIN")  # log-in opened the workspace used last: Beta
    # when
    switcher.select_option(label="Alpha")
    # then
    expect(sidebar.locator(".badge.role")).to_have_text("OWNER")
    alpha_id = api.ok("{ viewer { workspace { id } } }", token=alpha.session)["viewer"]["workspace"]["id"]
    expect(sidebar.get_by_role("combobox", name="Switch workspace")).to_have_value(alpha_id)
