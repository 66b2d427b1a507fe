"""The transactional outbox: messages for partners written in the transaction of the change they report.

A change and its message commit together or not at all. :mod:`integrations.relay` publishes the rows
later, in order per waybill, and marks a row sent only once the broker has confirmed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import utcnow
from integrations.models import InboxMessage, OutboxMessage

__all__ = (
    "LEASE",
    "OutboxStatus",
    "Outgoing",
    "lease_due",
    "mark_failed_attempt",
    "mark_sent",
    "prune_exchange_records",
    "retry_delay",
    "stage_message",
)

LEASE = timedelta(seconds=60)
"""How long a relay may hold rows on SQLite (where nothing is locked) before another relay takes them."""


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    SENT = "sent"


class Outgoing(msgspec.Struct, kw_only=True, frozen=True):
    """A leased outbox row, ready to publish."""

    id: int
    message_id: uuid.UUID
    destination: str
    message_type: str
    schema_version: int
    correlation_id: str
    ordering_key: str
    content_type: str
    body: bytes
    created_at: datetime
    attempts: int


def stage_message(
    session: AsyncSession,
    *,
    destination: str,
    message_type: str,
    correlation_id: str,
    body: bytes,
    content_type: str = "application/json",
    schema_version: int = 1,
    ordering_key: str | None = None,
    message_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a message for partner ``destination`` to the session; it is sent once the transaction commits."""
    now = now or utcnow()
    row = OutboxMessage(
        message_id=message_id or uuid.uuid4(),
        destination=destination,
        message_type=message_type,
        schema_version=schema_version,
        correlation_id=correlation_id,
        ordering_key=ordering_key or correlation_id,
        content_type=content_type,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


def retry_delay(attempts: int) -> timedelta:
    """Wait before publishing a row again after ``attempts`` failed tries: 1 s doubling, at most 5 minutes."""
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


def _head_of_each_key(candidates: Sequence[tuple[int, str]], pending: Sequence[tuple[int, str]]) -> list[int]:
    """Of the rows we hold, those that come before any pending row of their key that we do not hold."""
    held = {row[0] for row in candidates}
    blocked: set[str] = set()
    keep: list[int] = []
    for row_id, key in pending:  # in id order
        if key in blocked:
            continue
        if row_id in held:
            keep.append(row_id)
        else:
            blocked.add(key)
    return keep


async def lease_due(session: AsyncSession, *, limit: int, now: datetime | None = None) -> list[Outgoing]:
    """Lease up to ``limit`` due rows, oldest first, keeping each waybill's messages in order.

    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` until the caller's transaction ends,
    so that concurrent relays take different rows; a row whose waybill has an earlier pending row held
    by another relay (or waiting for a retry) is left for later, so order per waybill holds. On SQLite,
    where nothing is locked, a lease time stands in for the lock.
    """
    now = now or utcnow()
    due = (
        sa.select(col(OutboxMessage.id), col(OutboxMessage.ordering_key))
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING.value, col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        due = due.with_for_update(skip_locked=True)
    candidates = [(int(row_id or 0), key) for row_id, key in (await session.execute(due)).all()]
    if not candidates:
        return []
    keys = {row[1] for row in candidates}
    last = max(row[0] for row in candidates)
    pending_rows = (
        await session.execute(
            sa.select(col(OutboxMessage.id), col(OutboxMessage.ordering_key))
            .where(
                col(OutboxMessage.status) == OutboxStatus.PENDING.value,
                col(OutboxMessage.ordering_key).in_(keys),
                col(OutboxMessage.id) <= last,
            )
            .order_by(col(OutboxMessage.id))
        )
    ).all()
    pending = [(int(row_id or 0), key) for row_id, key in pending_rows]
    ids = _head_of_each_key(candidates, pending)
    if not postgres:
        ids = list(
            await session.scalars(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.next_attempt_at) <= now)
                .values(next_attempt_at=now + LEASE)
                .returning(col(OutboxMessage.id))
                .execution_options(synchronize_session=False)
            )
        )
    rows = await session.execute(
        sa.select(OutboxMessage.__table__).where(col(OutboxMessage.id).in_(ids)).order_by(col(OutboxMessage.id))  # type: ignore[attr-defined]
    )
    return [
        Outgoing(
            id=row.id,
            message_id=row.message_id,
            destination=row.destination,
            message_type=row.message_type,
            schema_version=row.schema_version,
            correlation_id=row.correlation_id,
            ordering_key=row.ordering_key,
            content_type=row.content_type,
            body=row.body,
            created_at=row.created_at,
            attempts=row.attempts,
        )
        for row in rows
    ]


async def mark_sent(session: AsyncSession, ids: Sequence[int], *, now: datetime | None = None) -> None:
    """Record that the broker confirmed these rows."""
    if ids:
        await session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .values(status=OutboxStatus.SENT.value, sent_at=now or utcnow(), last_error=None)
            .execution_options(synchronize_session=False)
        )


async def mark_failed_attempt(
    session: AsyncSession, failures: dict[int, str], attempts: dict[int, int], *, now: datetime | None = None
) -> None:
    """Schedule rows the broker refused (or could not route) for another try, with backoff."""
    now = now or utcnow()
    for row_id, error in failures.items():
        tries = attempts[row_id] + 1
        await session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id)
            .values(attempts=tries, last_error=error[:500], next_attempt_at=now + retry_delay(tries))
            .execution_options(synchronize_session=False)
        )


async def prune_exchange_records(session: AsyncSession, *, older_than: datetime) -> tuple[int, int]:
    """Delete sent outbox rows and inbox entries recorded before ``older_than``; returns how many of each.

    Pending outbox rows are never pruned. An inbox entry pruned no longer stops a copy of its message
    from being applied, so keep them longer than any partner retries.
    """
    sent = await session.execute(
        sa.delete(OutboxMessage).where(
            col(OutboxMessage.status) == OutboxStatus.SENT.value, col(OutboxMessage.sent_at) < older_than
        )
    )
    received = await session.execute(sa.delete(InboxMessage).where(col(InboxMessage.received_at) < older_than))
    return int(getattr(sent, "rowcount", 0) or 0), int(getattr(received, "rowcount", 0) or 0)
