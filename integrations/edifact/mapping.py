"""Mapping of read EDIFACT messages to journey events (pure functions, no I/O).

Each supported message type has one mapper that turns its segment groups into ``_Facts``; a common
step resolves times (local EDIFACT times → UTC, by the place's UN/LOCODE), checks container numbers
and gives every event a stable ``external_ref``. Unknown codes give warnings, never exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec
from stdnum import iso6346

from integrations.edifact import codes
from integrations.edifact.codes import Direction
from integrations.edifact.reader import EdiInterchange, EdiMessage, EdiSegment, EdiWarning, read_interchange
from waybill.event_schemas import EventClassifier, EventType

__all__ = (
    "EdiEvent",
    "EdiParseResult",
    "MessageSummary",
    "map_interchange",
    "parse_events",
    "zone_for_locode",
)


class EdiEvent(msgspec.Struct, kw_only=True, frozen=True):
    """One journey event read from an EDIFACT message."""

    message_type: str
    message_ref: str
    interchange_ref: str | None
    sender: str | None
    event_type: EventType
    classifier: EventClassifier
    event_time: datetime | None
    """UTC; None when the message gives no time for the event."""
    time_zone: str | None
    """IANA zone the local EDIFACT time was read in (``UTC`` when assumed)."""
    locode: str | None
    place_name: str | None
    container_number: str | None
    """Only a number that passes the ISO 6346 check digit."""
    equipment_ref: str | None
    """The EQD identification as sent."""
    equipment_type: str | None
    full: bool | None
    direction: Direction | None
    vehicle_plate: str | None
    vessel_name: str | None
    voyage: str | None
    references: dict[str, str]
    seal: str | None
    dangerous_goods: tuple[str, ...]
    external_ref: str
    """``sender:interchange_ref:message_ref:index``, the same on every retry of the file."""
    warnings: tuple[EdiWarning, ...] = ()


class MessageSummary(msgspec.Struct, kw_only=True, frozen=True):
    """A message as listed next to its events."""

    message_type: str
    version: str
    reference: str
    segment_count: int
    event_count: int
    warnings: tuple[EdiWarning, ...]


class EdiParseResult(msgspec.Struct, kw_only=True, frozen=True):
    """Events of a file, the warnings of its envelope and messages, and its messages."""

    events: list[EdiEvent]
    warnings: list[EdiWarning]
    messages: list[MessageSummary]


@dataclass
class _Place:
    locode: str | None
    name: str | None


@dataclass
class _Facts:
    """What a segment group says about one event, before times and numbers are checked."""

    event_type: EventType
    classifier: EventClassifier
    segments: Sequence[EdiSegment]
    """The group's own segments first, then the enclosing ones (header last)."""
    time_qualifiers: tuple[str, ...]
    place_qualifiers: tuple[str, ...]
    warnings: list[EdiWarning] = field(default_factory=list)


_Mapper = Callable[[EdiMessage, list[EdiWarning]], list[_Facts]]


def parse_events(data: bytes | str) -> EdiParseResult:
    """Read ``data`` and map it; raises ``EdiUnreadable`` for input without any message."""
    interchange = read_interchange(data)
    warnings = list(interchange.warnings)
    events: list[EdiEvent] = []
    summaries: list[MessageSummary] = []
    for message in interchange.messages:
        message_warnings = list(message.warnings)
        message_events = _message_events(interchange, message, message_warnings)
        events.extend(message_events)
        warnings.extend(message_warnings)
        summaries.append(_summary(message, len(message_events), message_warnings))
    return EdiParseResult(events=events, warnings=warnings, messages=summaries)


def map_interchange(interchange: EdiInterchange) -> list[EdiEvent]:
    """The events of every message of ``interchange`` (message-level warnings are dropped)."""
    events: list[EdiEvent] = []
    for message in interchange.messages:
        events.extend(_message_events(interchange, message, []))
    return events


