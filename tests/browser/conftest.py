"""The console in a real browser: `keyward serve` on a loopback port, Debian's chromium driven by Playwright.

Browser tests are synchronous (Playwright's sync API runs its own loop) and share one server per run
against the session's migrated database; each test signs up its own workspace. Keep async tests out
of tests/browser/: they cannot run while a module's browser is open.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.support import SyncApi
from tests.support.ports import free_port
from tests.support.required_tools import tool_missing

CHROMIUM = os.environ.get("KEYWARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
BROWSER_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser carries the `browser` marker (before `-m` selects), so that
    `pytest -m "not browser"` runs the rest of the suite without a browser."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _wait_ready(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"keyward serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"keyward serve did not become ready:\n{log.read_text()}")


@contextmanager
def own_server(database_url: str, log_path: Path, settings: dict[str, str]) -> Iterator[str]:
    """A module's own `keyward serve` with the given KEYWARD_* settings, for what the shared server does not do."""
    port = free_port()
    env = {**os.environ, "KEYWARD_DATABASE_URL": database_url, **settings}
    env.pop("KEYWARD_REDIS_URL", None)
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [sys.executable, "-m", "keyward", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server, log_path)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def server_log() -> Path:
    RESULTS.mkdir(exist_ok=True)
    return RESULTS / "browser-server.log"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (scripts/install-test-tools installs it); without it the browser tests are skipped."""
    if not Path(CHROMIUM).exists():
        tool_missing("chromium", f"no {CHROMIUM}: `apt-get install chromium`, or KEYWARD_TEST_CHROMIUM=/path")
    return CHROMIUM


@pytest.fixture(scope="session")
def base_url(chromium: str, database_url: str, server_log: Path) -> Iterator[str]:
    """`keyward serve` in its own process against the session's migrated database."""
    port = free_port()
    # The shared server never delivers webhooks: a module that tests them runs a server of its own
    # whose delivery settings (loopback allowed) it controls.
    env = {
        **os.environ,
        "KEYWARD_DATABASE_URL": database_url,
        "KEYWARD_WEBHOOK_DELIVERY_SECONDS": "0",
        "KEYWARD_SIGNUP": "open",  # every browser test signs up a workspace of its own
    }
    env.pop("KEYWARD_REDIS_URL", None)
    with server_log.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [
                sys.executable,
                "-m",
                "keyward",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server, server_log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def playwright(base_url: str) -> Iterator[Playwright]:
    # Playwright's sync API keeps an event loop running in this thread while it is open: asyncio.run
    # (which migrates the session database) and pytest-asyncio's tests cannot run meanwhile. So the
    # server and its database come first, and Playwright closes at the end of each browser module.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1360, "height": 900}, locale="en-US", timezone_id="UTC"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page whose final state is saved to test-results/<test name>/final.png; any JavaScript error,
    console error or request to another origin it saw fails the test."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # No CDN: everything the console loads or calls is on the app's own origin.
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith((base_url, "data:")) else problems.append(f"request outside the app: {r.url}")
        ),
    )
    page.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    yield page
    folder = output_folder(request)
    # A modal's backdrop covers the viewport only: a full-page shot would cut it in half.
    page.screenshot(path=str(folder / "final.png"), full_page=page.locator("dialog[open]").count() == 0)
    # A refused session is answered 401 on purpose; Chromium logs that response as a console error.
    unexpected = [p for p in problems if "status of 401" not in p]
    assert not unexpected, unexpected


def output_folder(request: pytest.FixtureRequest) -> Path:
    folder = RESULTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def snapshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save the visible page as test-results/<test name>/<name>.png (the README's pictures come from here)."""

    def take(name: str) -> Path:
        path = output_folder(request) / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


@pytest.fixture
def api(base_url: str) -> Iterator[SyncApi]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield SyncApi(http)
