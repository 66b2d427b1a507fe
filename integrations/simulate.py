"""Partner simulators for the demo and the tests: a container terminal and the national node.

They speak the real protocol over RabbitMQ: each consumes the partner's queue ``freight.to.<code>``
and answers on ``freight.inbound`` with routing key ``<code>``, persistent and confirmed, under a
message id derived from the message answered (so an answer sent again is recognised as a copy).

Each simulator runs in one thread with one blocking pika connection, reconnecting with backoff. A
message is acknowledged only once all its answers are confirmed by the broker; a copy of a message
already answered (a redelivery, or the relay sending it again) is acknowledged and not answered again.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import pika
import pika.exceptions
import structlog

from core.settings import get_settings
from integrations.amqp import Publication, connection_parameters, properties_for
from integrations.consumer import Incoming, MalformedMessageError, incoming_from, stable_message_id
from integrations.schemas import FilingAck, NodeDocument, NodeEnvelope, PositionReport, PositionReports, PreAdvice
from integrations.topology import INBOUND_EXCHANGE, outbound_queue

__all__ = (
    "NodeSimulator",
    "PortSimulator",
    "Simulator",
    "SimulatorStats",
    "answer_id",
    "read_preadvice",
    "start_simulators",
)

_log = structlog.get_logger("integrations.simulate")

_AMQP_ERRORS = (pika.exceptions.AMQPError, OSError)
_ANSWER_NAMESPACE = uuid.UUID("5b0f3c1e-8a4e-4f6b-9d0c-2f1e7a9c4b11")
"""uuid5 namespace of answer ids: the same incoming id always gives the same answer id."""
_REMEMBERED = 100_000
"""Answered message ids kept in memory to recognise copies."""

_Build = Callable[[], Publication]


class SimulatorStats(msgspec.Struct, kw_only=True):
    """Counts of one simulator (read them from another thread for progress)."""

    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    published: int = 0
    reconnects: int = 0


@dataclass
class _Open:
    """A message being answered: answers still to publish, and its delivery tag on the current channel."""

    remaining: int
    tag: int | None


def answer_id(incoming_id: str, suffix: str) -> uuid.UUID:
    """The id of an answer to message ``incoming_id`` (stable across redeliveries)."""
    return uuid.uuid5(_ANSWER_NAMESPACE, f"{incoming_id}:{suffix}")


class Simulator:
    """Consume ``freight.to.<code>``; answer each message with publications due after a delay."""

    def __init__(self, *, code: str, amqp_url: str | None, idle_s: float = 0.05, prefetch: int = 500) -> None:
        self.code = code
        self.amqp_url = amqp_url
        self.idle_s = idle_s
        self.prefetch = prefetch
        self.stats = SimulatorStats()
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._open: dict[str, _Open] = {}
        self._due: list[tuple[float, int, str, _Build]] = []
        self._sequence = itertools.count()

    def answers(self, incoming: Incoming, incoming_id: str) -> list[tuple[float, _Build]]:
        """(delay in seconds, builder of the answer) for a message; raises ``MalformedMessageError``."""
        raise NotImplementedError

    def periodic(self, now_s: float) -> list[Publication]:
        """Messages sent on the simulator's own initiative (called every loop turn; monotonic ``now_s``)."""
        return []

    def run(self, stop: threading.Event) -> None:
        """Simulate until ``stop`` is set, reconnecting with backoff whenever the connection is lost."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self._session(stop)
                backoff = 0.5
            except _AMQP_ERRORS as exc:
                self.stats.reconnects += 1
                _log.warning("simulator_connection_lost", code=self.code, error=repr(exc), retry_in_s=backoff)
                stop.wait(backoff)
                backoff = min(30.0, backoff * 2)

    def _session(self, stop: threading.Event) -> None:
        connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.prefetch)
            for method, properties, body in channel.consume(outbound_queue(self.code), inactivity_timeout=self.idle_s):
                if method is not None:
                    self._receive(channel, incoming_from(method, properties, body))
                self._publish_due(channel)
                for publication in self.periodic(time.monotonic()):
                    self._publish(channel, publication)
                if stop.is_set():
                    break
            if channel.is_open:
                channel.cancel()
        finally:
            for entry in self._open.values():
                entry.tag = None  # delivery tags die with their channel; the broker delivers those again
            if connection.is_open:
                connection.close()

    def _receive(self, channel: pika.adapters.blocking_connection.BlockingChannel, incoming: Incoming) -> None:
        self.stats.received += 1
        incoming_id = stable_message_id(incoming)
        entry = self._open.get(incoming_id)
        if incoming_id in self._answered or (entry is not None and entry.tag is not None):
            self.stats.duplicates += 1
            channel.basic_ack(incoming.tag)
            return
        if entry is not None:  # delivered again after a reconnect, its answers still on their way
            entry.tag = incoming.tag
            return
        try:
            answers = self.answers(incoming, incoming_id)
        except MalformedMessageError as exc:
            self.stats.rejected += 1
            _log.warning("simulator_rejected", code=self.code, message_id=incoming_id, reason=exc.reason)
            channel.basic_reject(incoming.tag, requeue=False)
            return
        if not answers:
            self._finish(channel, incoming_id, incoming.tag)
            return
        self._open[incoming_id] = _Open(remaining=len(answers), tag=incoming.tag)
        now = time.monotonic()
        for delay_s, build in answers:
            heapq.heappush(self._due, (now + delay_s, next(self._sequence), incoming_id, build))

    def _publish_due(self, channel: pika.adapters.blocking_connection.BlockingChannel) -> None:
        while self._due and self._due[0][0] <= time.monotonic():
            due_at, order, incoming_id, build = self._due[0]
            if not self._publish(channel, build()):
                heapq.heapreplace(self._due, (due_at + 1.0, order, incoming_id, build))
                return
            heapq.heappop(self._due)
            entry = self._open[incoming_id]
            entry.remaining -= 1
            if entry.remaining == 0:
                del self._open[incoming_id]
                self._finish(channel, incoming_id, entry.tag)

    def _publish(self, channel: pika.adapters.blocking_connection.BlockingChannel, publication: Publication) -> bool:
        """Publish with a confirm; ``False`` if the broker refused it (the connection errors propagate)."""
        try:
            channel.basic_publish(
                publication.exchange,
                publication.routing_key,
                publication.body,
                properties_for(publication),
                mandatory=True,
            )
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
            _log.warning(
                "simulator_publish_refused", code=self.code, message_id=publication.message_id, error=repr(exc)
            )
            return False
        self.stats.published += 1
        return True

    def _finish(
        self, channel: pika.adapters.blocking_connection.BlockingChannel, incoming_id: str, tag: int | None
    ) -> None:
        self._answered[incoming_id] = None
        if len(self._answered) > _REMEMBERED:
            self._answered.popitem(last=False)
        if tag is not None:
            channel.basic_ack(tag)

    def _reply(
        self, message_id: str, message_type: str, body: bytes, *, correlation_id: str | None, content_type: str
    ) -> Publication:
        return Publication(
            exchange=INBOUND_EXCHANGE,
            routing_key=self.code,
            body=body,
            message_id=message_id,
            message_type=message_type,
            correlation_id=correlation_id,
            content_type=content_type,
        )


# --- the terminal --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Advice:
    """What a terminal takes from a pre-advice, whichever its format."""

    waybill: str | None
    container_number: str | None
    trailer_plate: str | None
    truck_plate: str | None
    booking: str | None


_preadvice_decoder = msgspec.json.Decoder(PreAdvice)


def read_preadvice(incoming: Incoming) -> _Advice:
    """A pre-advice as JSON (:class:`PreAdvice`) or EDIFACT COPARN; raises ``MalformedMessageError``."""
    if incoming.content_type == "application/json" or incoming.body.lstrip()[:1] == b"{":
        try:
            advice = _preadvice_decoder.decode(incoming.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedMessageError(f"not a pre-advice: {exc}") from None
        return _Advice(
            waybill=advice.waybill_number,
            container_number=advice.container_number,
            trailer_plate=None if advice.container_number else advice.trailer_plate,
            truck_plate=advice.vehicle_plate,
            booking=advice.shipper_reference,
        )
    from integrations.edifact import EdiUnreadable, parse_events

    try:
        events = parse_events(incoming.body).events
    except EdiUnreadable as exc:
        raise MalformedMessageError(f"unreadable COPARN: {exc.reason}") from None
    if not events:
        raise MalformedMessageError("the COPARN announces no unit")
    event = events[0]
    return _Advice(
        waybill=event.references.get("waybill"),
        container_number=event.container_number,
        trailer_plate=None if event.container_number else event.equipment_ref,
        truck_plate=event.vehicle_plate,
        booking=event.references.get("booking"),
    )


class PortSimulator(Simulator):
    """A container terminal: a gate-in (CODECO) some time after each pre-advice, then, for a container,
    its loading on a barge (COARRI), at the terminal's LOCODE."""

    def __init__(
        self,
        code: str,
        locode: str,
        amqp_url: str | None,
        arrival_delay_s: float,
        load_delay_s: float,
        fmt: str = "edifact",
        *,
        vessel_name: str = "ZHUJIANG 1038",
        idle_s: float = 0.05,
    ) -> None:
        super().__init__(code=code, amqp_url=amqp_url, idle_s=idle_s)
        self.locode = locode
        self.arrival_delay_s = arrival_delay_s
        self.load_delay_s = load_delay_s
        self.fmt = fmt
        """The pre-advice format the terminal is registered for; the other one is read too."""
        self.vessel_name = vessel_name
        self.sender = f"{locode}TERM"

    def answers(self, incoming: Incoming, incoming_id: str) -> list[tuple[float, _Build]]:
        """A gate-in after ``arrival_delay_s``; for a container, its loading ``load_delay_s`` later."""
        advice = read_preadvice(incoming)
        if advice.container_number is None and advice.trailer_plate is None:
            raise MalformedMessageError("the pre-advice names neither a container nor a trailer")
        planned: list[tuple[float, _Build]] = [(self.arrival_delay_s, lambda: self._gate_in(advice, incoming_id))]
        if advice.container_number is not None:
            delay_s = self.arrival_delay_s + self.load_delay_s
            planned.append((delay_s, lambda: self._loaded(advice, incoming_id)))
        return planned

    def _references(self, incoming_id: str, what: str) -> dict[str, Any]:
        reference = answer_id(incoming_id, what).hex.upper()
        return {
            "sender": self.sender,
            "recipient": get_settings().platform_code,
            "interchange_ref": reference[:14],
            "message_ref": reference[14:28],
        }

    def _gate_in(self, advice: _Advice, incoming_id: str) -> Publication:
        from integrations.edifact import codeco_gate_report

        text = codeco_gate_report(
            **self._references(incoming_id, "gate-in"),
            terminal_locode=self.locode,
            gate="in",
            event_time=datetime.now(UTC),
            full=True,
            truck_plate=advice.truck_plate,
            container_number=advice.container_number,
            trailer_plate=advice.trailer_plate,
            booking=advice.booking,
            waybill=advice.waybill,
            time_format="204",
        )
        return self._edifact(f"{incoming_id}:gate-in", "codeco", text, advice)

    def _loaded(self, advice: _Advice, incoming_id: str) -> Publication:
        from integrations.edifact import coarri_vessel_report

        now = datetime.now(UTC)
        text = coarri_vessel_report(
            **self._references(incoming_id, "loaded"),
            port_locode=self.locode,
            operation="load",
            event_time=now,
            vessel_name=self.vessel_name,
            voyage=f"{now:%y%m}E",
            mode_code="8",
            full=True,
            container_number=advice.container_number,
            booking=advice.booking,
            waybill=advice.waybill,
            terminal_locode=self.locode,
            time_format="204",
        )
        return self._edifact(f"{incoming_id}:loaded", "coarri", text, advice)

    def _edifact(self, message_id: str, message_type: str, text: str, advice: _Advice) -> Publication:
        return self._reply(
            message_id, message_type, text.encode(), correlation_id=advice.waybill, content_type="application/edifact"
        )