def _summary(message: EdiMessage, event_count: int, warnings: list[EdiWarning]) -> MessageSummary:
    return MessageSummary(
        message_type=message.message_type,
        version=":".join(p for p in (message.version, message.release, message.agency, message.association_code) if p),
        reference=message.reference,
        segment_count=len(message.segments) + 2,
        event_count=event_count,
        warnings=tuple(warnings),
    )


def _message_events(interchange: EdiInterchange, message: EdiMessage, warnings: list[EdiWarning]) -> list[EdiEvent]:
    mapper = _MAPPERS.get(message.message_type)
    if mapper is None:
        warnings.append(
            EdiWarning("unsupported_message", f"message {message.reference}: {message.message_type} is not mapped")
        )
        return []
    facts = mapper(message, warnings)
    return [_event(interchange, message, fact, index) for index, fact in enumerate(facts)]


# --- segment helpers -----------------------------------------------------------------------------


def _split(
    segments: Sequence[EdiSegment], starts: Callable[[EdiSegment], bool]
) -> tuple[list[EdiSegment], list[list[EdiSegment]]]:
    """Segments before the first group start, and the groups (each from its start to the next)."""
    header: list[EdiSegment] = []
    groups: list[list[EdiSegment]] = []
    for segment in segments:
        if starts(segment):
            groups.append([segment])
        elif groups:
            groups[-1].append(segment)
        else:
            header.append(segment)
    return header, groups


def _tag(tag: str) -> Callable[[EdiSegment], bool]:
    return lambda segment: segment.tag == tag


def _first(segments: Iterable[EdiSegment], tag: str, qualifiers: Sequence[str] | None = None) -> EdiSegment | None:
    """The first ``tag`` segment, by order of ``qualifiers`` when given."""
    candidates = [s for s in segments if s.tag == tag]
    if qualifiers is None:
        return candidates[0] if candidates else None
    for qualifier in qualifiers:
        for segment in candidates:
            if segment.qualifier == qualifier:
                return segment
    return None


def _text(value: str) -> str | None:
    return value.strip() or None


def _bgm_code(message: EdiMessage) -> str:
    bgm = _first(message.segments, "BGM")
    return bgm.component(0) if bgm else ""


# --- mappers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Handling:
    """How equipment lines of a document code are read: event time and place qualifiers."""

    time_qualifiers: tuple[str, ...]
    place_qualifiers: tuple[str, ...]


_HANDLING: dict[EventType, _Handling] = {
    EventType.GATE_IN: _Handling(("7", "203", "132"), ("165",)),
    EventType.GATE_OUT: _Handling(("7", "203"), ("165",)),
    EventType.DISCHARGED: _Handling(("203",), ("11",)),
    EventType.LOADED: _Handling(("203",), ("9",)),
    EventType.PICKED_UP: _Handling(("201",), ("98", "165")),
}

_PLANNED_MESSAGES = frozenset({"COPARN", "COPRAR"})


def _map_equipment_lines(message: EdiMessage, warnings: list[EdiWarning]) -> list[_Facts]:
    """CODECO, COARRI, COPRAR, COPARN: one event per EQD group, its kind given by the BGM code."""
    code = _bgm_code(message)
    event_type = codes.DOCUMENT_EVENTS[message.message_type].get(code)
    if event_type is None:
        warnings.append(
            EdiWarning("unknown_document", f"message {message.reference}: {message.message_type} BGM {code!r} unknown")
        )
        return []
    handling = _HANDLING[event_type]
    classifier = EventClassifier.PLANNED if message.message_type in _PLANNED_MESSAGES else EventClassifier.ACTUAL
    header, groups = _split(message.segments, _tag("EQD"))
    return [
        _Facts(event_type, classifier, [*group, *header], handling.time_qualifiers, handling.place_qualifiers)
        for group in groups
    ]


