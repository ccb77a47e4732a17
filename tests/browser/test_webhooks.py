"""The Webhooks page: add an endpoint with the event picker (secret shown once), send a test, watch
deliveries with their status and attempts, redeliver; the stale report links to the deliveries.

The module runs its own `keyward serve` with plain http and the loopback receiver allowed, delivering
every second (the suite's shared server never delivers)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.webhooks import signing
from tests.browser.conftest import own_server
from tests.browser.support import SyncApi, log_in, write_stale_report
from tests.support.webhook_receiver import Answer, Receiver, webhook_receiver

WEBHOOK_ENV = {
    "KEYWARD_WEBHOOK_ALLOW_HTTP": "true",
    "KEYWARD_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "KEYWARD_WEBHOOK_DELIVERY_SECONDS": "1",
    "KEYWARD_STALE_SWEEP_CRON": "off",
    "KEYWARD_SIGNUP": "open",
}


@pytest.fixture(scope="module")
def base_url(chromium: str, database_url: str, server_log: Path) -> Iterator[str]:
    """This module's own `keyward serve`, delivering webhooks to loopback every second."""
    with own_server(database_url, server_log.with_name("browser-webhooks-server.log"), WEBHOOK_ENV) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as hooks:
        yield hooks


def test_add_an_endpoint_test_it_and_redeliver(page: Page, api: SyncApi, receiver: Receiver) -> None:
    # given
    owner = api.sign_up(workspace="Hooks")
    log_in(page, owner.email)
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    # when: an endpoint is added with two events
    page.get_by_role("button", name="+ Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add webhook endpoint")
    dialog.get_by_label("Endpoint URL").fill(receiver.url)
    dialog.get_by_label("Description (optional)").fill("CI listener")
    dialog.get_by_label("API key created").check()
    dialog.get_by_label("Management token revoked").check()
    dialog.get_by_role("button", name="Add endpoint").click()
    # then: the signing secret, once
    saved = page.get_by_role("dialog", name="Save your key")
    secret = saved.get_by_label("Key value").input_value()
    assert secret.startswith("kwh_")
    expect(saved).to_contain_text("webhook signing secret")
    saved.get_by_role("button", name="I have saved my key").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert secret not in page.content()
    row = page.locator("#webhook-endpoints tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(receiver.url)
    expect(row).to_contain_text("API key created")
    expect(row.locator("td.status")).to_have_text("Enabled")
    # when: a test is sent from the menu
    row.get_by_role("button", name=f"Options for {receiver.url}").click()
    page.get_by_role("menuitem", name="Send test").click()
    # then: the deliveries page shows it delivered, and the receiver verifies the signature with the secret
    deliveries = page.locator("#webhook-deliveries tbody tr")
    expect(deliveries).to_have_count(1)
    expect(deliveries.first.locator("td.status")).to_have_text("Delivered", timeout=20_000)
    expect(deliveries.first.locator("td.attempts")).to_have_text("1")
    [ping] = receiver.wait_for(1)
    assert ping.json()["type"] == "ping"
    assert signing.verify(ping.body, ping.headers["keyward-signature"], secret)
    # when: an event the endpoint refuses
    receiver.script(Answer(status=500))
    project = api.create_project(owner.session, "site")
    api.create_api_key(owner.session, project, "server")
    page.get_by_role("button", name="Refresh").click()
    # then: pending after a failed attempt, with the endpoint's answer
    failed = page.locator("#webhook-deliveries tbody tr").first
    expect(failed.locator("td.answer")).to_have_text("The endpoint answered HTTP 500.", timeout=20_000)
    expect(failed.locator("td.status")).to_have_text("Pending")
    expect(failed.locator("td.attempts")).to_have_text("1")
    # when: the test delivery is redelivered
    page.locator("#webhook-deliveries tbody tr", has_text="Test ping").get_by_role("button", name="Redeliver").click()
    # then: a new delivery of the same event goes out
    expect(page.locator("#webhook-deliveries tbody tr", has_text="Test ping")).to_have_count(2)
    pings = [r for r in receiver.wait_for(3, timeout=20) if r.json()["type"] == "ping"]
    assert len(pings) == 2 and pings[0].json()["id"] == pings[1].json()["id"]
    expect(page.locator("#webhook-deliveries tbody tr[data-status=DELIVERED]")).to_have_count(2, timeout=20_000)


def test_bad_input_is_shown_next_to_its_field_and_a_member_has_no_webhooks(page: Page, api: SyncApi) -> None:
    owner = api.sign_up(workspace="Strict")
    log_in(page, owner.email)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("button", name="+ Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add webhook endpoint")
    dialog.get_by_label("Endpoint URL").fill("https://169.254.169.254/latest")
    dialog.get_by_role("button", name="Add endpoint").click()
    expect(dialog.locator("[data-field=url] .field-error")).to_contain_text("not allowed")
    dialog.get_by_label("Endpoint URL").fill("https://hooks.example.com/in")
    dialog.get_by_role("button", name="Add endpoint").click()
    expect(dialog.locator("[data-field=events] .field-error")).to_have_text("Choose at least one event.")
    dialog.get_by_role("button", name="Cancel").click()
    # a member sees no Webhooks link
    member_email = api.add_member(owner, "MEMBER")
    page.get_by_role("button", name="Log out").click()
    log_in(page, member_email)
    expect(page.get_by_role("link", name="Webhooks")).to_have_count(0)


def test_the_stale_report_links_to_the_deliveries_of_its_endpoint(
    page: Page, api: SyncApi, database_url: str, receiver: Receiver
) -> None:
    from datetime import UTC, datetime

    owner = api.sign_up(workspace="Reports")
    token_id, _ = api.create_token(owner, "idle", ["VIEW_PROJECTS"])
    write_stale_report(database_url, [token_id], datetime.now(UTC), 90)
    query = """mutation($u: String!) { createWebhookEndpoint(input: {url: $u, events: [STALE_TOKEN_REPORT_READY]}) {
      webhookEndpoint { id } userErrors { code } } }"""
    endpoint_id = api.ok(query, {"u": receiver.url}, owner.session)["createWebhookEndpoint"]["webhookEndpoint"]["id"]
    log_in(page, owner.email)
    link = page.locator("#stale-tokens .report-deliveries").get_by_role("link", name=receiver.url)
    link.click()
    expect(page.get_by_role("heading", name="Webhook deliveries")).to_be_visible()
    assert endpoint_id.replace("=", "%3D") in page.url or endpoint_id in page.url
