"""Tables of the partner exchange: partners, the outbox and the inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import IntPK, JSONDocument, UTCDateTime, utcnow

__all__ = ("InboxMessage", "OutboxMessage", "Partner")


class Partner(SQLModel, table=True):
    """A system we exchange messages with: a container terminal, a customs office or the national node.

    Its ``code`` names its queues (``freight.to.<code>``, ``freight.from.<code>``); inbound messages are
    applied on behalf of its ``organisation`` (a port or customs organisation acts at its places).
    """

    __tablename__ = "partner"

    code: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    kind: str = Field(sa_type=sa.String(12))
    name: str = Field(sa_type=sa.String(200))
    locode: str | None = Field(default=None, sa_type=sa.String(5), index=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    message_format: str = Field(default="json", sa_type=sa.String(8))
    """How it wants our messages: ``edifact`` or ``json`` (terminals); the node always takes JSON."""
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """A message for a partner, written in the transaction of the change it reports; the relay sends it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at", "id"),
        sa.Index("ix_outbox_message_ordering", "ordering_key", "status", "id"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    message_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid(), nullable=False, unique=True))
    destination: str = Field(sa_type=sa.String(16))
    """The partner code; also the routing key on the outbound exchange."""
    message_type: str = Field(sa_type=sa.String(40))
    schema_version: int = 1
    correlation_id: str = Field(sa_type=sa.String(40))
    """The waybill number the message is about."""
    ordering_key: str = Field(sa_type=sa.String(40))
    """Messages with the same key are published in the order they were written."""
    content_type: str = Field(sa_type=sa.String(40))
    body: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = Field(default="pending", sa_type=sa.String(8))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=sa.String(500))


class InboxMessage(SQLModel, table=True):
    """A message a consumer has dealt with: its id is recorded in the transaction that applied it."""

    __tablename__ = "inbox_message"

    consumer: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    message_id: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    outcome: str = Field(sa_type=sa.String(16))
    """``applied``, or ``dead_lettered`` for a message refused for good."""
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
