"""Import a carrier's trailer moves from a CSV file, all or nothing, with an error for every bad cell.

The file has a header row naming its columns, in English or Chinese (``COLUMN_ALIASES``), in any
order; only ``kind`` and ``destination`` are required. Places are named by the carrier's place
codes and trailers by their plates; times are ``YYYY-MM-DD HH:MM`` in Asia/Shanghai local time (also
with ``/`` and seconds) or RFC 3339 with an offset. The file is UTF-8 (with or without a byte-order
mark) or GB18030, as Excel saves a CSV on a Chinese Windows; at most 1 MB and 2,000 data rows.

``docs/samples/moves.csv`` is a sample for the demo carrier (佛山顺通甩挂运输有限公司): its place
codes and trailer plates are those the demo seed stores (``dispatch.demo_day``).

Every row is checked as ``create_move`` checks a move (the same schema and rules, and
``create_move`` itself for the references); errors are reported per row and column, with rows
numbered as a spreadsheet shows them (the header is row 1). If any row has an error no move is
created, so the user fixes the file and uploads it again without making duplicates.

``moves_from_waybills`` (from ``dispatch.waybill_moves``) is re-exported here for the pages.
"""

from __future__ import annotations

import csv
import io
import re
import typing
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.schemas import Principal
from core.errors import DomainError
from core.identifiers import validate_vehicle_plate
from dispatch.models import DispatchMove, DispatchPlace, DispatchTrailer
from dispatch.schemas import MoveCreate, MoveRead
from dispatch.service import create_move
from dispatch.solver.problem import MoveKind, TrailerType
from dispatch.waybill_moves import FromWaybills, SkippedLeg, moves_from_waybills

__all__ = (
    "COLUMN_ALIASES",
    "KIND_ALIASES",
    "MAX_BYTES",
    "MAX_ROWS",
    "TRAILER_TYPE_ALIASES",
    "FromWaybills",
    "MoveImport",
    "RowError",
    "SkippedLeg",
    "import_moves",
    "moves_from_waybills",
    "sample_csv",
)

MAX_BYTES = 1024 * 1024
"""Largest file accepted (1 MB)."""
MAX_ROWS = 2000
"""Most data rows accepted."""
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
HEADER_ROW = 1

COLUMNS = (
    "kind",
    "trailer",
    "trailer_type",
    "origin",
    "destination",
    "ready_at",
    "deliver_by",
    "cutoff",
    "loading_minutes",
    "hazmat",
    "waybill_number",
    "leg_index",
)
"""The file's columns, by their English names."""
REQUIRED_COLUMNS = ("kind", "destination")

COLUMN_ALIASES: dict[str, str] = {
    "类型": "kind",
    "移动类型": "kind",
    "挂车": "trailer",
    "挂车号牌": "trailer",
    "挂车类型": "trailer_type",
    "起点": "origin",
    "终点": "destination",
    "可提时间": "ready_at",
    "送达时间": "deliver_by",
    "截止时间": "cutoff",
    "装卸分钟": "loading_minutes",
    "危险品": "hazmat",
    "运单号": "waybill_number",
    "运单段": "leg_index",
}
"""Chinese header names and the column each stands for."""

KIND_ALIASES: dict[str, MoveKind] = {"运送": MoveKind.HAUL, "送空挂": MoveKind.POSITION, "取重挂": MoveKind.COLLECT}
"""Chinese words accepted in the ``kind`` column besides ``haul``, ``position``, ``collect``."""

TRAILER_TYPE_ALIASES: dict[str, TrailerType] = {
    "厢式": TrailerType.BOX,
    "侧帘": TrailerType.CURTAIN,
    "冷藏": TrailerType.REEFER,
    "罐式": TrailerType.TANK,
    "平板": TrailerType.FLATBED,
    "集装箱骨架": TrailerType.CONTAINER_CHASSIS,
}
"""Chinese words accepted in the ``trailer_type`` column besides the English type names."""

