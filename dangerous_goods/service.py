"""Reading the ADR 2025 list from the database: all entries of a UN number, and search by name."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.cursors import decode_cursor, encode_cursor
from core.errors import NotFoundError, RuleViolationError
from dangerous_goods.models import DangerousGoodEntry
from dangerous_goods.schemas import DangerousGoodPage, DangerousGoodRead, DangerousGoodStatus

__all__ = ("UN_NUMBER_PATTERN", "get_entries", "normalise_un_number", "search_entries")

UN_NUMBER_PATTERN = r"^(?:[Uu][Nn] ?)?[0-9]{4}$"
"""A UN number as callers write it: four digits, optionally after ``UN`` (``1203``, ``UN1203``, ``UN 1203``)."""

_UN_PREFIX = re.compile(r"^(?:UN ?)?([0-9]{1,4})$")


def normalise_un_number(raw: str) -> str:
    """The four digits of a UN number written as :data:`UN_NUMBER_PATTERN` allows.

    Raises:
        ValueError: ``raw`` is not such a UN number.
    """
    if not re.fullmatch(UN_NUMBER_PATTERN, raw.strip()):
        raise ValueError("a UN number is four digits, optionally after UN, e.g. 1203 or UN1203")
    return raw.strip()[-4:]


def _read(row: DangerousGoodEntry) -> DangerousGoodRead:
    name = row.name_en or row.name_de
    assert name is not None  # every Table A entry has at least one of its names
    return DangerousGoodRead(
        un_number=row.un_number,
        entry_seq=row.entry_seq,
        name=name,
        name_de=row.name_de,
        hazard_class=row.hazard_class,
        classification_code=row.classification_code,
        packing_group=row.packing_group,
        labels=list(row.labels),
        special_provisions=list(row.special_provisions),
        transport_category=row.transport_category,
        tunnel_restriction_code=row.tunnel_restriction_code,
        hazard_identification_number=row.hazard_identification_number,
        limited_quantity=row.limited_quantity,
        excepted_quantity=row.excepted_quantity,
        tank_code=row.tank_code,
        multiplier_1136=row.multiplier_1136,
        status=DangerousGoodStatus(row.status),
    )


_ORDER = (col(DangerousGoodEntry.un_number), col(DangerousGoodEntry.entry_seq))


async def get_entries(session: AsyncSession, *, un_number: str) -> list[DangerousGoodRead]:
    """Every entry of a UN number (four digits), in Table A order.

    Raises:
        NotFoundError: the UN number is not in the ADR 2025 list.
    """
    rows = await session.scalars(
        sa.select(DangerousGoodEntry).where(col(DangerousGoodEntry.un_number) == un_number).order_by(*_ORDER)
    )
    entries = [_read(row) for row in rows]
    if not entries:
        raise NotFoundError(f"UN {un_number} is not in the ADR 2025 dangerous goods list")
    return entries


def _decode_position(cursor: str) -> tuple[str, int]:
    un_number, entry_seq = decode_cursor(cursor, tuple[str, int])
    if not re.fullmatch(r"[0-9]{4}", un_number) or not 0 <= entry_seq < 2**31:
        raise RuleViolationError("cursor is not one this API returned", field="cursor")
    return un_number, entry_seq


async def search_entries(session: AsyncSession, *, query: str, cursor: str | None, limit: int) -> DangerousGoodPage:
    """A page of the entries whose English or German name contains ``query`` (any case), by UN number.

    A query that is a UN number or its beginning (``1017``, ``UN 10``) also finds the entries of those
    UN numbers.
    """
    text = query.strip()
    matches = [col(DangerousGoodEntry.search_text).contains(text.casefold(), autoescape=True)]
    digits = _UN_PREFIX.fullmatch(text.upper())
    if digits:
        matches.append(col(DangerousGoodEntry.un_number).startswith(digits.group(1), autoescape=True))
    stmt = sa.select(DangerousGoodEntry).where(sa.or_(*matches))
    if cursor is not None:
        after_un, after_seq = _decode_position(cursor)
        stmt = stmt.where(
            sa.or_(
                col(DangerousGoodEntry.un_number) > after_un,
                sa.and_(col(DangerousGoodEntry.un_number) == after_un, col(DangerousGoodEntry.entry_seq) > after_seq),
            )
        )
    rows = list(await session.scalars(stmt.order_by(*_ORDER).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].un_number, rows[limit - 1].entry_seq) if len(rows) > limit else None
    return DangerousGoodPage(items=[_read(row) for row in rows[:limit]], next_cursor=next_cursor)
