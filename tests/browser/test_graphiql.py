"""GraphiQL at /graphql in a real browser, with the network cut off from everything but the server."""

import json

from playwright.sync_api import Page, Route, expect

from tests.browser.support import SyncApi
from tests.support.api import PASSWORD

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
# The Variables and Headers editors share one pane: the one shown is the one opened.
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESPONSE = ".graphiql-response"


def offline(page: Page, base_url: str) -> list[str]:
    """Abort every request that is not for the server, as on an air-gapped network; return what was tried."""
    refused: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith((base_url, "data:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_the_server)
    return refused


def set_editor(page: Page, selector: str, text: str) -> None:
    """Replace the shown editor's text as a paste would (typing would fight the editor's bracket closing)."""
    page.locator(selector).wait_for()
    page.evaluate("([s, t]) => document.querySelector(s).CodeMirror.setValue(t)", [selector, text])


def editor_text(page: Page, selector: str) -> str:
    page.locator(selector).wait_for()
    return str(page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", selector))


def open_headers(page: Page) -> None:
    page.get_by_role("button", name="Headers").click()
    page.locator(TOOL_EDITOR).wait_for()


def run(page: Page) -> None:
    page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()


def test_graphiql_runs_a_query_with_the_network_cut_off(page: Page, api: SyncApi, base_url: str) -> None:
    # given an air-gapped browser and a signed-up person
    refused = offline(page, base_url)
    account = api.sign_up()
    # when they open GraphiQL, put their token in the Headers tab and run a query
    page.goto("/graphql")
    set_editor(page, QUERY_EDITOR, "{ viewer { kind role email } }")
    open_headers(page)
    set_editor(page, TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {account.session}"}))
    run(page)
    # then the answer is shown, and nothing outside the server was ever asked for
    expect(page.locator(RESPONSE)).to_contain_text(account.email)
    expect(page.locator(RESPONSE)).to_contain_text('"role": "OWNER"')
    assert refused == []


def test_graphiql_keeps_no_token_or_password_in_storage_or_the_address_bar(
    page: Page, api: SyncApi, base_url: str
) -> None:
    # given
    offline(page, base_url)
    account = api.sign_up()
    page.goto("/graphql")
    address, entries = page.url, page.evaluate("history.length")
    # when a person runs the README's inline mutation (a password in the document) with a token header
    mutation = (
        'mutation { logIn(input: {email: "' + account.email + '", password: "' + PASSWORD + '"}) '
        "{ sessionToken userErrors { code } } }"
    )
    set_editor(page, QUERY_EDITOR, mutation)
    open_headers(page)
    set_editor(page, TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {account.session}"}))
    run(page)
    expect(page.locator(RESPONSE)).to_contain_text("kws_")
    # then neither the address bar nor the browser's storage holds the query, the password or the token
    assert page.url == address == f"{base_url}/graphql"
    stored = page.evaluate(
        "() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage}, cookies: document.cookie})"
    )
    assert json.loads(stored) == {"local": {}, "session": {}, "cookies": ""}
    assert page.evaluate("history.length") == entries
    # and a reload starts from the default query with empty headers: nothing was kept
    page.reload()
    query = editor_text(page, QUERY_EDITOR)
    assert PASSWORD not in query and "logIn" not in query and "query Viewer" in query
    open_headers(page)
    assert account.session not in editor_text(page, TOOL_EDITOR)