def _map_baplie(message: EdiMessage, warnings: list[EdiWarning]) -> list[_Facts]:
    """BAPLIE: one ``loaded`` event per occupied stowage location (LOC+147 group with an EQD).

    A bayplan is a snapshot: it says where each unit was loaded (LOC+9) but not when.
    """
    header, groups = _split(message.segments, lambda s: s.tag == "LOC" and s.qualifier == "147")
    occupied = [group for group in groups if _first(group, "EQD")]
    return [_Facts(codes.BAPLIE, EventClassifier.ACTUAL, [*group, *header], (), ("9", "5")) for group in occupied]


def _map_iftsta(message: EdiMessage, warnings: list[EdiWarning]) -> list[_Facts]:
    """IFTSTA: one event per STS whose status is known, inside each consignment (CNI)."""
    header, consignments = _split(message.segments, _tag("CNI"))
    facts: list[_Facts] = []
    for consignment in consignments or [[]]:
        consignment_head, statuses = _split(consignment, _tag("STS"))
        for status in statuses:
            event_type = _status_event(message, status[0], warnings)
            if event_type is not None:
                segments = [*status, *consignment_head, *header]
                facts.append(_Facts(event_type, EventClassifier.ACTUAL, segments, ("334",), ("175",)))
    return facts


def _status_event(message: EdiMessage, sts: EdiSegment, warnings: list[EdiWarning]) -> EventType | None:
    code, agency, text = sts.component(1, 0), sts.component(1, 2), sts.component(1, 3)
    if agency in ("", "6") and code in codes.STATUS_EVENTS:
        return codes.STATUS_EVENTS[code]
    for word in text.lower().split():
        if word in codes.STATUS_TEXT_EVENTS:
            warnings.append(
                EdiWarning("status_from_text", f"message {message.reference}: status {code!r} read from {text!r}")
            )
            return codes.STATUS_TEXT_EVENTS[word]
    warnings.append(EdiWarning("unknown_status", f"message {message.reference}: status {code!r} {text!r} not mapped"))
    return None


def _map_iftmin(message: EdiMessage, warnings: list[EdiWarning]) -> list[_Facts]:
    """IFTMIN: a planned pick-up and a planned delivery per consignment (CNI, or the whole message).

    The pick-up time is the pick-up date (DTM+200) or the estimated departure of the transport
    (DTM+133); the delivery time is the requested delivery date (DTM+2).
    """
    header, consignments = _split(message.segments, _tag("CNI"))
    facts: list[_Facts] = []
    for consignment in consignments or [[]]:
        segments = [*consignment, *header]
        facts.append(_Facts(EventType.PICKED_UP, EventClassifier.PLANNED, segments, ("200", "133"), ("9", "88")))
        facts.append(_Facts(EventType.DELIVERED, EventClassifier.PLANNED, segments, ("2",), ("7", "8")))
    return facts


def _map_cusres(message: EdiMessage, warnings: list[EdiWarning]) -> list[_Facts]:
    """CUSRES: the customs decision (GIS processing indicator), one event per EQD or one in all.

    The place is the message's first LOC; the time its effective (DTM+7) or document date.
    """
    gis = _first(message.segments, "GIS")
    code = gis.component(0) if gis else ""
    event_type = codes.CUSTOMS_STATUS.get(code)
    if event_type is None:
        warnings.append(EdiWarning("unknown_status", f"message {message.reference}: customs status {code!r} unknown"))
        return []
    header, groups = _split(message.segments, _tag("EQD"))
    return [_Facts(event_type, EventClassifier.ACTUAL, [*group, *header], ("7", "137"), ()) for group in groups or [[]]]


_MAPPERS: dict[str, _Mapper] = {
    **dict.fromkeys(codes.DOCUMENT_EVENTS, _map_equipment_lines),
    "BAPLIE": _map_baplie,
    "IFTSTA": _map_iftsta,
    "IFTMIN": _map_iftmin,
    "CUSRES": _map_cusres,
}


# --- from facts to an event ----------------------------------------------------------------------


