"""Event subscriptions: shippers' callbacks for a waybill's events, signed with HMAC-SHA256.

Recording an event enqueues one delivery per matching subscription in the same transaction
(``enqueue_deliveries``); ``deliver_due`` POSTs the due ones, signs each body, and retries with
exponential backoff. The sender is deliberately small: the outbox relay of the messaging work will
replace it. See docs/webhooks.md for what receivers do and docs/decisions/0009-signed-callbacks.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accounts.schemas import Principal
from core.db import utc_builtins, utcnow
from core.errors import ForbiddenError, InvalidStateError, NotFoundError, RuleViolationError
from waybill.models import EventSubscription, SubscriptionDelivery, Waybill
from waybill.schemas import WaybillStatus
from waybill.service import load_waybill_for
from waybill.subscription_schemas import (
    DeliveryPage,
    DeliveryRead,
    DeliveryReport,
    DeliveryStatus,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionRead,
)

__all__ = (
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_ATTEMPTS",
    "SECRET_GRACE",
    "SIGNATURE_HEADER",
    "backoff_delay",
    "create_subscription",
    "deactivate_subscription",
    "deliver_due",
    "enqueue_deliveries",
    "list_deliveries",
    "list_subscriptions",
    "rotate_secret",
    "sign_delivery",
    "verify_signature",
)

SIGNATURE_HEADER = "X-Freight-Signature"
DELIVERY_HEADER = "X-Freight-Delivery"
EVENT_HEADER = "X-Freight-Event"
SECRET_GRACE = timedelta(hours=24)
"""How long a rotated-out secret keeps signing deliveries."""
MAX_ATTEMPTS = 8
"""Attempts before a delivery is given up (30 s, 1, 2, 4, ... min apart: about two hours in all)."""
MAX_ACTIVE_SUBSCRIPTIONS = 10
"""Active subscriptions per waybill."""
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 6 * 3600.0
LEASE = timedelta(minutes=2)
"""A claimed delivery is not due again for this long, so that a second sender leaves it alone."""
SEND_TIMEOUT_S = 10.0
SEND_CONCURRENCY = 10
_SECRET_PREFIX = "whsec_"
_CLOSED_STATES = frozenset({WaybillStatus.CANCELLED, WaybillStatus.CLOSED})

_log = structlog.get_logger("waybill.subscriptions")


# --- signing ----------------------------------------------------------------------------------


def _hmac_hex(body: bytes, *, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_delivery(body: bytes, *, secret: str, timestamp: int, previous_secret: str | None = None) -> str:
    """The ``X-Freight-Signature`` header value of a delivery body.

    ``t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>." + body>``; with ``previous_secret`` (during a
    rotation's grace period) a second ``v1=`` signed with it follows.
    """
    parts = [f"t={timestamp}", f"v1={_hmac_hex(body, secret=secret, timestamp=timestamp)}"]
    if previous_secret is not None:
        parts.append(f"v1={_hmac_hex(body, secret=previous_secret, timestamp=timestamp)}")
    return ",".join(parts)


def verify_signature(body: bytes, header: str, *, secret: str, now: int, tolerance_s: int = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and its time is within ``tolerance_s`` of ``now``.

    What a receiver does (docs/webhooks.md); here for tests and for partners who use this package.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance_s:
        return False
    expected = _hmac_hex(body, secret=secret, timestamp=timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def _new_secret() -> str:
    return _SECRET_PREFIX + secrets.token_hex(24)


def backoff_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 30 s × 2^(attempts-1), capped, minus up to 20 % jitter."""
    delay = min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S)
    return timedelta(seconds=delay * random.uniform(0.8, 1.0))


# --- subscriptions ----------------------------------------------------------------------------


def _read(subscription: EventSubscription, now: datetime | None = None) -> SubscriptionRead:
    expires = subscription.previous_secret_expires_at
    if expires is not None and expires <= (now or utcnow()):
        expires = None
    return SubscriptionRead(
        id=subscription.id,
        callback_url=subscription.callback_url,
        event_types=list(subscription.event_types),
        active=subscription.active,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
        previous_secret_expires_at=expires,
    )


