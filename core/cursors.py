"""Opaque list cursors: the sort key of the last row of a page, as URL-safe base64 of a JSON array."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from core.errors import RuleViolationError

__all__ = ("MAX_ID", "decode_cursor", "encode_cursor", "page_by_id")

MAX_ID = 2**63 - 1
"""The largest id a cursor may carry (a PostgreSQL bigint)."""

T = TypeVar("T")
RowT = TypeVar("RowT", bound=SQLModel)


def encode_cursor(*key: Any) -> str:
    """The cursor after a row with this sort key."""
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: type[T]) -> T:
    """The sort key in a cursor (e.g. ``tuple[int]``); 422 ``RuleViolationError`` for one we did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=key_type)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise RuleViolationError("cursor is not one this API returned", field="cursor") from None


def _last_id(cursor: str) -> int:
    (last_id,) = decode_cursor(cursor, tuple[int])
    if not 0 <= last_id <= MAX_ID:
        raise RuleViolationError("cursor is not one this API returned", field="cursor")
    return last_id


async def page_by_id(
    session: AsyncSession, model: type[RowT], stmt: sa.Select[RowT], cursor: str | None, limit: int
) -> tuple[list[RowT], str | None]:
    """One page of ``stmt``'s rows by ascending id, and the cursor of the next page (``None`` on the last)."""
    id_column = col(model.id)  # type: ignore[attr-defined]
    if cursor is not None:
        stmt = stmt.where(id_column > _last_id(cursor))
    rows = list(await session.scalars(stmt.order_by(id_column).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None  # type: ignore[attr-defined]
    return rows[:limit], next_cursor
