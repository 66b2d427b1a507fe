"""Tables of planning runs: a carrier's plans (the solver's input and answer) and accepted assignments.

A plan row keeps the ``Problem`` the solver got and the ``Plan`` it returned, both msgspec-encoded
JSON, so that a stored plan can be checked and explained later. Accepting a done plan turns its runs
into assignments: one row per planned move, in run order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import IntPK, JSONDocument, UTCDateTime, utcnow

__all__ = ("DispatchAssignment", "DispatchPlan")


def _ref(table: str, *, nullable: bool, index: bool = False) -> Any:
    return sa.Column(IntPK, sa.ForeignKey(f"{table}.id"), nullable=nullable, index=index)


class DispatchPlan(SQLModel, table=True):
    """One planning run of a carrier: queued, running, done or failed; later accepted or superseded."""

    __tablename__ = "dispatch_plan"
    __table_args__ = (sa.Index("ix_dispatch_plan_listing", "carrier_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    status: str = Field(default="queued", sa_type=sa.String(16))
    start: datetime = Field(sa_type=UTCDateTime)
    horizon_hours: float
    time_limit_s: float
    seed: int = 0
    progress: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    """``{"elapsed_s", "objective", "tractors", "unassigned"}`` of the best plan so far."""
    problem: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    """The ``Problem`` the solver got (msgspec-encoded)."""
    plan: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    """The ``Plan`` it returned (msgspec-encoded); null until done."""
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DispatchAssignment(SQLModel, table=True):
    """A move of an accepted plan: which tractor (and crew, trailer) performs it, in which order, when."""

    __tablename__ = "dispatch_assignment"

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    plan_id: uuid.UUID = Field(foreign_key="dispatch_plan.id", index=True)
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    tractor_id: int = Field(sa_column=_ref("dispatch_tractor", nullable=False))
    driver_id: int | None = Field(default=None, sa_column=_ref("dispatch_driver", nullable=True))
    move_id: int = Field(sa_column=_ref("dispatch_move", nullable=False, index=True))
    sequence: int
    """Order of the move within the tractor's run, from 1."""
    trailer_id: int | None = Field(default=None, sa_column=_ref("dispatch_trailer", nullable=True))
    planned_hook_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    planned_drop_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    waybill_number: str | None = Field(default=None, sa_type=sa.String(20))
    leg_index: int | None = None
