"""Delivery by real processes: a `keyward worker` killed with SIGKILL in the middle of a delivery loses
nothing (the claim lapses, the next worker sends it again with the same event id), concurrent rounds
never send one delivery twice, and without Redis `keyward serve` delivers by itself."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.models import WebhookDelivery
from app.models.webhooks import DELIVERED, PENDING
from app.services.webhook_delivery import DeliveryConfig, deliver_due, new_owner
from app.settings import Settings, get_settings
from tests.support.api import Api
from tests.support.populated_workspace import build_world
from tests.support.serve_processes import ROOT, serve
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.webhooks import create_endpoint

SEND_TEST = "mutation($id: ID!) { sendTestWebhook(input: {id: $id}) { webhookDelivery { id } userErrors { code } } }"
WEBHOOK_ENV = {
    "KEYWARD_WEBHOOK_ALLOW_HTTP": "true",
    "KEYWARD_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "KEYWARD_WEBHOOK_DELIVERY_SECONDS": "1",
    "KEYWARD_WEBHOOK_CLAIM_SECONDS": "3",
    "KEYWARD_USAGE_FLUSH_SECONDS": "3600",
    "KEYWARD_STALE_SWEEP_CRON": "off",
}


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("KEYWARD_WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("KEYWARD_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as hooks:
        yield hooks


@contextmanager
def worker(database_url: str, redis_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYWARD_")}
    env.update(WEBHOOK_ENV, KEYWARD_DATABASE_URL=database_url, KEYWARD_REDIS_URL=redis_url)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "keyward", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_worker_killed_mid_delivery_loses_nothing_and_the_id_lets_receivers_drop_the_duplicate(
    api: Api, settings: Settings, receiver: Receiver, redis_url: str, tmp_path: Path
) -> None:
    # given: three events for one endpoint; the receiver keeps the first request waiting
    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    for name in ("one", "two", "three"):
        await api.create_api_key(world.owner.session, world.project_id, name)
    receiver.hold()
    log = tmp_path / "worker.log"
    with worker(settings.database_url, redis_url, log) as first:
        # when: the worker is killed while the endpoint holds the first delivery
        await asyncio.to_thread(receiver.held.wait, 60)
        assert receiver.held.is_set(), log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    receiver.release()
    pending = await WebhookDelivery.filter(state=PENDING).count()
    assert pending == 3  # nothing was recorded as delivered: the attempt died with the worker
    # then: another worker takes the lapsed claim over and delivers everything, in order
    with worker(settings.database_url, redis_url, log):

        async def all_delivered() -> bool:
            return await WebhookDelivery.filter(state=DELIVERED).count() == 3

        await _wait(all_delivered, 60, f"the deliveries; worker log:\n{log.read_text()}")
    bodies = [r.json() for r in receiver.requests]
    names = [b["data"]["apiKey"]["name"] for b in bodies]
    assert names == ["one", "one", "two", "three"]  # at least once: the first twice
    assert bodies[0]["id"] == bodies[1]["id"]  # the same event id: a receiver drops the duplicate
    assert len({b["id"] for b in bodies}) == 3


async def test_concurrent_rounds_send_each_delivery_once(api: Api, settings: Settings, receiver: Receiver) -> None:
    # given: 40 test deliveries (outside any order, so all are due at once) and 5 ordered ones
    world = await build_world(api)
    endpoints = [
        (await create_endpoint(api, world.owner, f"{receiver.url}/{i}", ["API_KEY_CREATED"]))[0] for i in range(4)
    ]
    for index in range(40):
        await api.ok(SEND_TEST, {"id": endpoints[index % 4]}, world.owner.session)
    for index in range(5):
        await api.create_api_key(world.owner.session, world.project_id, f"ordered-{index}")
    config = DeliveryConfig.from_settings(settings)
    # when: 32 workers' rounds at once
    results = await asyncio.gather(*(deliver_due(config, owner=new_owner()) for _ in range(32)))
    # then: every delivery was sent exactly once (the ordered ones four times: once per endpoint)
    assert sum(r.delivered for r in results) == 40 + 5 * 4
    bodies = [r.json() for r in receiver.wait_for(60)]
    assert len(bodies) == 60
    pings = [b["id"] for b in bodies if b["type"] == "ping"]
    assert len(pings) == len(set(pings)) == 40
    per_endpoint: dict[str, list[str]] = {}
    for request in receiver.requests:
        body = request.json()
        if body["type"] == "api_key.created":
            per_endpoint.setdefault(request.path, []).append(body["data"]["apiKey"]["name"])
    assert len(per_endpoint) == 4
    assert all(names == [f"ordered-{i}" for i in range(5)] for names in per_endpoint.values()), per_endpoint
    assert await WebhookDelivery.exclude(state=DELIVERED).count() == 0


def test_without_redis_keyward_serve_delivers_on_its_own(database_url: str, receiver: Receiver) -> None:
    import httpx

    from tests.support.api import CREATE_PROJECT, PASSWORD, SIGN_UP

    settings = {k.removeprefix("KEYWARD_").lower(): v for k, v in WEBHOOK_ENV.items()}
    with serve(database_url, **settings) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:

        def ok(query: str, variables: dict, token: str | None = None) -> dict:  # type: ignore[type-arg]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            body = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
            assert "errors" not in body, body
            return body["data"]

        email = f"serve-{time.time_ns()}@example.com"
        owner = ok(SIGN_UP, {"input": {"email": email, "password": PASSWORD, "workspaceName": "Served"}})
        session = owner["signUp"]["sessionToken"]
        ok(
            "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, events: [API_KEY_CREATED]}) {"
            " userErrors { code } } }",
            {"u": receiver.url},
            session,
        )
        ok(CREATE_PROJECT, {"input": {"name": "served"}}, session)
        project = ok("{ projects { edges { node { id } } } }", {}, session)["projects"]["edges"][0]["node"]["id"]
        ok(
            'mutation($p: ID!) { createApiKey(input: {projectId: $p, name: "served"}) { userErrors { code } } }',
            {"p": project},
            session,
        )
        [request] = receiver.wait_for(1, timeout=30)
        assert request.json()["type"] == "api_key.created"