_FIELD_OF_COLUMN = {"trailer": "trailer_id", "origin": "origin_id", "destination": "destination_id"}
_COLUMN_OF_FIELD = {field: column for column, field in _FIELD_OF_COLUMN.items()}
_FIELD_TYPES = typing.get_type_hints(MoveCreate, include_extras=True)
_TRUE = frozenset({"true", "yes", "y", "1", "是", "有", "√"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "无", ""})
_TIME = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


class RowError(msgspec.Struct, kw_only=True, frozen=True):
    """One problem in the file: the spreadsheet row (header = 1), the column if one is at fault, what is wrong."""

    row: int
    column: str | None
    message: str


class MoveImport(msgspec.Struct, kw_only=True, frozen=True):
    """What an import did: the moves created (none if there are errors) and every error found."""

    created: list[MoveRead]
    errors: list[RowError]


class _CellError(Exception):
    """A cell's value cannot be used; the message says why."""


class _Fleet(msgspec.Struct, kw_only=True, frozen=True):
    """The carrier's place ids by code and trailer ids by plate."""

    places: dict[str, int]
    trailers: dict[str, int]


async def import_moves(session: AsyncSession, *, principal: Principal, data: bytes) -> MoveImport:
    """Create the moves of a CSV file for the principal's carrier, or none and every error found.

    Does not commit: the caller owns the transaction (and commits when ``errors`` is empty).
    """
    try:
        header, rows = _read_table(data)
        columns = _columns(header)
    except _FileError as exc:
        return MoveImport(created=[], errors=[RowError(row=HEADER_ROW, column=None, message=str(exc))])
    except _HeaderError as exc:
        return MoveImport(created=[], errors=exc.problems)
    fleet = await _load_fleet(session, principal.organisation_id)
    errors: list[RowError] = []
    drafts: list[tuple[int, MoveCreate]] = []
    for row_number, cells in rows:
        if any(cell.strip() for cell in cells[len(columns) :]):
            errors.append(RowError(row=row_number, column=None, message="the row has more cells than the header"))
        draft = _draft(row_number, dict(zip(columns, cells, strict=False)), fleet, errors)
        if draft is not None:
            drafts.append((row_number, draft))
    created = await _create_all(session, principal, drafts, errors)
    if errors:
        await _undo(session, created)
        return MoveImport(created=[], errors=sorted(errors, key=lambda error: error.row))
    return MoveImport(created=created, errors=[])


# --- the file -------------------------------------------------------------------------------------


class _FileError(Exception):
    """The file as a whole cannot be read; reported on the header row."""


def _decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped), else GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _FileError("the file is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8)") from None


