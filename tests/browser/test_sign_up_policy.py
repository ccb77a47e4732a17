"""The log-in page offers Sign up only while the server admits it (KEYWARD_SIGNUP).

The module runs its own `keyward serve` with sign-up closed (the suite's shared server has it open)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import own_server
from tests.browser.support import SyncApi
from tests.support.api import PASSWORD


@pytest.fixture(scope="module")
def base_url(chromium: str, database_url: str, server_log: Path) -> Iterator[str]:
    """This module's own `keyward serve`, with sign-up closed."""
    log_path = server_log.with_name("browser-sign-up-policy-server.log")
    with own_server(database_url, log_path, {"KEYWARD_SIGNUP": "closed"}) as url:
        yield url


def test_sign_up_is_not_offered_when_closed(page: Page, api: SyncApi) -> None:
    # when
    page.goto("/")
    # then: the log-in form, and no way to sign up
    expect(page.get_by_role("heading", name="Log in to Keyward")).to_be_visible()
    expect(page.get_by_text("New to Keyward?")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign up")).to_be_hidden()
    # and the API refuses it too
    body = api.post(
        'mutation($p: String!) { signUp(input: {email: "x@example.com", password: $p, workspaceName: "W"}) '
        "{ userErrors { code } } }",
        {"p": PASSWORD},
    ).json()
    assert body["data"]["signUp"]["userErrors"] == [{"code": "SIGN_UP_CLOSED"}]
