"""The carrier's dispatch app: the fleet board, the moves board (by hand, from CSV, from waybills) and the
live token the boards poll. Plans are in :mod:`api.pages.planning`, run sheets in :mod:`api.pages.runs`.

Every page is scoped to the signed-in user's carrier: objects of another carrier are not found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, QueryParameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.schemas import OrganisationRole
from accounts.users import PageUser
from api.deps import DbSession
from api.pages.auth import SignedIn, page_exception_handlers, principal_of, require_role
from api.pages.rendering import page_language, render_page
from core.db import utcnow
from dispatch.board import board_version, fleet_board, moves_board
from dispatch.models import DispatchPlace, DispatchTrailer
from dispatch.move_import import MAX_BYTES, import_moves, sample_csv
from dispatch.schemas import MoveCreate, MoveStatus
from dispatch.service import create_move
from dispatch.solver.problem import MoveKind, TrailerType
from dispatch.waybill_moves import moves_from_waybills
from waybill.document import DISPLAY_ZONE, N_, translations_for

__all__ = ("CarrierController", "carrier_of", "local_input_time")

StatusFilter = Annotated[str, QueryParameter(name="status", max_length=20)]
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=10_000)]


def carrier_of(user: PageUser) -> Any:
    """The carrier organisation's id of a signed-in carrier user (others get the 403 page)."""
    require_role(user, OrganisationRole.CARRIER)
    return principal_of(user).organisation_id


def local_input_time(value: str, field: str) -> datetime | None:
    """A ``datetime-local`` form value (Beijing time) as an aware datetime; empty is None, garbage a 400."""
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=DISPLAY_ZONE)
    except ValueError:
        raise ValidationException(detail=f"{field}: not a date and time") from None


class MoveForm(msgspec.Struct, kw_only=True):
    """The "new move" form: ids from the selects, times in Beijing time."""

    kind: str = ""
    origin_id: str = ""
    destination_id: str = ""
    trailer_id: str = ""
    trailer_type: str = ""
    ready_at: str = ""
    deliver_by: str = ""
    cutoff: str = ""
    loading_minutes: str = ""
    hazmat: str = ""
    waybill_number: str = ""
    leg_index: str = ""


_IMPORT_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"^required$", N_("required")),
        (r"^the carrier has no place with code (?P<value>.+)$", N_("we have no place with code %(value)s")),
        (r"^the carrier has no trailer (?P<value>.+)$", N_("we have no trailer %(value)s")),
        (r"^not a time; ", N_("not a time: write YYYY-MM-DD HH:MM (Beijing time) or RFC 3339 with an offset")),
        (r"^no such date or time: (?P<value>.+)$", N_("no such date or time: %(value)s")),
        (r"^not a number: (?P<value>.+)$", N_("not a number: %(value)s")),
        (r"^not a whole number: (?P<value>.+)$", N_("not a whole number: %(value)s")),
        (r"^write yes or no", N_("write yes or no (是 or 否)")),
        (r"^not a mainland licence plate", N_("not a mainland licence plate (e.g. 粤B12345, trailer 粤B1234挂)")),
        (r"^a trailer plate ends in 挂", N_("a trailer plate ends in 挂 (e.g. 粤E5678挂)")),
        (r"^the row has more cells than the header$", N_("the row has more cells than the header")),
        (r"^unknown column (?P<value>.+?);", N_("unknown column %(value)s")),
        (r"^column (?P<value>\S+) appears twice$", N_("column %(value)s appears twice")),
        (r"^the required column (?P<value>\S+) is missing$", N_("the required column %(value)s is missing")),
        (r"^the file is neither UTF-8 nor GB18030", N_("the file is neither UTF-8 nor GB18030 text: save it as CSV")),
        (r"^the file is larger than", N_("the file is too large: split it")),
        (r"^the file is empty", N_("the file is empty or its first row is blank: the first row names the columns")),
        (r"^the file has a header but no moves$", N_("the file has a header but no moves")),
        (r"^the file has (?P<value>\d+) moves; ", N_("the file has %(value)s moves: split it into files of 2,000")),
    )
)


def import_message(message: str, gettext: Callable[[str], str]) -> str:
    """An import error in the page's language when it is one of the known ones, else as the import wrote it."""
    for pattern, msgid in _IMPORT_MESSAGES:
        match = pattern.search(message)
        if match is not None:
            return gettext(msgid) % match.groupdict()
    return message


def _move_create(form: MoveForm) -> MoveCreate:
    raw = {
        "kind": form.kind,
        "origin_id": int(form.origin_id) if form.origin_id.strip().isdigit() else None,
        "destination_id": int(form.destination_id) if form.destination_id.strip().isdigit() else None,
        "trailer_id": int(form.trailer_id) if form.trailer_id.strip().isdigit() else None,
        "trailer_type": form.trailer_type or None,
        "ready_at": local_input_time(form.ready_at, "ready_at"),
        "deliver_by": local_input_time(form.deliver_by, "deliver_by"),
        "cutoff": local_input_time(form.cutoff, "cutoff"),
        "loading_minutes": float(form.loading_minutes) if form.loading_minutes.strip() else 0,
        "hazmat": form.hazmat in {"on", "true", "1"},
        "waybill_number": form.waybill_number.strip() or None,
        "leg_index": int(form.leg_index) if form.leg_index.strip().isdigit() else None,
    }
    try:
        return msgspec.convert(raw, MoveCreate)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ValidationException(detail=str(exc)) from None