def _event(interchange: EdiInterchange, message: EdiMessage, facts: _Facts, index: int) -> EdiEvent:
    warnings = list(facts.warnings)
    segments = facts.segments
    place = _place(segments, facts.place_qualifiers)
    event_time, zone = _event_time(segments, facts.time_qualifiers, place.locode, warnings)
    equipment = _first(segments, "EQD")
    container, equipment_ref = _equipment_identity(equipment, segments, warnings)
    vessel_name, voyage = _vessel(segments)
    return EdiEvent(
        message_type=message.message_type,
        message_ref=message.reference,
        interchange_ref=interchange.control_reference,
        sender=interchange.sender,
        event_type=facts.event_type,
        classifier=facts.classifier,
        event_time=event_time,
        time_zone=zone,
        locode=place.locode,
        place_name=place.name,
        container_number=container,
        equipment_ref=equipment_ref,
        equipment_type=_text(equipment.component(2)) if equipment else None,
        full=codes.FULL_EMPTY.get(equipment.component(5)) if equipment else None,
        direction=codes.EQUIPMENT_STATUS.get(equipment.component(4)) if equipment else None,
        vehicle_plate=_vehicle_plate(segments),
        vessel_name=vessel_name,
        voyage=voyage,
        references=_references(segments),
        seal=_text(seal.component(0)) if (seal := _first(segments, "SEL")) else None,
        dangerous_goods=_dangerous_goods(segments),
        external_ref=f"{interchange.sender or ''}:{interchange.control_reference or ''}:{message.reference}:{index}",
        warnings=tuple(warnings),
    )


def _is_locode(code: str) -> bool:
    return len(code) == 5 and code[:2].isalpha() and code[:2].isupper() and code[2:].isalnum()


def _place(segments: Sequence[EdiSegment], qualifiers: Sequence[str]) -> _Place:
    loc = _first(segments, "LOC", qualifiers or None)
    if loc is None:
        return _Place(None, None)
    code = loc.component(1, 0)
    name = _text(loc.component(1, 3)) or _text(loc.component(2, 3)) or _text(loc.component(2, 0))
    if _is_locode(code):
        return _Place(code, name)
    return _Place(None, name or _text(code))


def zone_for_locode(locode: str | None) -> tuple[str | None, EdiWarning | None]:
    """The IANA zone of a UN/LOCODE's place, and a warning when it is approximate or unknown."""
    if locode is None:
        return None, EdiWarning("assumed_timezone", "no UN/LOCODE for the place: local time read as UTC")
    if locode in codes.LOCODE_ZONES:
        return codes.LOCODE_ZONES[locode], None
    country = locode[:2]
    zone = codes.COUNTRY_ZONES.get(country)
    if zone is None:
        return None, EdiWarning("assumed_timezone", f"no time zone known for {locode}: local time read as UTC")
    if country in codes.MULTI_ZONE_COUNTRIES:
        return zone, EdiWarning("approximate_timezone", f"{locode} read in {zone}, the main zone of {country}")
    return zone, None


