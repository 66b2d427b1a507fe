"""The regulator's monitoring pages: active dangerous-goods shipments on a map and in a table, the alert
feed with acknowledgement, a page per shipment, and CSV export of the current view.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect, Stream
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.schemas import OrganisationRole
from accounts.users import PageUser
from api.deps import DbSession
from api.pages.auth import SignedIn, page_exception_handlers, principal_of, require_role
from api.pages.geo import GUANGDONG_CITIES, Marker, Route, city_for_division, render_map
from api.pages.rendering import local_time, page_language, render_page
from core.db import utcnow
from core.errors import NotFoundError
from dangerous_goods.assessment import Assessment
from dangerous_goods.service import normalise_un_number
from monitoring import service as alerts
from monitoring.models import AlertStatus
from monitoring.shipments import (
    ShipmentFilters,
    ShipmentRow,
    active_carriers,
    list_active_shipments,
    shipment_markers,
)
from tracking.latest import latest_positions, track_of
from waybill.document import (
    EVENT_TYPE_NAMES,
    LEG_STATUS_NAMES,
    N_,
    TRANSPORT_MODE_NAMES,
    WAYBILL_STATUS_NAMES,
    Language,
    translations_for,
)
from waybill.events import list_events
from waybill.rules.dangerous_goods import assess_cargo
from waybill.schemas import TransportMode, WaybillRead, WaybillStatus
from waybill.service import get_waybill

__all__ = ("RegulatorController",)

PAGE_SIZE = 50
MIN_FRAME_DEG = 1.2
"""The overview map shows at least this many degrees around the vehicles (the Pearl River Delta is about 1.5)."""
TRACK_LEAD = timedelta(minutes=30)
"""The shipment's track starts this long before the waybill's issue (the drive to the loading place)."""
ACCESS_REASON = "dangerous-goods monitoring (危险货物运输监管)"
_HAZARD_CLASS = re.compile(r"^[1-9](\.[1-6])?$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_CITY = re.compile(r"^44\d{2}00$")
_ALERT_STATES = ("open", "acknowledged", "none")
_FEED_SIZE = 30

ClassFilter = Annotated[str | None, QueryParameter(name="class", required=False, max_length=10)]
UnFilter = Annotated[str | None, QueryParameter(name="un", required=False, max_length=10)]
CarrierFilter = Annotated[str | None, QueryParameter(name="carrier", required=False, max_length=18)]
CityFilter = Annotated[str | None, QueryParameter(name="city", required=False, max_length=6)]
WaybillNumber = Annotated[str, PathParameter(max_length=40)]
AlertsFilter = Annotated[str | None, QueryParameter(name="alerts", required=False, max_length=20)]


def _bad_filter(name: str) -> ValidationException:
    return ValidationException(detail=f"invalid filter {name}")


def provide_filters(
    hazard_class: ClassFilter = None,
    un_number: UnFilter = None,
    carrier: CarrierFilter = None,
    city: CityFilter = None,
    alerts_state: AlertsFilter = None,
) -> ShipmentFilters:
    """The filters of the query string; empty values mean any, malformed ones are a 400."""
    hazard_class, carrier, city, alerts_state = (
        (v or "").strip() or None for v in (hazard_class, carrier, city, alerts_state)
    )
    un = (un_number or "").strip() or None
    if hazard_class is not None and not _HAZARD_CLASS.match(hazard_class):
        raise _bad_filter("class")
    if un is not None:
        try:
            un = normalise_un_number(un)
        except ValueError:
            raise _bad_filter("un") from None
    if carrier is not None and not _USCC.match(carrier):
        raise _bad_filter("carrier")
    if city is not None and not _CITY.match(city):
        raise _bad_filter("city")
    if alerts_state is not None and alerts_state not in _ALERT_STATES:
        raise _bad_filter("alerts")
    return ShipmentFilters(
        hazard_class=hazard_class,
        un_number=un,
        carrier_uscc=carrier,
        city=city,
        alert_state=alerts_state,  # type: ignore[arg-type]
    )


def _query_of(filters: ShipmentFilters, **extra: object) -> str:
    pairs = {
        "class": filters.hazard_class,
        "un": filters.un_number,
        "carrier": filters.carrier_uscc,
        "city": filters.city,
        "alerts": filters.alert_state,
        **extra,
    }
    return urlencode({k: v for k, v in pairs.items() if v not in (None, "")})


def _city_name(code: str, language: Language) -> str:
    city = city_for_division(code)
    return code if city is None else city.name(language)


def _markers(request: Request[Any, Any, Any], items: list[Any]) -> list[Marker]:
    return [
        Marker(
            lat=m.position.latitude,
            lon=m.position.longitude,
            label=f"{m.plate} · {m.number}",
            css_class=f"marker {m.alert_state}",
            href=f"/regulator/shipments/{m.number}",
        )
        for m in items
    ]


def _planned_route(waybill: WaybillRead) -> list[tuple[float, float]]:
    """The whole journey's planned line: each leg's stored route, else its straight line, loading to unloading."""
    document = waybill.document
    points = [(document.pickup.latitude, document.pickup.longitude)]
    for leg in waybill.legs:
        ends = [(leg.from_place.latitude, leg.from_place.longitude), (leg.to_place.latitude, leg.to_place.longitude)]
        points.extend(leg.planned_route or ends)
    points.append((document.delivery.latitude, document.delivery.longitude))
    return [point for index, point in enumerate(points) if index == 0 or point != points[index - 1]]


Filters = NamedDependency[ShipmentFilters]
"""The list's filters from the query string (``filters``)."""


def _frame(markers: list[Any]) -> tuple[float, float, float, float] | None:
    """The part of Guangdong that holds the vehicles shown, at least ``MIN_FRAME_DEG`` across; all of it if none."""
    if not markers:
        return None
    latitudes = [m.position.latitude for m in markers]
    longitudes = [m.position.longitude for m in markers]
    mid_lat, mid_lon = (min(latitudes) + max(latitudes)) / 2, (min(longitudes) + max(longitudes)) / 2
    half_lat = max(max(latitudes) - min(latitudes), MIN_FRAME_DEG) / 2
    half_lon = max(max(longitudes) - min(longitudes), MIN_FRAME_DEG) / 2
    return (mid_lat - half_lat, mid_lon - half_lon, mid_lat + half_lat, mid_lon + half_lon)


class RegulatorController(Controller):
    """Pages of a transport authority watching dangerous-goods road transport."""

    path = "/regulator"
    include_in_schema = False
    dependencies = {"filters": Provide(provide_filters, sync_to_thread=False)}
    exception_handlers = page_exception_handlers  # type: ignore[assignment]

    @get("/")
    async def overview(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        filters: Filters,
        page: Annotated[int, QueryParameter(name="page", ge=1, le=100_000)] = 1,
    ) -> Response[str]:
        """The map, the filtered table of active shipments and the alert feed."""
        require_role(page_user, OrganisationRole.REGULATOR, OrganisationRole.ADMIN)
        now = utcnow()
        listing = await list_active_shipments(
            db_session, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, now=now
        )
        markers = await shipment_markers(db_session, filters=filters, now=now)
        language = page_language(request)
        feed = await _alert_feed(db_session, page_user)
        pages = max(1, -(-listing.total // PAGE_SIZE))
        return render_page(
            request,
            "regulator/overview.html",
            user=page_user,
            filters=filters,
            listing=listing,
            page=page,
            pages=pages,
            query=_query_of(filters),
            page_query=lambda n: _query_of(filters, page=n),
            carriers=await active_carriers(db_session),
            cities=[(c.code, c.name(language)) for c in GUANGDONG_CITIES],
            city_name=lambda code: _city_name(code, language),
            map_svg=render_map(
                markers=_markers(request, markers),
                language=language,
                focus=_frame(markers),
                title=translations_for(language).gettext("Map of Guangdong Province"),
            ),
            marker_count=len(markers),
            feed=feed,
        )

    @get("/shipments.csv")
    async def export_csv(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        filters: Filters,
    ) -> Stream:
        """Every shipment of the current view as CSV (UTF-8 with BOM, so that spreadsheets read the Chinese)."""
        require_role(page_user, OrganisationRole.REGULATOR, OrganisationRole.ADMIN)
        listing = await list_active_shipments(db_session, filters=filters, limit=0, now=utcnow())
        language = page_language(request)
        stamp = utcnow().strftime("%Y%m%dT%H%MZ")
        return Stream(
            _csv_lines(listing.rows, language),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="dangerous-goods-shipments-{stamp}.csv"',
                "Cache-Control": "private, no-store",
            },
        )

    @get("/alerts")
    async def alert_feed(
        self, request: Request[Any, Any, Any], db_session: DbSession, page_user: SignedIn
    ) -> Response[str]:
        """The alert feed alone, which the overview polls."""
        require_role(page_user, OrganisationRole.REGULATOR, OrganisationRole.ADMIN)
        return render_page(
            request,
            "regulator/_feed.html",
            feed=await _alert_feed(db_session, page_user),
            next_path=request.url.path,
        )

    @post("/alerts/{alert_id:int}/acknowledge", status_code=303)
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        alert_id: Annotated[int, PathParameter(ge=1, le=2**62)],
        data: Annotated[AcknowledgeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """Acknowledge an open alert with an optional note, then go back."""
        require_role(page_user, OrganisationRole.REGULATOR, OrganisationRole.ADMIN)
        note = data.note.strip()[:500] or None
        await alerts.acknowledge(db_session, alert_id, principal_of(page_user), note)
        await db_session.commit()
        if request.headers.get("x-requested-with") == "fetch":
            return render_page(request, "regulator/_feed.html", feed=await _alert_feed(db_session, page_user))
        target = data.next if data.next.startswith("/regulator") and not data.next.startswith("//") else "/regulator"
        return Redirect(target, status_code=303)

    @get("/shipments/{number:str}")
    async def shipment(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        number: Annotated[str, PathParameter(max_length=40)],
    ) -> Response[str]:
        """One shipment: goods with hazard data, parties, crew, planned route against the track, timeline."""
        require_role(page_user, OrganisationRole.REGULATOR, OrganisationRole.ADMIN)
        principal = principal_of(page_user)
        waybill = await get_waybill(
            db_session, principal=principal, number=number[:20], access_reason=ACCESS_REASON, request=request.url.path
        )
        events = await list_events(
            db_session,
            principal=principal,
            number=waybill.number,
            access_reason=ACCESS_REASON,
            request=request.url.path,
        )
        assessment = assess_cargo(waybill.document.cargo)
        if not isinstance(assessment, Assessment):
            raise NotFoundError(f"waybill {waybill.number} carries no dangerous goods")
        road_legs = [leg for leg in waybill.legs if leg.mode is TransportMode.ROAD]
        now = utcnow()
        plate = next((leg.equipment.vehicle_plate for leg in road_legs if leg.equipment.vehicle_plate), None)
        # The track starts with the drive to the loading place, a little before issue or the leg's start.
        since = (
            min(
                [t for t in [waybill.issued_at, *(leg.started_at for leg in road_legs)] if t is not None],
                default=now - TRACK_LEAD,
            )
            - TRACK_LEAD
        )
        track = await track_of(db_session, plate=plate, since=since, until=now) if plate else []
        position = (await latest_positions(db_session, plates=[plate], since=since)).get(plate) if plate else None
        planned = _planned_route(waybill)
        shipment_alerts = await alerts.list_alerts(db_session, principal, waybill_number=waybill.number, limit=100)
        language = page_language(request)
        _ = translations_for(language).gettext
        markers = [
            Marker(lat=lat, lon=lon, label=label, css_class=f"marker place {kind}")
            for (lat, lon), label, kind in (
                (
                    (waybill.document.pickup.latitude, waybill.document.pickup.longitude),
                    waybill.document.pickup.name,
                    "from",
                ),
                (
                    (waybill.document.delivery.latitude, waybill.document.delivery.longitude),
                    waybill.document.delivery.name,
                    "to",
                ),
            )
        ]
        if position is not None:
            markers.append(
                Marker(
                    lat=position.latitude,
                    lon=position.longitude,
                    label=plate or "",
                    css_class="marker vehicle "
                    + ("open" if any(a.status is AlertStatus.OPEN for a in shipment_alerts.items) else "none"),
                )
            )
        routes = [Route(points=planned, css_class="route planned", dashed=True, label=_("Planned route"))]
        if len(track) > 1:
            routes.append(Route(points=track, css_class="route track", label=_("Actual track")))
        points = planned + track
        focus = (
            min(p[0] for p in points),
            min(p[1] for p in points),
            max(p[0] for p in points),
            max(p[1] for p in points),
        )
        await db_session.commit()  # the access log of this read
        return render_page(
            request,
            "regulator/shipment.html",
            user=page_user,
            waybill=waybill,
            assessment=assessment,
            events=events,
            plate=plate,
            position=position,
            alerts=shipment_alerts.items,
            map_svg=render_map(
                markers=markers,
                routes=routes,
                language=language,
                focus=focus,
                width=900,
                height=560,
                title=_("Planned route and actual track"),
            ),
            city_name=lambda code: _city_name(code, language),
            track_points=len(track),
            next_path=request.url.path,
            names=_NAMES,
        )


_NAMES = {
    "status": WAYBILL_STATUS_NAMES,
    "modes": TRANSPORT_MODE_NAMES,
    "legs": LEG_STATUS_NAMES,
    "events": EVENT_TYPE_NAMES,
}


class AcknowledgeForm(msgspec.Struct, kw_only=True, frozen=True):
    """Acknowledging an alert from the feed."""

    note: str = ""
    next: str = "/regulator"


async def _alert_feed(session: AsyncSession, user: PageUser) -> list[Any]:
    """The newest open and acknowledged alerts, open ones first."""
    principal = principal_of(user)
    open_page = await alerts.list_alerts(
        session, principal, status=AlertStatus.OPEN, limit=_FEED_SIZE, newest_first=True
    )
    acknowledged = await alerts.list_alerts(
        session, principal, status=AlertStatus.ACKNOWLEDGED, limit=10, newest_first=True
    )
    return [*open_page.items, *acknowledged.items]


_CSV_HEADER = (
    N_("Waybill"),
    N_("Status"),
    N_("Dangerous goods"),
    N_("Classes"),
    N_("UN numbers"),
    N_("Tunnel code"),
    N_("Carrier"),
    N_("Vehicle"),
    N_("Driver"),
    N_("Escort"),
    N_("From"),
    N_("To"),
    N_("Open alerts"),
    N_("Acknowledged alerts"),
    N_("Last position (Beijing time)"),
    N_("Latitude"),
    N_("Longitude"),
    N_("Speed (km/h)"),
)


async def _csv_lines(rows: list[ShipmentRow], language: Language) -> AsyncIterator[bytes]:
    _ = translations_for(language).gettext
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_(title) for title in _CSV_HEADER])
    yield ("\ufeff" + buffer.getvalue()).encode()
    for start in range(0, len(rows), 500):
        buffer.seek(0)
        buffer.truncate()
        for row in rows[start : start + 500]:
            position = row.position
            writer.writerow(
                [
                    row.number,
                    _(WAYBILL_STATUS_NAMES[WaybillStatus(row.status)]),
                    row.goods,
                    " ".join(row.hazard_classes),
                    " ".join(row.un_numbers),
                    row.tunnel_code or "",
                    row.carrier_name or "",
                    row.vehicle_plate or "",
                    row.driver_name or "",
                    row.escort_name or "",
                    row.from_name,
                    row.to_name,
                    row.open_alerts,
                    row.acknowledged_alerts,
                    local_time(position.recorded_at, "%Y-%m-%d %H:%M:%S") if position else "",
                    f"{position.latitude:.6f}" if position else "",
                    f"{position.longitude:.6f}" if position else "",
                    f"{position.speed_kmh:.0f}" if position and position.speed_kmh is not None else "",
                ]
            )
        yield buffer.getvalue().encode()
