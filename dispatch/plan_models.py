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

__all__ = ("DispatchAssignment", "DispatchCheckIn", "DispatchPlan")


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
    pinned_runs: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONDocument)
    """Runs the dispatcher pinned (msgspec-encoded ``Run``): kept as they are when this plan is solved."""
    source_plan_id: uuid.UUID | None = Field(default=None, foreign_key="dispatch_plan.id")
    """The plan this one re-plans around its pinned runs, or was adjusted from."""
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


class DispatchCheckIn(SQLModel, table=True):
    """A driver's tap on the run page: arrived, hooked, departed, dropped or delivered at a stop of a move.

    One row per (plan, move, stop, action): tapping again does not record it twice. ``event_id`` is the
    journey event it posted on the move's waybill leg, when the move has one.
    """

    __tablename__ = "dispatch_check_in"
    __table_args__ = (sa.UniqueConstraint("plan_id", "move_id", "stop", "action"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    plan_id: uuid.UUID = Field(foreign_key="dispatch_plan.id", index=True)
    tractor_id: int = Field(sa_column=_ref("dispatch_tractor", nullable=False))
    move_id: int = Field(sa_column=_ref("dispatch_move", nullable=False, index=True))
    stop: str = Field(sa_type=sa.String(8))
    """``hook`` (the move's origin) or ``drop`` (its destination)."""
    action: str = Field(sa_type=sa.String(16))
    """``arrived``, ``hooked``, ``departed``, ``dropped`` or ``delivered``."""
    at: datetime = Field(sa_type=UTCDateTime)
    receiver_name: str | None = Field(default=None, sa_type=sa.String(100))
    event_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