# --- the national node ---------------------------------------------------------------------------


class _Point(msgspec.Struct):
    latitude: float
    longitude: float


class _LegEquipment(msgspec.Struct):
    vehicle_plate: str | None = None


class _Leg(msgspec.Struct):
    sequence: int
    mode: str
    from_place: _Point
    to_place: _Point
    equipment: _LegEquipment


class _FiledWaybill(msgspec.Struct):
    number: str
    legs: list[_Leg]


@dataclass
class _Track:
    """A vehicle driving a road leg in a straight line, from when the node heard of it."""

    plate: str
    start: _Point
    end: _Point
    started_s: float


_FINISHED_STATUSES = frozenset({"delivered", "closed", "cancelled"})


def distance_km(a: _Point, b: _Point) -> float:
    """Great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def bearing_deg(a: _Point, b: _Point) -> float:
    """Initial bearing from ``a`` to ``b``, in [0, 360)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlon = math.radians(b.longitude - a.longitude)
    y = math.sin(dlon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return round(math.degrees(math.atan2(y, x)), 1) % 360.0


class NodeSimulator(Simulator):
    """The national logistics node: accepts every e-waybill, and streams GNSS positions of the road
    legs' vehicles of the waybills it has heard of, moving each straight from its leg's start to its end."""

    def __init__(
        self,
        code: str,
        amqp_url: str | None,
        position_interval_s: float,
        *,
        speed_kmh: float = 60.0,
        node_code: str = "LOGINK",
        idle_s: float = 0.05,
    ) -> None:
        super().__init__(code=code, amqp_url=amqp_url, idle_s=idle_s)
        self.position_interval_s = position_interval_s
        self.speed_kmh = speed_kmh
        self.node_code = node_code
        self.tracks: dict[tuple[str, int], _Track] = {}
        """Vehicles being moved, by (waybill number, leg)."""
        self._next_positions_s = 0.0

    def answers(self, incoming: Incoming, incoming_id: str) -> list[tuple[float, _Build]]:
        """An acknowledgement of each e-waybill; journey statuses end the tracking of finished waybills."""
        try:
            envelope = msgspec.json.decode(incoming.body, type=NodeEnvelope)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedMessageError(f"not a node envelope: {exc}") from None
        if envelope.document_name is NodeDocument.JOURNEY_STATUS:
            if envelope.body.get("status") in _FINISHED_STATUSES:
                self._forget(str(envelope.body.get("waybillNumber")))
            return []
        if envelope.document_name is not NodeDocument.WAYBILL:
            return []
        try:
            waybill = msgspec.convert(envelope.body.get("waybill"), _FiledWaybill)
        except msgspec.ValidationError as exc:
            raise MalformedMessageError(f"EWAYBILL body: {exc}") from None
        if envelope.body.get("action") == "cancelled":
            self._forget(waybill.number)
        else:
            self._follow(waybill)
        return [(0.0, lambda: self._acknowledgement(envelope, waybill.number, incoming_id))]

    def _acknowledgement(self, envelope: NodeEnvelope, number: str, incoming_id: str) -> Publication:
        reference = answer_id(incoming_id, "ack")
        ack = FilingAck(
            waybill_number=number,
            accepted=True,
            in_reply_to=envelope.message_ref,
            node_reference=f"{self.node_code}-{reference.hex[:12].upper()}",
        )
        reply = NodeEnvelope(
            sender_code=envelope.recipient_code,
            recipient_code=envelope.sender_code,
            document_name=NodeDocument.WAYBILL_ACK,
            message_ref=reference,
            timestamp=datetime.now(UTC),
            body=msgspec.to_builtins(ack),
        )
        return self._reply(
            str(reference),
            "waybill.ack",
            msgspec.json.encode(reply),
            correlation_id=number,
            content_type="application/json",
        )

    def follow(self, waybill: dict[str, Any]) -> None:
        """Start moving the road vehicles of ``waybill`` (an EWAYBILL body's ``waybill``)."""
        self._follow(msgspec.convert(waybill, _FiledWaybill))

    def _follow(self, waybill: _FiledWaybill) -> None:
        now_s = time.monotonic()
        for leg in waybill.legs:
            plate = leg.equipment.vehicle_plate
            key = (waybill.number, leg.sequence)
            if leg.mode != "road" or not plate:
                self.tracks.pop(key, None)
            elif key not in self.tracks or self.tracks[key].plate != plate:
                self.tracks[key] = _Track(plate=plate, start=leg.from_place, end=leg.to_place, started_s=now_s)

    def _forget(self, number: str) -> None:
        for key in [k for k in self.tracks if k[0] == number]:
            del self.tracks[key]

    def periodic(self, now_s: float) -> list[Publication]:
        """Every ``position_interval_s``, the positions of the vehicles under way (a last one on arrival)."""
        if now_s < self._next_positions_s or not self.tracks:
            return []
        self._next_positions_s = now_s + self.position_interval_s
        at = datetime.now(UTC)
        reports = []
        for key, track in list(self.tracks.items()):
            report, arrived = self.position_of(track, now_s, at)
            reports.append(report)
            if arrived:
                del self.tracks[key]
        reference = uuid.uuid4()
        envelope = NodeEnvelope(
            sender_code=self.node_code,
            recipient_code=get_settings().platform_code,
            document_name=NodeDocument.POSITIONS,
            message_ref=reference,
            timestamp=at,
            body=msgspec.to_builtins(PositionReports(positions=reports)),
        )
        return [
            self._reply(
                str(reference),
                "vehicle.positions",
                msgspec.json.encode(envelope),
                correlation_id=None,
                content_type="application/json",
            )
        ]

    def position_of(self, track: _Track, now_s: float, at: datetime) -> tuple[PositionReport, bool]:
        """Where ``track``'s vehicle is at monotonic ``now_s`` (reported as time ``at``), and whether it has arrived."""
        total_km = distance_km(track.start, track.end)
        driven_km = self.speed_kmh * max(0.0, now_s - track.started_s) / 3600
        share = 1.0 if total_km <= driven_km else driven_km / total_km
        report = PositionReport(
            plate=track.plate,
            time=at,
            lat=round(track.start.latitude + share * (track.end.latitude - track.start.latitude), 6),
            lon=round(track.start.longitude + share * (track.end.longitude - track.start.longitude), 6),
            speed=0.0 if share >= 1.0 else self.speed_kmh,
            heading=bearing_deg(track.start, track.end),
        )
        return report, share >= 1.0


# --- running them --------------------------------------------------------------------------------


def start_simulators(simulators: list[Simulator], stop: threading.Event) -> list[threading.Thread]:
    """Start each simulator in a daemon thread of its own; set ``stop`` and join them to end."""
    threads = []
    for simulator in simulators:
        name = f"simulate-{type(simulator).__name__.removesuffix('Simulator').lower()}-{simulator.code}"
        thread = threading.Thread(target=simulator.run, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads
