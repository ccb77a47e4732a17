"""Bounded load on loopback against a real `keyward serve` process.

A mix of reads, API-key creation and deletion, and management-token revocation from many
concurrent connections. Afterwards: zero 5xx, zero lost writes (every created key is listed,
every deleted one is gone and invalid), no revoked token accepted by a request that started
after its revocation returned, and the server's memory flat after warm-up.

CI runs the short profile (10 s, 64 connections). On demand:
    KEYWARD_LOAD_SECONDS=60 KEYWARD_LOAD_CONNECTIONS=64 .venv/bin/pytest -m slow -s tests/test_load.py
"""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.api import ALL_PERMISSIONS, Account, Api
from tests.support.running_app import env_int
from tests.support.serve_processes import CLIENT_LIMITS, Server, serve

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

SECONDS = env_int("KEYWARD_LOAD_SECONDS", 10)
CONNECTIONS = env_int("KEYWARD_LOAD_CONNECTIONS", 64)
# Memory may grow while caches, pools and the allocator's arenas fill (the warm-up) and must be
# flat after it. The bound is what one request's worth of garbage per connection can explain
# (64 connections × a few hundred KiB of transient objects and allocator slack), far below what
# a leak of even 1 KiB per request would add over a run of many thousand requests.
WARMUP_FRACTION = 0.3
RSS_GROWTH_BOUND_KIB = 32 * 1024

