"""Sending what the outbox holds: claim due deliveries without overlap, attempt each, record the outcome.

- A claim sets `claimed_until` (now + the claim lease) and `claim_owner` in one statement (PostgreSQL:
  `FOR UPDATE SKIP LOCKED`; SQLite has one writer), so two workers never send the same delivery at
  once, and a worker that died mid-delivery loses its claim when the lease lapses: the delivery is
  sent again (at least once; receivers drop duplicates by the event `id`).
- Per endpoint, ordered deliveries go out oldest first, one at a time: a delivery waits while an
  older one of its endpoint is still pending (being retried included).
- A failed attempt is retried with exponential back-off and jitter until 24 hours after the
  delivery was created; the first failure after that marks it FAILED.
- An endpoint whose attempts have all failed since `webhook_disable_after_days` ago is disabled, and
  the audit log says so.
"""

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from tortoise.connection import get_connection
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.db_errors import is_database_unavailable
from app.db_outage import DatabaseOutage
from app.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.models.webhooks import DELIVERED, FAILED, PENDING
from app.observability import metrics
from app.security.principal import SYSTEM
from app.services import audit
from app.services.global_ids import global_id
from app.settings import Settings
from app.webhooks import sender, signing
from app.webhooks.destinations import Resolver, parse_allow_list, system_resolver

log = logging.getLogger("keyward.webhooks")

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
INTERNAL_FAILURE = "The attempt failed inside Keyward (the server log has the error)."
CLAIM_BATCH = 50
CONCURRENT_ATTEMPTS = 10

Clock = Callable[[], datetime]