_DTM_FORMATS = {"101": "%y%m%d", "102": "%Y%m%d", "201": "%y%m%d%H%M", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
_FORMAT_BY_LENGTH = {6: "%y%m%d", 8: "%Y%m%d", 10: "%y%m%d%H%M", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
_FORMAT_LENGTH = {"%y%m%d": 6, "%Y%m%d": 8, "%y%m%d%H%M": 10, "%Y%m%d%H%M": 12, "%Y%m%d%H%M%S": 14}


def _local_time(value: str, format_code: str, warnings: list[EdiWarning]) -> datetime | None:
    """A DTM value as a naive local time; a value that does not match its format is read by its length."""
    pattern = _DTM_FORMATS.get(format_code) or _FORMAT_BY_LENGTH.get(len(value))
    if pattern is not None and _FORMAT_LENGTH[pattern] != len(value) and len(value) in _FORMAT_BY_LENGTH:
        warnings.append(EdiWarning("date_format", f"date {value!r} does not match its format {format_code}"))
        pattern = _FORMAT_BY_LENGTH[len(value)]
    if pattern is None or not value.isdigit():
        warnings.append(EdiWarning("bad_date", f"date {value!r} in format {format_code!r} not understood"))
        return None
    try:
        return datetime.strptime(value, pattern)
    except ValueError:
        warnings.append(EdiWarning("bad_date", f"date {value!r} is not a valid date"))
        return None


def _event_time(
    segments: Sequence[EdiSegment], qualifiers: Sequence[str], locode: str | None, warnings: list[EdiWarning]
) -> tuple[datetime | None, str | None]:
    dtm = _first(segments, "DTM", qualifiers) if qualifiers else None
    value = dtm.component(0, 1).strip() if dtm else ""
    if not dtm or not value:
        return None, None
    local = _local_time(value, dtm.component(0, 2), warnings)
    if local is None:
        return None, None
    zone, zone_warning = zone_for_locode(locode)
    if zone_warning is not None:
        warnings.append(zone_warning)
    tz = ZoneInfo(zone) if zone else UTC
    return local.replace(tzinfo=tz).astimezone(UTC), zone or "UTC"


def _equipment_identity(
    equipment: EdiSegment | None, segments: Sequence[EdiSegment], warnings: list[EdiWarning]
) -> tuple[str | None, str | None]:
    """(container number if valid, raw equipment id); without EQD, RFF+EQ names the equipment."""
    if equipment is not None:
        raw, is_container = equipment.component(1).strip(), equipment.qualifier == "CN"
    else:
        rff = _first(segments, "RFF", ("EQ",))
        raw, is_container = (rff.component(0, 1).strip() if rff else ""), True
    if not raw:
        return None, None
    if not is_container:
        return None, raw
    if iso6346.is_valid(raw):
        return iso6346.compact(raw), raw
    warnings.append(EdiWarning("invalid_container", f"{raw!r} fails the ISO 6346 check: kept as equipment_ref"))
    return None, raw


def _vehicle_plate(segments: Sequence[EdiSegment]) -> str | None:
    for segment in segments:
        if segment.tag == "TDT" and segment.component(2) == "3" and segment.component(7):
            return segment.component(7).strip()
    rff = _first(segments, "RFF", ("ABZ",))  # vehicle licence number
    return _text(rff.component(0, 1)) if rff else None


def _vessel(segments: Sequence[EdiSegment]) -> tuple[str | None, str | None]:
    """Vessel name and voyage of the main carriage (TDT+20) when it is not a road or rail leg."""
    tdt = _first(segments, "TDT", ("20",))
    if tdt is None or tdt.component(2) in ("2", "3"):
        return None, None
    voyage = _text(tdt.component(1))
    if voyage is None and (rff := _first(segments, "RFF", ("VON",))):
        voyage = _text(rff.component(0, 1))
    return _text(tdt.component(7, 3)), voyage


def _references(segments: Sequence[EdiSegment]) -> dict[str, str]:
    """RFF values by name; the group's own reference wins over the header's (it comes first)."""
    references: dict[str, str] = {}
    for segment in segments:
        if segment.tag == "RFF" and (value := segment.component(0, 1).strip()):
            name = codes.REFERENCE_NAMES.get(segment.qualifier, segment.qualifier)
            references.setdefault(name, value)
    return references


def _dangerous_goods(segments: Sequence[EdiSegment]) -> tuple[str, ...]:
    """IMO class and UN number of each DGS, as ``"8/UN2735"`` (or the class alone)."""
    goods: list[str] = []
    for segment in segments:
        if segment.tag == "DGS":
            imo_class, un_number = segment.component(1), segment.component(2)
            goods.append(f"{imo_class}/UN{un_number}" if un_number else imo_class)
    return tuple(goods)