def _read_table(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data rows with their spreadsheet row numbers."""
    if len(data) > MAX_BYTES:
        raise _FileError(f"the file is larger than {MAX_BYTES // 1024 // 1024} MB; split it")
    try:
        records = list(csv.reader(io.StringIO(_decode(data), newline="")))
    except csv.Error as exc:
        raise _FileError(f"the file is not valid CSV: {exc}") from None
    numbered = [(number, cells) for number, cells in enumerate(records, start=1) if any(c.strip() for c in cells)]
    if not numbered or numbered[0][0] != HEADER_ROW:
        raise _FileError("the file is empty or its first row is blank; the first row names the columns")
    (_, header), rows = numbered[0], numbered[1:]
    if not rows:
        raise _FileError("the file has a header but no moves")
    if len(rows) > MAX_ROWS:
        raise _FileError(f"the file has {len(rows)} moves; at most {MAX_ROWS} are imported at once")
    return header, rows


def _columns(header: list[str]) -> list[str]:
    """The column each header cell names; unknown, repeated or missing required columns are errors."""
    columns: list[str] = []
    problems: list[RowError] = []
    for cell in header:
        name = cell.strip()
        column = COLUMN_ALIASES.get(name, name.lower().replace(" ", "_"))
        if column not in COLUMNS:
            message = f"unknown column {name!r}; the columns are {', '.join(COLUMNS)}"
            problems.append(RowError(row=HEADER_ROW, column=name, message=message))
        elif column in columns:
            problems.append(RowError(row=HEADER_ROW, column=column, message=f"column {column} appears twice"))
        columns.append(column)
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            message = f"the required column {column} is missing"
            problems.append(RowError(row=HEADER_ROW, column=column, message=message))
    if problems:
        raise _HeaderError(problems)
    return columns


class _HeaderError(Exception):
    """The header names unknown, repeated or too few columns."""

    def __init__(self, problems: list[RowError]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


async def _load_fleet(session: AsyncSession, carrier_id: uuid.UUID) -> _Fleet:
    places = await session.execute(
        sa.select(col(DispatchPlace.code), col(DispatchPlace.id)).where(col(DispatchPlace.carrier_id) == carrier_id)
    )
    trailers = await session.execute(
        sa.select(col(DispatchTrailer.plate), col(DispatchTrailer.id)).where(
            col(DispatchTrailer.carrier_id) == carrier_id
        )
    )
    return _Fleet(
        places={code: place_id for code, place_id in places.all() if place_id is not None},
        trailers={plate: trailer_id for plate, trailer_id in trailers.all() if trailer_id is not None},
    )


# --- one row --------------------------------------------------------------------------------------


def _draft(row: int, cells: dict[str, str], fleet: _Fleet, errors: list[RowError]) -> MoveCreate | None:
    """The row as a ``MoveCreate``, or ``None`` with its errors added to ``errors``."""
    values: dict[str, Any] = {}
    bad_columns: set[str] = set()
    for column, text in cells.items():
        try:
            value = _cell_value(column, text.strip(), fleet)
        except _CellError as exc:
            errors.append(RowError(row=row, column=column, message=str(exc)))
            bad_columns.add(column)
            continue
        if value is not None:
            values[_FIELD_OF_COLUMN.get(column, column)] = value
    for column in REQUIRED_COLUMNS:
        if column not in bad_columns and _FIELD_OF_COLUMN.get(column, column) not in values:
            errors.append(RowError(row=row, column=column, message="required"))
            bad_columns.add(column)
    if bad_columns:
        _add_rule_error(row, values, bad_columns, errors)
        return None
    try:
        return msgspec.convert(values, MoveCreate)
    except msgspec.ValidationError as exc:
        errors.append(_rule_error(row, str(exc)))
        return None


def _add_rule_error(row: int, values: dict[str, Any], bad_columns: set[str], errors: list[RowError]) -> None:
    """The move rules' complaint about the row's good cells, unless it concerns a cell already reported."""
    if "kind" in bad_columns or "destination" in bad_columns:
        return
    try:
        msgspec.convert(values, MoveCreate)
    except msgspec.ValidationError as exc:
        error = _rule_error(row, str(exc))
        if error.column not in bad_columns:
            errors.append(error)


def _rule_error(row: int, message: str) -> RowError:
    """A ``check_move`` message (``"field: text"``) as an error on the field's column."""
    field, _, text = message.partition(": ")
    field = field.split("`$.")[-1].rstrip("`")
    column = _COLUMN_OF_FIELD.get(field, field)
    if text and column in COLUMNS:
        return RowError(row=row, column=column, message=text)
    return RowError(row=row, column=None, message=message)


def _cell_value(column: str, text: str, fleet: _Fleet) -> Any:
    """The value a cell gives its field (``None`` when blank), checked against the field's schema type."""
    if not text:
        return None
    value = _PARSERS[column](text, fleet)
    field = _FIELD_OF_COLUMN.get(column, column)
    try:
        return msgspec.convert(value, _FIELD_TYPES[field])
    except msgspec.ValidationError as exc:
        raise _CellError(str(exc).removesuffix(" - at `$`")) from None


def _kind(text: str, _fleet: _Fleet) -> str:
    return KIND_ALIASES.get(text, text.lower())


def _trailer_type(text: str, _fleet: _Fleet) -> str:
    return TRAILER_TYPE_ALIASES.get(text, text.lower())


def _trailer(text: str, fleet: _Fleet) -> int:
    try:
        plate = validate_vehicle_plate(text, trailer=True)
    except ValueError as exc:
        raise _CellError(str(exc)) from None
    if plate not in fleet.trailers:
        raise _CellError(f"the carrier has no trailer {plate}")
    return fleet.trailers[plate]


def _place(text: str, fleet: _Fleet) -> int:
    if text in fleet.places:
        return fleet.places[text]
    folded = {code.casefold(): place_id for code, place_id in fleet.places.items()}
    if text.casefold() in folded:
        return folded[text.casefold()]
    raise _CellError(f"the carrier has no place with code {text}")


def _time(text: str, _fleet: _Fleet) -> datetime:
    """``YYYY-MM-DD HH:MM[:SS]`` (``/`` too) in local time, or with ``Z`` or an offset."""
    match = _TIME.match(text)
    if match is None:
        raise _CellError("not a time; write YYYY-MM-DD HH:MM (Beijing time) or RFC 3339 with an offset")
    year, month, day, hour, minute, second, offset = match.groups()
    iso = f"{year}-{int(month):02d}-{int(day):02d}T{int(hour):02d}:{minute}:{second or '00'}"
    if offset:
        iso += "+00:00" if offset.upper() == "Z" else offset
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise _CellError(f"no such date or time: {text}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TIME)


def _number(text: str, _fleet: _Fleet) -> float:
    try:
        return float(text)
    except ValueError:
        raise _CellError(f"not a number: {text}") from None


def _whole_number(text: str, _fleet: _Fleet) -> int:
    number = _number(text, _fleet)
    if not number.is_integer():
        raise _CellError(f"not a whole number: {text}")
    return int(number)


def _yes_no(text: str, _fleet: _Fleet) -> bool:
    folded = text.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise _CellError("write yes or no (是 or 否)")


def _waybill_number(text: str, _fleet: _Fleet) -> str:
    return text.upper()


_PARSERS: dict[str, Callable[[str, _Fleet], Any]] = {
    "kind": _kind,
    "trailer": _trailer,
    "trailer_type": _trailer_type,
    "origin": _place,
    "destination": _place,
    "ready_at": _time,
    "deliver_by": _time,
    "cutoff": _time,
    "loading_minutes": _number,
    "hazmat": _yes_no,
    "waybill_number": _waybill_number,
    "leg_index": _whole_number,
}


# --- creating -------------------------------------------------------------------------------------


async def _create_all(
    session: AsyncSession, principal: Principal, drafts: list[tuple[int, MoveCreate]], errors: list[RowError]
) -> list[MoveRead]:
    """Create each draft with ``create_move``; a rule it breaks becomes the row's error."""
    created: list[MoveRead] = []
    for row, draft in drafts:
        try:
            created.append(await create_move(session, principal=principal, data=draft))
        except DomainError as exc:
            column = _COLUMN_OF_FIELD.get(exc.field or "", exc.field)
            errors.append(RowError(row=row, column=column if column in COLUMNS else None, message=exc.detail))
    return created


async def _undo(session: AsyncSession, created: list[MoveRead]) -> None:
    """Remove the moves made before an error turned up (all or nothing)."""
    for read in created:
        move = await session.get(DispatchMove, read.id)
        if move is not None:
            await session.delete(move)
    await session.flush()


def sample_csv(destinations: Sequence[str], day: date) -> str:
    """A small file to start from: empty trailers of three types to the given place codes on ``day``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for hour, (code, trailer_type) in enumerate(zip(destinations, ("box", "reefer", "curtain"), strict=False)):
        writer.writerow(
            ["position", "", trailer_type, "", code, f"{day} {7 + hour:02d}:00", f"{day} {10 + hour:02d}:30"]
            + [""] * (len(COLUMNS) - 7)
        )
    return out.getvalue()
