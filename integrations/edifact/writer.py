"""Building outgoing EDIFACT messages with pydifact's Interchange and Message.

Each writer produces an interchange that :func:`integrations.edifact.mapping.parse_events` maps back to
exactly the intended event, without warnings: times are written in the place's local time, and the
place is given under the LOC qualifier the mapping reads for that kind of event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment

from integrations.edifact.mapping import zone_for_locode

__all__ = (
    "PREADVICE_DOCUMENT_CODE",
    "coarri_vessel_report",
    "codeco_gate_report",
    "coparn_preadvice",
)

PREADVICE_DOCUMENT_CODE = "11"
"""BGM code of our COPARN pre-advice (see codes.DOCUMENT_EVENTS: agreed with the terminals)."""


def coparn_preadvice(
    *,
    sender: str,
    recipient: str,
    interchange_ref: str,
    message_ref: str,
    terminal_locode: str,
    expected_arrival: datetime,
    full: bool,
    size_type: str | None = None,
    truck_plate: str | None = None,
    container_number: str | None = None,
    trailer_plate: str | None = None,
    booking: str | None = None,
    waybill: str | None = None,
    prepared_at: datetime | None = None,
) -> str:
    """A COPARN D95B pre-advice of one container (EQD+CN) or trailer (EQD+TE) arriving at a terminal.

    ``expected_arrival`` (timezone-aware) is written as DTM+132 in the terminal's local time; the
    terminal is LOC+165, the truck TDT+1 (road), the waybill RFF+AAS, the booking RFF+BN.

    Raises:
        ValueError: neither or both of container and trailer, a naive time, or a terminal whose
            time zone is not known exactly.
    """
    _check_equipment(container_number, trailer_plate)
    if expected_arrival.tzinfo is None:
        raise ValueError("expected_arrival must be timezone-aware")
    local_arrival = _local(expected_arrival, terminal_locode)
    message = Message(message_ref, ["COPARN", "D", "95B", "UN"])
    message.add_segments(
        [
            Segment("BGM", PREADVICE_DOCUMENT_CODE, message_ref, "9"),
            *_references(booking=booking, waybill=waybill),
            _equipment(container_number, trailer_plate, size_type, full),
            *([Segment("TDT", "1", "", "3", "", "", "", "", truck_plate)] if truck_plate else []),
            Segment("DTM", ["132", f"{local_arrival:%Y%m%d%H%M}", "203"]),
            Segment("LOC", "165", [terminal_locode, "139", "6"]),
            Segment("CNT", ["16", "1"]),
        ]
    )
    return _serialize(message, sender, recipient, interchange_ref, prepared_at, truck_plate, trailer_plate)


def codeco_gate_report(
    *,
    sender: str,
    recipient: str,
    interchange_ref: str,
    message_ref: str,
    terminal_locode: str,
    gate: Literal["in", "out"],
    event_time: datetime,
    full: bool,
    size_type: str | None = None,
    truck_plate: str | None = None,
    container_number: str | None = None,
    trailer_plate: str | None = None,
    booking: str | None = None,
    waybill: str | None = None,
    time_format: Literal["203", "204"] = "203",
    prepared_at: datetime | None = None,
) -> str:
    """A CODECO D95B gate-in (BGM+34) or gate-out (BGM+36) report of one container or trailer.

    ``event_time`` (timezone-aware) is written as DTM+7 in the terminal's local time, to the minute
    (format 203) or the second (204); the terminal is LOC+165, the truck TDT+1 (road).

    Raises:
        ValueError: neither or both of container and trailer, a naive time, or a terminal whose
            time zone is not known exactly.
    """
    _check_equipment(container_number, trailer_plate)
    local_time = _local(event_time, terminal_locode)
    message = Message(message_ref, ["CODECO", "D", "95B", "UN", "SMDG16"])
    message.add_segments(
        [
            Segment("BGM", GATE_DOCUMENT_CODES[gate], message_ref, "9"),
            _equipment(container_number, trailer_plate, size_type, full),
            *_references(booking=booking, waybill=waybill),
            *([Segment("TDT", "1", "", "3", "", "", "", "", truck_plate)] if truck_plate else []),
            _dtm("7", local_time, time_format),
            Segment("LOC", "165", [terminal_locode, "139", "6"]),
            Segment("CNT", ["16", "1"]),
        ]
    )
    return _serialize(message, sender, recipient, interchange_ref, prepared_at, truck_plate, trailer_plate)


def coarri_vessel_report(
    *,
    sender: str,
    recipient: str,
    interchange_ref: str,
    message_ref: str,
    port_locode: str,
    operation: Literal["discharge", "load"],
    event_time: datetime,
    vessel_name: str,
    voyage: str,
    full: bool,
    mode_code: str = "1",
    size_type: str | None = None,
    container_number: str | None = None,
    trailer_plate: str | None = None,
    booking: str | None = None,
    waybill: str | None = None,
    terminal_locode: str | None = None,
    stowage_position: str | None = None,
    time_format: Literal["203", "204"] = "203",
    prepared_at: datetime | None = None,
) -> str:
    """A COARRI D95B discharge (BGM+44) or loading (BGM+46) report of one unit on a vessel or barge.

    The vessel is TDT+20 (voyage, ``mode_code`` 1 sea or 8 inland water, name); the port is LOC+11
    (discharge) or LOC+9 (load) and its local time is used for DTM+203, the handling time. LOC+165
    (terminal) and LOC+147 (stowage position, ``bbbrrtt``) are written when given.

    Raises:
        ValueError: neither or both of container and trailer, a road or rail ``mode_code``, a naive
            time, or a port whose time zone is not known exactly.
    """
    _check_equipment(container_number, trailer_plate)
    if mode_code in ("2", "3"):
        raise ValueError("a vessel report needs a water (or air) transport mode")
    local_time = _local(event_time, port_locode)
    port_qualifier = "11" if operation == "discharge" else "9"
    message = Message(message_ref, ["COARRI", "D", "95B", "UN", "ITG13"])
    message.add_segments(
        [
            Segment("BGM", VESSEL_DOCUMENT_CODES[operation], message_ref, "9"),
            Segment("TDT", "20", voyage, mode_code, "", "", "", "", ["", "", "", vessel_name]),
            Segment("LOC", port_qualifier, [port_locode, "139", "6"]),
            *([Segment("LOC", "165", [terminal_locode, "139", "6"])] if terminal_locode else []),
            _equipment(container_number, trailer_plate, size_type, full),
            *_references(booking=booking, waybill=waybill),
            _dtm("203", local_time, time_format),
            *([Segment("LOC", "147", [stowage_position, "", "5"])] if stowage_position else []),
            Segment("CNT", ["16", "1"]),
        ]
    )
    return _serialize(message, sender, recipient, interchange_ref, prepared_at, vessel_name, trailer_plate)


GATE_DOCUMENT_CODES: dict[str, str] = {"in": "34", "out": "36"}
"""CODECO BGM codes (see codes.DOCUMENT_EVENTS)."""
VESSEL_DOCUMENT_CODES: dict[str, str] = {"discharge": "44", "load": "46"}
"""COARRI BGM codes (see codes.DOCUMENT_EVENTS)."""

_DTM_PATTERNS = {"203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}


def _check_equipment(container_number: str | None, trailer_plate: str | None) -> None:
    if (container_number is None) == (trailer_plate is None):
        raise ValueError("give either a container number or a trailer plate")


def _local(moment: datetime, locode: str) -> datetime:
    """``moment`` in the local time of ``locode``'s place (exact zones only)."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    zone, warning = zone_for_locode(locode)
    if zone is None or warning is not None:
        raise ValueError(f"no exact time zone known for {locode}")
    return moment.astimezone(ZoneInfo(zone))


