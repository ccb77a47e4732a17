"""The console's static files come from the app itself (no CDN) beside the API's own routes."""

import re

import httpx

from tests.support.api import Api

VIEWER = "{ viewer { role } }"
MODULE_IMPORT = re.compile(r"""^import .* from "(\.{1,2}/[^"]+)";$""", re.MULTILINE)


async def test_console_page_is_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert '<script type="module" src="/console/js/main.js">' in response.text
    assert "http://" not in response.text and "https://" not in response.text


async def test_every_module_the_console_imports_is_served(client: httpx.AsyncClient) -> None:
    # given: the module graph from main.js
    pending, seen = ["/console/js/main.js"], set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        # when
        response = await client.get(path)
        # then
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"], path
        assert "https://" not in response.text, path
        base = path.rsplit("/", 1)[0]
        for target in MODULE_IMPORT.findall(response.text):
            pending.append(str(httpx.URL(f"http://x{base}/").join(target).path))
    assert len(seen) > 5


async def test_api_routes_still_answer_beside_the_console(client: httpx.AsyncClient, api: Api) -> None:
    # when / then
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.post("/v1/keys/verify", json={"key": "kwk_nope"})).json()["valid"] is False
    account = await api.sign_up()
    assert (await api.ok(VIEWER, token=account.session))["viewer"]["role"] == "OWNER"
    assert (await client.get("/console/../app/settings.py")).status_code == 404
