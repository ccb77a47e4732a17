"""The audit log: newest first, one page at a time, the same events the API lists."""

from playwright.sync_api import Page, expect

from tests.browser.support import SyncApi, log_in

AUDIT = """query($after: String) {
  auditEvents(first: 20, after: $after) { totalCount pageInfo { endCursor } edges { node { id action } } }
}"""


def test_audit_log_is_newest_first_and_paged(page: Page, api: SyncApi) -> None:
    # given: more events than one page
    owner = api.sign_up()
    for number in range(24):
        api.create_project(owner.session, f"Project {number}")
    log_in(page, owner.email)
    # when
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit log").click()
    # then: the first page is the API's first page, newest first (the log-in just now on top)
    first = api.ok(AUDIT, token=owner.session)["auditEvents"]
    total = first["totalCount"]
    assert total == 2 + 24 + 1  # sign-up (person and workspace), projects, log-in
    rows = page.locator("#audit-log tbody tr")
    expect(rows).to_have_count(20)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.eventId)") == [e["node"]["id"] for e in first["edges"]]
    expect(rows.first).to_contain_text(first["edges"][0]["node"]["action"])
    expect(page.locator(".page-status")).to_have_text(f"1–20 of {total}")
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    # when: Next page
    page.get_by_role("button", name="Next page").click()
    # then
    second = api.ok(AUDIT, {"after": first["pageInfo"]["endCursor"]}, token=owner.session)["auditEvents"]
    expect(rows).to_have_count(total - 20)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.eventId)") == [e["node"]["id"] for e in second["edges"]]
    expect(rows.last).to_contain_text("signed_up")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    # when: Previous page
    page.get_by_role("button", name="Previous page").click()
    # then
    expect(page.locator(".page-status")).to_have_text(f"1–20 of {total}")
