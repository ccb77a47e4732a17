"""Helpers for browser tests: a synchronous GraphQL client for the running server, sign-in through
the page, holding the page's GraphQL answers back, and database seeding for what only the worker
writes (last use, stale reports)."""

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from playwright.sync_api import Page, Route, expect
from tortoise import Tortoise

from app import db
from app.graphql.ids import from_global_id
from app.models import ManagementToken, StaleTokenReport, StaleTokenReportEntry
from tests.support.api import (
    ACCEPT_INVITATION,
    CREATE_API_KEY,
    CREATE_PROJECT,
    CREATE_TOKEN,
    INVITE_MEMBER,
    PASSWORD,
    SIGN_UP,
)

_counter = itertools.count(1)


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"


@dataclass
class Account:
    email: str
    session: str


@dataclass
class SyncApi:
    http: httpx.Client

    def post(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        response = self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        for value in body["data"].values():
            if isinstance(value, dict) and "userErrors" in value:
                assert value["userErrors"] == [], value
        return body["data"]

    def sign_up(self, email: str | None = None, workspace: str = "Acme") -> Account:
        email = email or unique_email()
        data = self.ok(SIGN_UP, {"input": {"email": email, "password": PASSWORD, "workspaceName": workspace}})
        return Account(email, data["signUp"]["sessionToken"])

    def invite(self, owner: Account, role: str, email: str | None = None) -> tuple[str, str]:
        """(email, kwi_ token) of a new invitation."""
        email = email or unique_email(role.lower())
        data = self.ok(INVITE_MEMBER, {"input": {"email": email, "role": role}}, owner.session)
        return email, data["inviteMember"]["inviteToken"]

    def add_member(self, owner: Account, role: str) -> str:
        """The email of a person invited with `role` who accepted with PASSWORD."""
        email, invite_token = self.invite(owner, role)
        self.ok(ACCEPT_INVITATION, {"input": {"inviteToken": invite_token, "password": PASSWORD}})
        return email

    def create_token(self, account: Account, name: str, permissions: list[str]) -> tuple[str, str]:
        data = self.ok(CREATE_TOKEN, {"input": {"name": name, "permissions": permissions}}, account.session)
        payload = data["createManagementToken"]
        return payload["managementToken"]["id"], payload["secret"]

    def create_project(self, token: str, name: str) -> str:
        return self.ok(CREATE_PROJECT, {"input": {"name": name}}, token)["createProject"]["project"]["id"]

    def create_api_key(self, token: str, project_id: str, name: str) -> tuple[str, str]:
        payload = self.ok(CREATE_API_KEY, {"input": {"projectId": project_id, "name": name}}, token)["createApiKey"]
        return payload["apiKey"]["id"], payload["secret"]

    def verify(self, key: str) -> dict[str, Any]:
        response = self.http.post("/v1/keys/verify", json={"key": key})
        return dict(response.json())


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Manage workspace")).to_be_visible()


@contextmanager
def graphql_answers_held(page: Page) -> Iterator[None]:
    """The /graphql requests the page sends inside the block wait; at its end they are answered, and
    the page is given the moment it needs to act on the answers (a few milliseconds; 300 ms here)."""
    held: list[Route] = []
    page.route("**/graphql", lambda route: held.append(route))
    yield
    with page.expect_response("**/graphql"):
        for route in held:
            route.continue_()
    page.unroute("**/graphql")
    page.wait_for_timeout(300)


def run_in_database(database_url: str, work: Any) -> Any:
    """Run `work()` (a coroutine function using the models) against the test database, then close."""

    async def main() -> Any:
        await Tortoise.init(config=db.tortoise_config(database_url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    # Playwright's sync API keeps a loop in the test's thread, so asyncio.run gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def pk(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]


def mark_used(database_url: str, token_id: str, when: datetime, ip: str) -> None:
    """What the usage worker records for a management token."""

    async def work() -> None:
        await ManagementToken.filter(id=pk(token_id)).update(last_used_at=when, last_used_ip=ip)

    run_in_database(database_url, work)


def write_stale_report(database_url: str, token_ids: list[str], generated_at: datetime, stale_after_days: int) -> None:
    """A stale-token report as the sweep writes it: entries, and staleSince on each token."""

    async def work() -> None:
        first = await ManagementToken.get(id=pk(token_ids[0]))
        report = await StaleTokenReport.create(
            workspace_id=first.workspace_id,  # type: ignore[attr-defined]
            generated_at=generated_at,
            stale_after_days=stale_after_days,
            sweep_id=uuid.uuid4().hex,
        )
        for token_id in token_ids:
            token = await ManagementToken.get(id=pk(token_id))
            idle = (generated_at - (token.last_used_at or token.created_at)).days
            await StaleTokenReportEntry.create(
                report=report,
                token=token,
                reason="INACTIVE" if token.last_used_at else "NEVER_USED",
                last_used_at=token.last_used_at,
                idle_days=max(idle, stale_after_days),
            )
            token.stale_since = generated_at
            await token.save(update_fields=["stale_since"])

    run_in_database(database_url, work)