PROJECTS = "{ projects(first: 10) { totalCount edges { node { id name } } } }"
KEYS = "query($p: ID!) { apiKeys(projectId: $p, first: 20) { totalCount edges { node { id keyPrefix } } } }"
VIEWER = "{ viewer { kind permissions } }"
CREATE_KEY = "mutation($p: ID!, $n: String!) { createApiKey(input: {projectId: $p, name: $n}) { apiKey { id } secret userErrors { code } } }"
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { deletedId userErrors { code } } }"
CREATE_TOKEN = "mutation($n: String!) { createManagementToken(input: {name: $n, permissions: [VIEW_PROJECTS]}) { managementToken { id } secret userErrors { code } } }"
REVOKE = (
    "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { managementToken { status } userErrors { code } } }"
)
LIST_ALL_KEYS = """query($p: ID!, $after: String) { apiKeys(projectId: $p, first: 100, after: $after) {
  edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


@dataclass
class Record:
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # key id -> secret
    deleted: set[str] = field(default_factory=set)
    deleting: set[str] = field(default_factory=set)
    # token -> monotonic time its revocation returned
    revoked_at: dict[str, float] = field(default_factory=dict)
    # (token, monotonic start, status) of every request made with a token that gets revoked
    revocable_uses: list[tuple[str, float, int]] = field(default_factory=list)
    live_revocable: list[str] = field(default_factory=list)
    rss_kib: list[tuple[float, int]] = field(default_factory=list)

    def fail(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what)


@dataclass
class Load:
    api: Api
    owner: Account
    writer: str
    project: str
    record: Record
    deadline: float

    async def call(self, document: str, variables: dict[str, Any] | None, token: str) -> httpx.Response:
        response = await self.api.post(document, variables, token)
        self.record.statuses[response.status_code] += 1
        return response

    async def data(self, document: str, variables: dict[str, Any] | None, token: str) -> dict[str, Any] | None:
        response = await self.call(document, variables, token)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            self.record.fail(f"{document.split('{')[1].strip()[:30]}: {response.status_code} {response.text[:200]}")
            return None
        return body["data"]

    async def read(self, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.35:
            await self.data(PROJECTS, None, self.writer)
        elif choice < 0.7:
            await self.data(KEYS, {"p": self.project}, self.writer)
        elif choice < 0.85 or not self.record.live_revocable:
            await self.data(VIEWER, None, self.writer)
        else:
            token = rng.choice(self.record.live_revocable)
            started = time.monotonic()
            response = await self.call(VIEWER, None, token)
            self.record.revocable_uses.append((token, started, response.status_code))

    async def verify(self, secret: str, expected_valid: bool, key_id: str | None = None) -> None:
        untouched = key_id is not None and key_id not in self.record.deleting
        response = await self.api.http.post("/v1/keys/verify", json={"key": secret})
        self.record.statuses[response.status_code] += 1
        if untouched and key_id in self.record.deleting:
            expected_valid = response.json().get("valid")  # deleted meanwhile: either answer is right
        if response.status_code != 200 or response.json().get("valid") is not expected_valid:
            self.record.fail(f"verify expected {expected_valid}: {response.status_code} {response.text[:200]}")

    async def create_key(self, mine: list[str], rng: random.Random) -> None:
        data = await self.data(CREATE_KEY, {"p": self.project, "n": f"load-{rng.random()}"}, self.writer)
        if data and data["createApiKey"]["apiKey"]:
            key_id = data["createApiKey"]["apiKey"]["id"]
            self.record.created[key_id] = data["createApiKey"]["secret"]
            mine.append(key_id)

    async def verify_any(self, rng: random.Random) -> None:
        """A key deleted before the check started must be invalid; one nobody is deleting, valid."""
        key_id = rng.choice(list(self.record.created))
        if key_id in self.record.deleting and key_id not in self.record.deleted:
            return  # its deletion is in flight: either answer is right
        await self.verify(self.record.created[key_id], key_id not in self.record.deleted, key_id)

    async def delete_key(self, mine: list[str]) -> None:
        key_id = mine.pop(0)
        self.record.deleting.add(key_id)
        data = await self.data(DELETE_KEY, {"id": key_id}, self.writer)
        if data and data["deleteApiKey"]["deletedId"] == key_id:
            self.record.deleted.add(key_id)
            await self.verify(self.record.created[key_id], expected_valid=False)

    async def revocation_cycle(self, rng: random.Random) -> None:
        data = await self.data(CREATE_TOKEN, {"n": f"load-{rng.random()}"}, self.owner.session)
        if not data:
            return
        token_id, secret = (
            data["createManagementToken"]["managementToken"]["id"],
            data["createManagementToken"]["secret"],
        )
        self.record.live_revocable.append(secret)
        await asyncio.sleep(rng.uniform(0, 0.5))  # let other connections use it meanwhile
        revoked = await self.data(REVOKE, {"id": token_id}, self.owner.session)
        if revoked:
            self.record.revoked_at[secret] = time.monotonic()
        started = time.monotonic()
        response = await self.call(VIEWER, None, secret)
        self.record.revocable_uses.append((secret, started, response.status_code))

    async def connection(self, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        while time.monotonic() < self.deadline:
            choice = rng.random()
            if choice < 0.55:
                await self.read(rng)
            elif choice < 0.75:
                await self.create_key(mine, rng)
            elif choice < 0.9 and mine:
                await self.delete_key(mine)
            elif choice < 0.95 and self.record.created:
                await self.verify_any(rng)
            else:
                await self.revocation_cycle(rng)


async def _sample_rss(server: Server, record: Record, deadline: float) -> None:
    while time.monotonic() < deadline:
        record.rss_kib.append((time.monotonic(), server.rss_kib()))
        await asyncio.sleep(0.5)
    record.rss_kib.append((time.monotonic(), server.rss_kib()))


async def _listed_keys(api: Api, owner: Account, project: str) -> set[str]:
    listed: set[str] = set()
    after = None
    while True:
        data = await api.ok(LIST_ALL_KEYS, {"p": project, "after": after}, owner.session)
        page = data["apiKeys"]
        listed.update(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return listed
        after = page["pageInfo"]["endCursor"]


async def test_bounded_load(database_url: str) -> None:
    with serve(database_url) as server:
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS, keepalive_expiry=1.0)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as http:
            # given
            api = Api(http)
            owner = await api.sign_up()
            project = await api.create_project(owner.session, "load")
            _, writer = await api.create_token(owner, ALL_PERMISSIONS)
            record = Record()
            started = time.monotonic()
            load = Load(api, owner, writer, project, record, started + SECONDS)
            # when
            await asyncio.gather(
                _sample_rss(server, record, load.deadline),
                *(load.connection(seed) for seed in range(CONNECTIONS)),
            )
            elapsed = time.monotonic() - started
        # A new client for the checks (a fresh pool, with the same idle-connection expiry).
        async with httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=60) as http:
            listed = await _listed_keys(Api(http), owner, project)
            stale = [s for k, s in record.created.items() if k in record.deleted]
            still_valid = [s for s in stale if (await http.post("/v1/keys/verify", json={"key": s})).json()["valid"]]
        log = server.log()
    # then
    total = sum(record.statuses.values())
    warm = [rss for t, rss in record.rss_kib if t - started >= WARMUP_FRACTION * SECONDS]
    growth = warm[-1] - warm[0] if warm else 0
    print(
        f"\nload: {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s) over {CONNECTIONS} connections; "
        f"statuses {dict(record.statuses)}; keys created {len(record.created)}, deleted {len(record.deleted)}; "
        f"tokens revoked {len(record.revoked_at)}; RSS after warm-up {warm[0] if warm else 0} KiB, "
        f"end {warm[-1] if warm else 0} KiB, growth {growth} KiB"
    )
    assert not [s for s in record.statuses if s >= 500], (dict(record.statuses), log[-3000:])
    assert not record.failures, record.failures
    assert listed == set(record.created) - record.deleted, "lost writes"
    assert not still_valid, "deleted keys still verify"
    accepted_after_revocation = [
        (token[:12], status)
        for token, start, status in record.revocable_uses
        if token in record.revoked_at and start > record.revoked_at[token] and status != 401
    ]
    assert not accepted_after_revocation, accepted_after_revocation
    assert record.revoked_at, "the mix revoked no token: the run was too short to prove anything"
    assert growth <= RSS_GROWTH_BOUND_KIB, f"RSS grew {growth} KiB after warm-up"