def retry_delay(failed_attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
    """30 s, 1 min, 2 min, ... doubling up to 1 hour, each between half and all of that (equal jitter)."""
    ceiling = min(FIRST_RETRY * (2 ** max(0, failed_attempts - 1)), LONGEST_RETRY)
    return ceiling / 2 + (ceiling / 2) * rng()


@dataclass(frozen=True)
class DeliveryConfig:
    policy: sender.Policy
    lease: timedelta  # how long a claim lasts before another worker may take the delivery over
    disable_after: timedelta  # an endpoint failing this long is disabled

    @classmethod
    def from_settings(cls, settings: Settings, resolver: Resolver = system_resolver) -> "DeliveryConfig":
        return cls(
            policy=sender.Policy(
                allow=parse_allow_list(settings.webhook_allowed_hosts),
                allow_http=settings.webhook_allow_http,
                timeout=settings.webhook_timeout_seconds,
                resolver=resolver,
            ),
            lease=timedelta(seconds=settings.webhook_claim_seconds),
            disable_after=timedelta(days=settings.webhook_disable_after_days),
        )


def new_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_DUE = """
  SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id
  WHERE d.state = 'PENDING' AND d.next_attempt_at <= {now}
    AND (d.claimed_until IS NULL OR d.claimed_until < {now}) AND e.enabled
    AND (NOT d.ordered OR NOT EXISTS (
      SELECT 1 FROM webhook_delivery p
      WHERE p.endpoint_id = d.endpoint_id AND p.ordered AND p.state = 'PENDING' AND p.id < d.id))
  ORDER BY d.id LIMIT {limit}"""
_CLAIM = (
    """
UPDATE webhook_delivery SET claimed_until = {until}, claim_owner = {owner}
WHERE id IN ("""
    + _DUE
    + """{lock})
RETURNING id
"""
)
# Whether anything is due, without a write: an idle schedule (most ticks) takes no write lock.
_ANY_DUE_SQL = {
    "postgres": _DUE.format(now="$1::timestamptz", limit="1"),
    "sqlite": _DUE.format(now="?1", limit="1"),
}
_CLAIM_SQL = {
    "postgres": _CLAIM.format(
        until="$1::timestamptz", owner="$2", now="$3::timestamptz", limit="$4", lock=" FOR UPDATE OF d SKIP LOCKED"
    ),
    "sqlite": _CLAIM.format(until="?1", owner="?2", now="?3", limit="?4", lock=""),
}


async def claim_due(now: datetime, owner: str, lease: timedelta, limit: int = CLAIM_BATCH) -> list[int]:
    """Ids of due deliveries now claimed by `owner` until `now + lease`, oldest first."""
    conn = get_connection("default")
    if not await conn.execute_query_dict(_ANY_DUE_SQL[conn.capabilities.dialect], [now]):
        return []
    rows = await conn.execute_query_dict(_CLAIM_SQL[conn.capabilities.dialect], [now + lease, owner, now, limit])
    return sorted(int(row["id"]) for row in rows)


def body_of(event: WebhookEvent) -> bytes:
    return orjson.dumps(
        {
            "id": event.uid,
            "type": event.type,
            "createdAt": event.created_at.isoformat(),
            "workspaceId": global_id("Workspace", event.workspace_id),  # type: ignore[attr-defined]
            "data": event.data,
        }
    )


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    secrets = [endpoint.signing_secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_signing_secret and expires is not None and expires > now:
        secrets.append(endpoint.previous_signing_secret)
    return secrets


@dataclass
class RoundResult:
    attempted: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    disabled_endpoints: list[int] = field(default_factory=list)


async def attempt(delivery_id: int, owner: str, config: DeliveryConfig, clock: Clock, rng: Callable[[], float]) -> str:
    """One attempt of a claimed delivery; returns what became of it (DELIVERED, RETRY, FAILED, DISABLED, LOST)."""
    delivery = await WebhookDelivery.get_or_none(id=delivery_id, claim_owner=owner).prefetch_related(
        "event", "endpoint"
    )
    if delivery is None:
        return "LOST"  # the claim lapsed and another worker took the delivery over
    endpoint: WebhookEndpoint = delivery.endpoint
    event: WebhookEvent = delivery.event
    body = body_of(event)
    started = clock()
    headers = {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: signing.signature_header(
            signing_secrets(endpoint, started), int(started.timestamp()), body
        ),
        "Keyward-Event": event.type,
        "Keyward-Event-Id": event.uid,
        "Keyward-Delivery": global_id("WebhookDelivery", delivery.id),
    }
    try:
        result = await sender.send(endpoint.url, body, headers, config.policy)
    except Exception:
        # `send` answers for everything a destination or the network does; an error out of it is ours, met
        # by this destination. It is a failed attempt all the same, counted, so the delivery backs off, is
        # given up after the retry window and can disable its endpoint, instead of being taken up again
        # after every lease for ever.
        log.exception("webhook delivery %s: the attempt raised inside Keyward", delivery.id)
        result = sender.AttemptResult(False, None, INTERNAL_FAILURE)
    return await _record(delivery, endpoint, result, clock(), rng, config.disable_after)


async def _record(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: sender.AttemptResult,
    now: datetime,
    rng: Callable[[], float],
    disable_after: timedelta,
) -> str:
    mine = WebhookDelivery.filter(id=delivery.id, claim_owner=delivery.claim_owner, state=PENDING)
    common = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": now,
        "last_status_code": result.status_code,
        "claimed_until": None,
        "claim_owner": None,
    }
    async with in_transaction():
        if result.ok:
            changed = await mine.update(
                **common, state=DELIVERED, delivered_at=now, next_attempt_at=None, last_error=None
            )
            if changed:
                await WebhookEndpoint.filter(id=endpoint.id).update(failing_since=None, consecutive_failures=0)
            return "DELIVERED" if changed else "LOST"
        error = (result.error or "The attempt failed.")[:500]
        delay = retry_delay(delivery.attempts + 1, rng)
        if result.retry_after is not None:
            # The receiver's number is bounded before it becomes a timedelta: one past ~10^14 s overflows it.
            asked = min(result.retry_after, LONGEST_RETRY.total_seconds())
            delay = max(delay, timedelta(seconds=asked))
        next_at = now + delay
        if next_at > delivery.created_at + RETRY_WINDOW:
            changed = await mine.update(**common, state=FAILED, failed_at=now, next_attempt_at=None, last_error=error)
            outcome = "FAILED"
        else:
            changed = await mine.update(**common, next_attempt_at=next_at, last_error=error)
            outcome = "RETRY"
        if not changed:
            return "LOST"
        await WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=True).update(failing_since=now)
        await WebhookEndpoint.filter(id=endpoint.id).update(consecutive_failures=F("consecutive_failures") + 1)
        if await _disable_if_failing_too_long(endpoint.id, now, disable_after):
            outcome = "DISABLED"
    return outcome


async def _disable_if_failing_too_long(endpoint_id: int, now: datetime, disable_after: timedelta) -> bool:
    cutoff = now - disable_after
    changed = await WebhookEndpoint.filter(id=endpoint_id, enabled=True, failing_since__lte=cutoff).update(
        enabled=False, disabled_at=now, disabled_reason="Every delivery attempt failed for too long."
    )
    if not changed:
        return False
    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    await audit.record(
        SYSTEM,
        "webhook_endpoint.disabled",
        "WebhookEndpoint",
        endpoint.id,
        workspace_id=endpoint.workspace_id,  # type: ignore[attr-defined]
        details={
            "url": endpoint.url,
            "failingSince": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
            "consecutiveFailures": endpoint.consecutive_failures,
            "reason": "every delivery attempt failed",
        },
    )
    log.warning("webhook endpoint %s disabled: every attempt failed since %s", endpoint.id, endpoint.failing_since)
    return True


async def deliver_due(
    config: DeliveryConfig,
    *,
    clock: Clock = utcnow,
    rng: Callable[[], float] = random.random,
    owner: str | None = None,
    concurrency: int = CONCURRENT_ATTEMPTS,
) -> RoundResult:
    """Claim and attempt due deliveries until none is due, or half the lease has passed (the rest: next round)."""
    owner = owner or new_owner()
    result = RoundResult()
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)

    async def one(delivery_id: int) -> str:
        async with gate:
            try:
                return await attempt(delivery_id, owner, config, clock, rng)
            except Exception:
                log.exception("webhook delivery %s: attempt failed unexpectedly; its claim will lapse", delivery_id)
                return "ERROR"

    while time.monotonic() - started < config.lease.total_seconds() / 2:
        ids = await claim_due(clock(), owner, config.lease)
        if not ids:
            break
        for outcome in await asyncio.gather(*(one(i) for i in ids)):
            metrics.WEBHOOK_ATTEMPTS.labels(outcome.lower()).inc()
            result.attempted += 1
            result.delivered += outcome == "DELIVERED"
            result.failed_attempts += outcome in ("RETRY", "FAILED", "DISABLED")
            result.gave_up += outcome == "FAILED"
    return result


PRUNE_BATCH = 1000


async def prune(now: datetime, retention: timedelta) -> int:
    """Events older than the retention whose deliveries are all finished go, with their deliveries
    (at most PRUNE_BATCH per call: the next round takes the rest)."""
    old = (
        await WebhookEvent.filter(created_at__lt=now - retention)
        .order_by("id")
        .limit(PRUNE_BATCH)
        .values_list("id", flat=True)
    )
    if not old:
        return 0
    pending = set(
        await WebhookDelivery.filter(event_id__in=list(old), state=PENDING).values_list("event_id", flat=True)
    )
    done = [event_id for event_id in old if event_id not in pending]
    if done:
        await WebhookEvent.filter(id__in=done).delete()
    return len(done)


async def delivery_round(config: DeliveryConfig, retention: timedelta) -> RoundResult:
    """What each scheduled run does (the arq cron job, or the API process without Redis)."""
    result = await deliver_due(config)
    if result.attempted:
        log.info(
            "webhooks: %d attempt(s), %d delivered, %d failed (%d given up)",
            result.attempted,
            result.delivered,
            result.failed_attempts,
            result.gave_up,
        )
    await prune(utcnow(), retention)
    return result


async def run_deliveries_every(
    settings: Settings, config: DeliveryConfig, database: DatabaseOutage | None = None
) -> None:
    """The embedded mode's loop: a round every `webhook_delivery_seconds` (0: never), failures logged.

    A round the database did not answer goes to `database` (one log line per outage, shared with
    the requests) instead of a traceback every round.
    """
    interval = settings.webhook_delivery_seconds
    if interval <= 0:
        return
    retention = timedelta(days=settings.webhook_retention_days)
    while True:
        await asyncio.sleep(interval)
        try:
            await delivery_round(config, retention)
        except Exception as error:
            if database is not None and is_database_unavailable(error):
                database.failed(error)
            else:
                log.exception("webhook delivery round failed; the next one retries")
        else:
            if database is not None:
                database.answered()
