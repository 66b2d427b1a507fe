"""Building outgoing EDIFACT messages with pydifact's Interchange and Message."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment

from integrations.edifact.mapping import zone_for_locode

__all__ = ("PREADVICE_DOCUMENT_CODE", "coparn_preadvice")

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
    if (container_number is None) == (trailer_plate is None):
        raise ValueError("give either a container number or a trailer plate")
    if expected_arrival.tzinfo is None:
        raise ValueError("expected_arrival must be timezone-aware")
    zone, warning = zone_for_locode(terminal_locode)
    if zone is None or warning is not None:
        raise ValueError(f"no exact time zone known for terminal {terminal_locode}")
    local_arrival = expected_arrival.astimezone(ZoneInfo(zone))
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
    interchange = Interchange(
        sender=sender,
        recipient=recipient,
        control_reference=interchange_ref,
        syntax_identifier=_syntax_for(truck_plate, trailer_plate),
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
