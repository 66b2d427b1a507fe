"""CSV import of trailer moves: all or nothing, an error for every bad cell, Excel's encodings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.examples import CREATE_DISPATCH_PLACE_EXAMPLES
from dispatch import service
from dispatch.demo_day import store_day
from dispatch.models import DispatchMove
from dispatch.move_import import MAX_BYTES, MoveImport, RowError, import_moves
from dispatch.schemas import PlaceCreate, TrailerCreate
from dispatch.solver.generator import generate_day
from dispatch.solver.problem import MoveKind, TrailerType
from tests.conftest import Org

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "moves.csv"
YARD, FACTORY, TERMINAL = CREATE_DISPATCH_PLACE_EXAMPLES.values()
HEADER = "kind,trailer,trailer_type,origin,destination,ready_at,deliver_by,cutoff,loading_minutes,hazmat"
GOOD_ROWS = [
    "haul,粤S1234挂,,SD-BEIJIAO-3,NANSHA-T2,2026-12-03 08:00,2026-12-03 12:00,2026-12-03 13:00,,no",
    "position,,reefer,,SD-BEIJIAO-3,,2026-12-03T10:00:00+08:00,,,",
    "collect,粤S1234挂,,SD-BEIJIAO-3,DG-SHATIAN,2026/12/3 14:30,,,90,yes",
]


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
async def carriers(make_org: Any) -> tuple[Org, Org]:
    """Two carriers, made before the test's session writes (SQLite has one writer at a time)."""
    return (
        await make_org("carrier", name="佛山顺通甩挂运输有限公司"),
        await make_org("carrier", name="东莞虎门港物流有限公司"),
    )


@pytest.fixture
async def carrier(db: AsyncSession, carriers: tuple[Org, Org]) -> Org:
    """A carrier with a yard, a factory, a terminal and a loaded reefer at the factory."""
    org = carriers[0]
    carrier_id = org.principal.organisation_id
    places = {}
    for body in (YARD, FACTORY, TERMINAL):
        place = await service.create_place(db, carrier_id=carrier_id, data=msgspec.convert(body, PlaceCreate))
        places[place.code] = place.id
    trailer = {"plate": "粤S1234挂", "type": "reefer", "place_id": places["SD-BEIJIAO-3"], "loaded": True}
    await service.create_trailer(db, carrier_id=carrier_id, data=msgspec.convert(trailer, TrailerCreate))
    return org


async def imported(db: AsyncSession, carrier: Org, data: bytes) -> MoveImport:
    return await import_moves(db, principal=carrier.principal, data=data)


async def moves_of(db: AsyncSession, carrier: Org) -> int:
    count = await db.scalar(
        sa.select(sa.func.count())
        .select_from(DispatchMove)
        .where(col(DispatchMove.carrier_id) == carrier.principal.organisation_id)
    )
    return int(count or 0)


async def test_a_good_file_creates_every_move(db: AsyncSession, carrier: Org) -> None:
    result = await imported(db, carrier, csv_bytes(HEADER, *GOOD_ROWS))

    assert result.errors == []
    assert [move.kind for move in result.created] == [MoveKind.HAUL, MoveKind.POSITION, MoveKind.COLLECT]
    haul, position, collect = result.created
    assert haul.ready_at == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 Beijing time
    assert haul.cutoff == datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
    assert haul.trailer_id is not None
    assert not haul.hazmat
    assert (position.trailer_type, position.deliver_by) == (TrailerType.REEFER, datetime(2026, 12, 3, 2, tzinfo=UTC))
    assert (collect.ready_at, collect.loading_minutes, collect.hazmat) == (
        datetime(2026, 12, 3, 6, 30, tzinfo=UTC),
        90,
        True,
    )
    assert await moves_of(db, carrier) == 3


async def test_every_error_of_every_row_is_reported_and_nothing_is_created(db: AsyncSession, carrier: Org) -> None:
    data = csv_bytes(
        HEADER,
        GOOD_ROWS[0],
        "haul,,,SD-BEIJIAO-3,NANSHA-T2,,,,,",  # a haul without its trailer
        "teleport,粤S9999挂,,SD-BEIJIAO-3,NOWHERE,tomorrow,,,,maybe",  # five bad cells
        GOOD_ROWS[1],
        "position,,reefer,,NANSHA-T2,2026-12-03 12:00,2026-12-03 09:00,,2000,",  # due before ready, too long
        GOOD_ROWS[1] + ",surplus",
    )

    result = await imported(db, carrier, data)

    assert result.created == []
    assert {(error.row, error.column) for error in result.errors} == {
        (3, "trailer"),
        (4, "kind"),
        (4, "trailer"),
        (4, "destination"),
        (4, "ready_at"),
        (4, "hazmat"),
        (6, "loading_minutes"),
        (6, "deliver_by"),
        (7, None),
    }
    by_cell = {(error.row, error.column): error.message for error in result.errors}
    assert by_cell[(4, "destination")] == "the carrier has no place with code NOWHERE"
    assert by_cell[(4, "trailer")] == "the carrier has no trailer 粤S9999挂"
    assert "before" in by_cell[(6, "deliver_by")]
    assert [error.row for error in result.errors] == sorted(error.row for error in result.errors)
    assert await moves_of(db, carrier) == 0