async def _shippers_waybill(session: AsyncSession, principal: Principal, number: str, action: str) -> Waybill:
    waybill = await load_waybill_for(session, principal=principal, number=number)
    if waybill.shipper_id != principal.organisation_id:
        raise ForbiddenError(f"only the shipper of record may {action} this waybill's event subscriptions")
    return waybill


async def _load_subscription(
    session: AsyncSession, waybill: Waybill, subscription_id: uuid.UUID, *, for_update: bool = False
) -> EventSubscription:
    stmt = sa.select(EventSubscription).where(
        col(EventSubscription.id) == subscription_id, col(EventSubscription.waybill_id) == waybill.id
    )
    if for_update:
        stmt = stmt.with_for_update()
    subscription = await session.scalar(stmt)
    if subscription is None:
        raise NotFoundError(f"waybill {waybill.number} has no subscription {subscription_id}")
    return subscription


async def create_subscription(
    session: AsyncSession, *, principal: Principal, number: str, data: SubscriptionCreate
) -> SubscriptionCreated:
    """Subscribe a callback URL to a waybill's events; the secret is in the answer, and only there.

    Raises:
        NotFoundError: the caller may not see the waybill.
        ForbiddenError: the caller is not the shipper of record.
        InvalidStateError: the waybill is cancelled or closed.
        RuleViolationError: the waybill has the most active subscriptions allowed.
    """
    waybill = await _shippers_waybill(session, principal, number, "manage")
    if WaybillStatus(waybill.status) in _CLOSED_STATES:
        raise InvalidStateError(f"waybill {number} is {waybill.status}; it will have no more events")
    active = await session.scalar(
        sa.select(sa.func.count())
        .select_from(EventSubscription)
        .where(col(EventSubscription.waybill_id) == waybill.id, col(EventSubscription.active).is_(True))
    )
    if (active or 0) >= MAX_ACTIVE_SUBSCRIPTIONS:
        raise RuleViolationError(f"a waybill has at most {MAX_ACTIVE_SUBSCRIPTIONS} active subscriptions")
    assert waybill.id is not None
    now = utcnow()
    subscription = EventSubscription(
        waybill_id=waybill.id,
        organisation_id=principal.organisation_id,
        callback_url=data.callback_url,
        secret=_new_secret(),
        event_types=list(data.event_types),
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return SubscriptionCreated(subscription=_read(subscription, now), secret=subscription.secret)


async def list_subscriptions(session: AsyncSession, *, principal: Principal, number: str) -> SubscriptionList:
    """The waybill's subscriptions (active and deactivated), oldest first, without secrets."""
    waybill = await _shippers_waybill(session, principal, number, "read")
    rows = await session.scalars(
        sa.select(EventSubscription)
        .where(col(EventSubscription.waybill_id) == waybill.id)
        .order_by(col(EventSubscription.created_at), col(EventSubscription.id))
    )
    now = utcnow()
    return SubscriptionList(number=waybill.number, subscriptions=[_read(s, now) for s in rows])


async def deactivate_subscription(
    session: AsyncSession, *, principal: Principal, number: str, subscription_id: uuid.UUID
) -> SubscriptionRead:
    """Stop a subscription; its pending deliveries are given up. Deactivating twice is harmless."""
    waybill = await _shippers_waybill(session, principal, number, "manage")
    subscription = await _load_subscription(session, waybill, subscription_id, for_update=True)
    if subscription.active:
        now = utcnow()
        subscription.active = False
        subscription.updated_at = now
        await session.execute(
            sa.update(SubscriptionDelivery)
            .where(
                col(SubscriptionDelivery.subscription_id) == subscription.id,
                col(SubscriptionDelivery.status) == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.FAILED.value, last_error="subscription deactivated")
        )
        await session.flush()
    return _read(subscription)


async def rotate_secret(
    session: AsyncSession, *, principal: Principal, number: str, subscription_id: uuid.UUID
) -> SecretRotated:
    """Give a subscription a new secret; the current one keeps signing for ``SECRET_GRACE``.

    A second rotation within the grace period drops the oldest secret at once.
    """
    waybill = await _shippers_waybill(session, principal, number, "manage")
    subscription = await _load_subscription(session, waybill, subscription_id, for_update=True)
    if not subscription.active:
        raise InvalidStateError(f"subscription {subscription_id} is deactivated")
    now = utcnow()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + SECRET_GRACE
    subscription.secret = _new_secret()
    subscription.updated_at = now
    await session.flush()
    return SecretRotated(subscription=_read(subscription, now), secret=subscription.secret)


def _delivery_read(delivery: SubscriptionDelivery) -> DeliveryRead:
    assert delivery.id is not None
    status = DeliveryStatus(delivery.status)
    return DeliveryRead(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=str(delivery.payload.get("event_type", "")),
        status=status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if status is DeliveryStatus.PENDING else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    number: str,
    subscription_id: uuid.UUID,
    before: int | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """Deliveries of one subscription, newest first, ``limit`` at a time."""
    waybill = await _shippers_waybill(session, principal, number, "read")
    subscription = await _load_subscription(session, waybill, subscription_id)
    stmt = sa.select(SubscriptionDelivery).where(col(SubscriptionDelivery.subscription_id) == subscription.id)
    if before is not None:
        stmt = stmt.where(col(SubscriptionDelivery.id) < before)
    rows = list(await session.scalars(stmt.order_by(col(SubscriptionDelivery.id).desc()).limit(limit + 1)))
    items = [_delivery_read(d) for d in rows[:limit]]
    return DeliveryPage(items=items, next_before=items[-1].id if len(rows) > limit else None)


# --- enqueueing -------------------------------------------------------------------------------


async def enqueue_deliveries(
    session: AsyncSession, *, waybill_id: int, event_id: uuid.UUID, event_type: str, payload: dict[str, Any]
) -> int:
    """Queue one delivery of an event per active subscription of the waybill whose filter matches.

    Call it from the code that records the event, in the same transaction (this function does not
    commit or flush). The body POSTed is fixed now: ``{"event_id", "event_type", "waybill_number",
    "event": payload}`` with times in UTC.

    Returns:
        How many deliveries were queued.
    """
    subscriptions = list(
        await session.scalars(
            sa.select(EventSubscription).where(
                col(EventSubscription.waybill_id) == waybill_id, col(EventSubscription.active).is_(True)
            )
        )
    )
    matching = [s for s in subscriptions if not s.event_types or event_type in s.event_types]
    if not matching:
        return 0
    number = await session.scalar(sa.select(col(Waybill.number)).where(col(Waybill.id) == waybill_id))
    body = utc_builtins(
        {"event_id": str(event_id), "event_type": event_type, "waybill_number": number, "event": payload}
    )
    now = utcnow()
    session.add_all(
        SubscriptionDelivery(subscription_id=s.id, event_id=event_id, payload=body, next_attempt_at=now, created_at=now)
        for s in matching
    )
    return len(matching)


# --- sending ----------------------------------------------------------------------------------


class _Claimed(msgspec.Struct, kw_only=True, frozen=True):
    delivery_id: int
    attempts: int
    body: bytes
    event_type: str
    url: str
    signature: str
    active: bool


class _Outcome(msgspec.Struct, kw_only=True, frozen=True):
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _claim(session: AsyncSession, *, now: datetime, limit: int) -> list[_Claimed]:
    """Due deliveries, leased to this sender for ``LEASE`` so that another sender skips them."""
    due = (
        sa.select(col(SubscriptionDelivery.id))
        .where(
            col(SubscriptionDelivery.status) == DeliveryStatus.PENDING.value,
            col(SubscriptionDelivery.next_attempt_at) <= now,
        )
        .order_by(col(SubscriptionDelivery.next_attempt_at), col(SubscriptionDelivery.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.scalars(due))
    if not ids:
        return []
    # The condition is repeated so that, on SQLite where nothing is locked, a row another sender
    # claimed in the meantime is not claimed twice.
    claimed_ids = set(
        await session.scalars(
            sa.update(SubscriptionDelivery)
            .where(
                col(SubscriptionDelivery.id).in_(ids),
                col(SubscriptionDelivery.status) == DeliveryStatus.PENDING.value,
                col(SubscriptionDelivery.next_attempt_at) <= now,
            )
            .values(next_attempt_at=now + LEASE)
            .returning(col(SubscriptionDelivery.id))
            .execution_options(synchronize_session=False)
        )
    )
    rows = await session.execute(
        sa.select(SubscriptionDelivery, EventSubscription)
        .join(EventSubscription, col(EventSubscription.id) == col(SubscriptionDelivery.subscription_id))
        .where(col(SubscriptionDelivery.id).in_(claimed_ids))
        .order_by(col(SubscriptionDelivery.id))
    )
    timestamp = int(now.timestamp())
    claimed = []
    for delivery, subscription in rows:
        assert delivery.id is not None
        body = msgspec.json.encode(delivery.payload)
        grace = subscription.previous_secret_expires_at
        previous = subscription.previous_secret if grace is not None and grace > now else None
        claimed.append(
            _Claimed(
                delivery_id=delivery.id,
                attempts=delivery.attempts,
                body=body,
                event_type=str(delivery.payload.get("event_type", "")),
                url=subscription.callback_url,
                signature=sign_delivery(
                    body, secret=subscription.secret, timestamp=timestamp, previous_secret=previous
                ),
                active=subscription.active,
            )
        )
    return claimed


async def _send(client: httpx.AsyncClient, delivery: _Claimed) -> _Outcome:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: delivery.signature,
        DELIVERY_HEADER: str(delivery.delivery_id),
        EVENT_HEADER: delivery.event_type,
        "User-Agent": "freight-callbacks/1",
    }
    try:
        response = await client.post(
            delivery.url, content=delivery.body, headers=headers, timeout=SEND_TIMEOUT_S, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        return _Outcome(error=f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__)
    if 200 <= response.status_code < 300:
        return _Outcome(status_code=response.status_code)
    return _Outcome(status_code=response.status_code, error=f"HTTP {response.status_code}")


def _apply(delivery: SubscriptionDelivery, outcome: _Outcome, *, now: datetime, max_attempts: int) -> DeliveryStatus:
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED.value
        delivery.delivered_at = now
    elif delivery.attempts >= max_attempts:
        delivery.status = DeliveryStatus.FAILED.value
    else:
        delivery.next_attempt_at = now + backoff_delay(delivery.attempts)
    return DeliveryStatus(delivery.status)


async def deliver_due(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    client: httpx.AsyncClient,
    now: datetime | None = None,
    limit: int = 100,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryReport:
    """POST the deliveries that are due, signed, and record each outcome.

    A 2xx answer marks a delivery succeeded; anything else (another status, a timeout, a refused
    connection) schedules a retry with exponential backoff, until ``max_attempts`` have failed.
    Claiming commits at once and sending happens outside any transaction, so a slow receiver holds
    no lock; a sender that dies mid-way leaves its claims due again after ``LEASE`` (at least once).

    Args:
        session_factory: sessions of the platform database.
        client: the HTTP client to send with.
        now: the time to act at (default: the clock); tests move it forward.
        limit: most deliveries sent in this run.
        max_attempts: attempts before a delivery is given up.
    """
    now = now or utcnow()
    async with session_factory() as session:
        claimed = await _claim(session, now=now, limit=limit)
        await session.commit()
    if not claimed:
        return DeliveryReport()
    gate = asyncio.Semaphore(SEND_CONCURRENCY)

    async def send(delivery: _Claimed) -> _Outcome:
        if not delivery.active:
            return _Outcome(error="subscription deactivated")
        async with gate:
            return await _send(client, delivery)

    outcomes = await asyncio.gather(*(send(d) for d in claimed))
    counts = {status: 0 for status in DeliveryStatus}
    async with session_factory() as session:
        for delivery, outcome in zip(claimed, outcomes, strict=True):
            row = await session.get(SubscriptionDelivery, delivery.delivery_id, with_for_update=True)
            if row is None or row.status != DeliveryStatus.PENDING.value:
                continue
            attempts_left = max_attempts if delivery.active else row.attempts + 1
            status = _apply(row, outcome, now=now, max_attempts=attempts_left)
            counts[status] += 1
            _log.info(
                "callback_delivery",
                delivery_id=delivery.delivery_id,
                status=status.value,
                attempts=row.attempts,
                status_code=outcome.status_code,
                error=outcome.error,
            )
        await session.commit()
    return DeliveryReport(
        attempted=len(claimed),
        succeeded=counts[DeliveryStatus.SUCCEEDED],
        retrying=counts[DeliveryStatus.PENDING],
        failed=counts[DeliveryStatus.FAILED],
    )
