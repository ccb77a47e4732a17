"""Sign up, log in, log out, and what happens when the server refuses the session."""

from playwright.sync_api import Page, expect

from tests.browser.support import SyncApi, log_in, unique_email
from tests.support.api import PASSWORD

VIEWER = "{ viewer { email role workspace { name } } }"
LOG_OUT = "mutation { logOut { ok } }"


def test_sign_up_lands_on_manage_workspace_with_sidebar(page: Page, api: SyncApi) -> None:
    # given
    email = unique_email()
    page.goto("/")
    page.get_by_role("button", name="Sign up").click()
    # when
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Workspace name").fill("Globex")
    page.get_by_role("button", name="Sign up").click()
    # then: the sidebar's Workspace group leads to Manage workspace
    expect(page.get_by_role("heading", name="Manage workspace")).to_be_visible()
    sidebar = page.get_by_role("navigation", name="Console")
    expect(sidebar.get_by_role("heading", name="Workspace")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Manage workspace")).to_have_attribute("aria-current", "page")
    expect(sidebar).to_contain_text(email)
    expect(sidebar).to_contain_text("OWNER")
    # and the session the page holds is a real one, kept out of the URL
    session = page.evaluate("sessionStorage.getItem('keyward.session')")
    assert session not in page.url
    assert api.ok(VIEWER, token=session)["viewer"] == {
        "email": email,
        "role": "OWNER",
        "workspace": {"name": "Globex"},
    }


def test_sign_up_error_is_shown_next_to_the_password(page: Page) -> None:
    # given
    page.goto("/")
    page.get_by_role("button", name="Sign up").click()
    # when
    page.get_by_label("Email").fill(unique_email())
    page.get_by_label("Password").fill("short")
    page.get_by_label("Workspace name").fill("Globex")
    page.get_by_role("button", name="Sign up").click()
    # then
    password_field = page.locator("[data-field=password]")
    expect(password_field.locator(".field-error")).to_have_text("Password must be at least 10 characters.")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("sessionStorage.getItem('keyward.session')") is None


def test_log_in_with_a_wrong_password_says_so(page: Page, api: SyncApi) -> None:
    # given
    account = api.sign_up()
    page.goto("/")
    # when
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    # then
    expect(page.get_by_role("alert").filter(has_text="password")).to_be_visible()
    expect(page.get_by_role("heading", name="Log in to Keyward")).to_be_visible()


def test_log_out_ends_the_session_on_the_server(page: Page, api: SyncApi) -> None:
    # given
    account = api.sign_up()
    log_in(page, account.email)
    session = page.evaluate("sessionStorage.getItem('keyward.session')")
    assert api.post(VIEWER, token=session).status_code == 200
    # when
    page.get_by_role("button", name="Log out").click()
    # then
    expect(page.get_by_role("heading", name="Log in to Keyward")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
    assert page.evaluate("sessionStorage.getItem('keyward.session')") is None
    assert api.post(VIEWER, token=session).status_code == 401


def test_a_refused_session_brings_back_the_log_in_screen(page: Page, api: SyncApi) -> None:
    # given: signed in, then the session is ended elsewhere
    account = api.sign_up()
    log_in(page, account.email)
    session = page.evaluate("sessionStorage.getItem('keyward.session')")
    api.ok(LOG_OUT, token=session)
    # when: the next request the console makes
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Projects").click()
    # then
    expect(page.get_by_role("heading", name="Log in to Keyward")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Log in again.")
    assert page.evaluate("sessionStorage.getItem('keyward.session')") is None