async def _choices(session: AsyncSession, carrier_id: Any) -> dict[str, Any]:
    places = await session.scalars(
        sa.select(DispatchPlace).where(col(DispatchPlace.carrier_id) == carrier_id).order_by(col(DispatchPlace.code))
    )
    trailers = await session.scalars(
        sa.select(DispatchTrailer)
        .where(col(DispatchTrailer.carrier_id) == carrier_id)
        .order_by(col(DispatchTrailer.plate))
    )
    return {
        "places": list(places),
        "trailers": list(trailers),
        "kinds": [k.value for k in MoveKind],
        "trailer_types": [t.value for t in TrailerType],
    }


def _moves_url(status: str, **extra: Any) -> str:
    return "/carrier/moves?" + urlencode({"status": status, **extra})


class CarrierController(Controller):
    """The dispatcher's boards: fleet and moves, with moves made by hand, from CSV or from waybills."""

    path = "/carrier"
    include_in_schema = False
    exception_handlers = page_exception_handlers  # type: ignore[assignment]

    @get("/")
    async def fleet(self, request: Request[Any, Any, Any], db_session: DbSession, page_user: SignedIn) -> Response[str]:
        """Tractors, crews and trailers with their place and state, and the yard inventory."""
        carrier_id = carrier_of(page_user)
        board = await fleet_board(db_session, carrier_id=carrier_id, now=utcnow())
        return render_page(
            request,
            "carrier/fleet.html",
            user=page_user,
            board=board,
            version=await board_version(db_session, carrier_id=carrier_id),
        )

    @get("/moves")
    async def moves(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        status: StatusFilter = "open",
        page: PageNumber = 1,
        imported: Annotated[int | None, QueryParameter(name="imported", required=False, ge=0, le=100_000)] = None,
        added: Annotated[int | None, QueryParameter(name="added", required=False, ge=1, le=2**62)] = None,
    ) -> Response[str]:
        """The moves in one status (open, planned, in progress, done), and the forms that add moves."""
        carrier_id = carrier_of(page_user)
        try:
            wanted = MoveStatus(status)
        except ValueError:
            raise ValidationException(detail="invalid filter status") from None
        board = await moves_board(db_session, carrier_id=carrier_id, status=wanted, page=page)
        return render_page(
            request,
            "carrier/moves.html",
            user=page_user,
            board=board,
            statuses=[s.value for s in MoveStatus],
            moves_url=_moves_url,
            version=await board_version(db_session, carrier_id=carrier_id),
            max_upload_kb=MAX_BYTES // 1024,
            imported=imported,
            added=added,
            **await _choices(db_session, carrier_id),
        )

    @post("/moves", status_code=303)
    async def add_move(
        self,
        db_session: DbSession,
        page_user: SignedIn,
        data: Annotated[MoveForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Add one move by hand."""
        carrier_of(page_user)
        move = await create_move(db_session, principal=principal_of(page_user), data=_move_create(data))
        await db_session.commit()
        return Redirect(_moves_url(move.status, added=move.id), status_code=303)

    @post("/moves/import", status_code=200)
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        """Import moves from a CSV file: all rows or none, with every row's errors listed."""
        carrier_of(page_user)
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationException(detail="file: choose a CSV file")
        content = await upload.read(MAX_BYTES + 1)
        result = await import_moves(db_session, principal=principal_of(page_user), data=content)
        if result.errors:
            await db_session.rollback()
            return render_page(
                request,
                "carrier/import_errors.html",
                status_code=422,
                user=page_user,
                errors=result.errors,
                filename=upload.filename,
                message=lambda text: import_message(text, translations_for(page_language(request)).gettext),
            )
        await db_session.commit()
        return Redirect(_moves_url("open", imported=len(result.created)), status_code=303)

    @post("/moves/from-waybills", status_code=303)
    async def from_waybills(self, request: Request[Any, Any, Any], db_session: DbSession, page_user: SignedIn) -> Any:
        """Turn the carrier's waybill road legs that have no move yet into moves."""
        carrier_of(page_user)
        result = await moves_from_waybills(db_session, principal=principal_of(page_user))
        await db_session.commit()
        return render_page(request, "carrier/from_waybills.html", user=page_user, result=result)

    @get("/moves/sample.csv")
    async def sample(self, db_session: DbSession, page_user: SignedIn) -> Response[bytes]:
        """A CSV of three moves to the carrier's own places, tomorrow: a file to start from."""
        carrier_id = carrier_of(page_user)
        codes = await db_session.scalars(
            sa.select(col(DispatchPlace.code))
            .where(col(DispatchPlace.carrier_id) == carrier_id, col(DispatchPlace.kind) == "shipper")
            .order_by(col(DispatchPlace.code))
            .limit(3)
        )
        tomorrow = (utcnow().astimezone(DISPLAY_ZONE) + timedelta(days=1)).date()
        return Response(
            sample_csv(list(codes), tomorrow).encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="moves-sample.csv"'},
        )

    @get("/live")
    async def live(self, db_session: DbSession, page_user: SignedIn) -> dict[str, str]:
        """The boards' version token: the page reloads its live parts when it changes."""
        return {"version": await board_version(db_session, carrier_id=carrier_of(page_user))}