def _dtm(qualifier: str, local_time: datetime, time_format: str) -> Segment:
    return Segment("DTM", [qualifier, local_time.strftime(_DTM_PATTERNS[time_format]), time_format])


def _serialize(
    message: Message,
    sender: str,
    recipient: str,
    interchange_ref: str,
    prepared_at: datetime | None,
    *texts: str | None,
) -> str:
    """``message`` in an interchange of its own, in the syntax its texts need."""
    interchange = Interchange(
        sender=sender,
        recipient=recipient,
        control_reference=interchange_ref,
        syntax_identifier=_syntax_for(*texts),
        timestamp=(prepared_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None),
    )
    interchange.add_message(message)
    return str(interchange.serialize())


def _references(*, booking: str | None, waybill: str | None) -> list[Segment]:
    pairs = (("BN", booking), ("AAS", waybill))
    return [Segment("RFF", [qualifier, value]) for qualifier, value in pairs if value]


def _equipment(container_number: str | None, trailer_plate: str | None, size_type: str | None, full: bool) -> Segment:
    qualifier, identity = ("CN", container_number) if container_number else ("TE", trailer_plate)
    size = [size_type, "102", "5"] if size_type else ""
    return Segment("EQD", qualifier, identity or "", size, "", "", "5" if full else "4")


def _syntax_for(*texts: str | None) -> tuple[str, int]:
    """UNOC (Latin-1) when every text fits it; UNOW (UTF-8, syntax version 4) for Chinese plates."""
    latin = all(text is None or all(ord(ch) < 256 for ch in text) for text in texts)
    return ("UNOC", 3) if latin else ("UNOW", 4)