async def test_a_broken_waybill_reference_is_reported_by_create_move_and_undoes_the_rest(
    db: AsyncSession, carrier: Org
) -> None:
    header = HEADER + ",waybill_number,leg_index"
    data = csv_bytes(header, GOOD_ROWS[0] + ",,", GOOD_ROWS[1] + ",EW2612-7K3M9Q2X-C,1")

    result = await imported(db, carrier, data)

    assert result.created == []
    assert [(error.row, error.column) for error in result.errors] == [(3, "waybill_number")]
    assert await moves_of(db, carrier) == 0


async def test_a_gb18030_file_with_chinese_headers_and_words_is_read(db: AsyncSession, carrier: Org) -> None:
    data = csv_bytes(
        "类型,挂车,挂车类型,起点,终点,可提时间,送达时间,截止时间,装卸分钟,危险品",
        "运送,粤S1234挂,冷藏,SD-BEIJIAO-3,NANSHA-T2,2026-12-03 08:00,2026-12-03 12:00,,,否",
        "送空挂,,冷藏,,SD-BEIJIAO-3,,2026-12-03 10:00,,,是",
        encoding="gb18030",
    )

    result = await imported(db, carrier, data)

    assert result.errors == []
    assert [(move.kind, move.hazmat) for move in result.created] == [(MoveKind.HAUL, False), (MoveKind.POSITION, True)]


async def test_a_utf8_file_with_a_byte_order_mark_is_read(db: AsyncSession, carrier: Org) -> None:
    data = csv_bytes(HEADER, GOOD_ROWS[1], encoding="utf-8-sig")

    result = await imported(db, carrier, data)

    assert result.errors == []
    assert len(result.created) == 1


@pytest.mark.parametrize(
    ("data", "column", "words"),
    [
        (b"", None, "empty"),
        (csv_bytes(HEADER), None, "no moves"),
        (csv_bytes("kind,trailer", "haul,粤S1234挂"), "destination", "missing"),
        (csv_bytes("kind,destination,colour", "position,NANSHA-T2,red"), "colour", "unknown column"),
        (csv_bytes(HEADER, *[GOOD_ROWS[1]] * 2001), None, "at most 2000"),
        (b"kind,destination\r\n" + b"x" * MAX_BYTES, None, "larger than 1 MB"),
    ],
)
async def test_a_file_that_cannot_be_read_is_reported_on_the_header_row(
    db: AsyncSession, carrier: Org, data: bytes, column: str | None, words: str
) -> None:
    result = await imported(db, carrier, data)

    assert result.created == []
    assert len(result.errors) == 1
    error: RowError = result.errors[0]
    assert (error.row, error.column) == (1, column)
    assert words in error.message
    assert await moves_of(db, carrier) == 0


async def test_another_carriers_places_are_unknown(db: AsyncSession, carrier: Org, carriers: tuple[Org, Org]) -> None:
    result = await imported(db, carriers[1], csv_bytes(HEADER, GOOD_ROWS[1]))

    assert result.created == []
    assert [(error.row, error.column) for error in result.errors] == [(2, "destination")]


async def test_the_sample_file_imports_into_the_demo_carriers_day(db: AsyncSession, carriers: tuple[Org, Org]) -> None:
    demo = carriers[0]
    day = generate_day(
        tractors=40, moves=150, seed=7, start=datetime(2026, 11, 23, 4, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    await store_day(db, carrier_id=demo.principal.organisation_id, problem=day)

    result = await imported(db, demo, SAMPLE.read_bytes())

    assert result.errors == []
    assert len(result.created) == 6


async def test_every_header_problem_is_reported(db: AsyncSession, carrier: Org) -> None:
    result = await imported(db, carrier, csv_bytes("类型,colour,类型,size", "position,red,position,XL"))

    assert [(error.row, error.column) for error in result.errors] == [
        (1, "colour"),
        (1, "kind"),
        (1, "size"),
        (1, "destination"),
    ]
