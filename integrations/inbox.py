"""The inbox: each (message id, consumer) is applied once, however often the broker delivers it.

A consumer claims a message's id in the transaction that applies it; a copy delivered again finds the
id taken and is acknowledged without being applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import utcnow
from integrations.models import InboxMessage

__all__ = ("claim_messages", "count_inbox", "release_messages")


async def claim_messages(
    session: AsyncSession,
    consumer: str,
    message_ids: Sequence[str],
    *,
    outcome: str = "applied",
    details: dict[str, dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> set[str]:
    """Record ``message_ids`` as handled by ``consumer``; returns those not recorded before (to apply now)."""
    if not message_ids:
        return set()
    now = now or utcnow()
    details = details or {}
    rows = [
        {"consumer": consumer, "message_id": m, "outcome": outcome, "received_at": now, "detail": details.get(m, {})}
        for m in dict.fromkeys(message_ids)
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(InboxMessage).on_conflict_do_nothing().returning(col(InboxMessage.message_id))
    # executemany with RETURNING: SQLAlchemy sends multi-row INSERTs and gathers what each returns
    return set(await session.scalars(statement, rows))


async def release_messages(session: AsyncSession, consumer: str, message_ids: Sequence[str]) -> None:
    """Undo claims made in this transaction for messages that were not applied after all (parked)."""
    await session.execute(
        sa.delete(InboxMessage).where(
            col(InboxMessage.consumer) == consumer, col(InboxMessage.message_id).in_(list(message_ids))
        )
    )


async def count_inbox(session: AsyncSession, consumer: str, outcome: str | None = None) -> int:
    """How many messages ``consumer`` has handled (with ``outcome``, when given)."""
    query = sa.select(sa.func.count()).select_from(InboxMessage).where(col(InboxMessage.consumer) == consumer)
    if outcome is not None:
        query = query.where(col(InboxMessage.outcome) == outcome)
    return int(await session.scalar(query) or 0)
