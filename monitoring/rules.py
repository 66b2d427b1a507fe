"""The alert rules: a pure function of a trip's context, the vehicle's recent fixes, the time and thresholds.

``evaluate`` reads no database and does no I/O (the ADR 8.6.4 table is read once, from the package).
Every rule turns the track into *episodes* (runs of consecutive fixes) and each episode into at most one
alert, whose ``dedupe_key`` depends only on the kind, the vehicle, the waybill and the episode's start:
evaluating the same track again, or a longer track with the same start, gives the same keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from monitoring.alerts import Alert, AlertKind, Fix, Severity, ShipmentContext, dedupe_key
from monitoring.config import AlertThresholds, RestrictedZone
from monitoring.geo import LatLon, distance_to_polyline_km, haversine_km, point_in_polygon

__all__ = ("evaluate",)

Run = tuple[int, int]
"""First and last index (inclusive) of consecutive fixes."""


class _Sample(NamedTuple):
    at: datetime
    position: LatLon
    speed_kmh: float | None
    """As reported; else derived from the distance to the previous fix."""


def evaluate(
    context: ShipmentContext,
    fixes: Sequence[Fix],
    now: datetime,
    thresholds: AlertThresholds | None = None,
) -> list[Alert]:
    """Every alert the vehicle's recent track raises, ordered by start.

    Args:
        context: the vehicle's trip and load.
        fixes: the vehicle's recent fixes (sorted here by time); the window should cover the longest
            rule, 4 h 20 min of driving time by default, for that rule to see a whole period.
        now: the evaluation time (timezone-aware), for the no-signal rule.
        thresholds: defaults to ``AlertThresholds()`` (no expressways, no zones).

    Raises:
        ValueError: ``now`` or a fix's time has no time zone.
    """
    _require_aware(now)
    limits = thresholds or AlertThresholds()
    samples = _samples(fixes)
    if not samples:
        return []
    rests = _rests(samples, limits)
    alerts = [
        *_speeding(context, samples, limits),
        *_no_signal(context, samples, now, limits),
        *_stationary(context, samples, limits),
        *_off_corridor(context, samples, limits),
        *_restricted_zones(context, samples, limits),
        *_driving_time(context, samples, rests, limits),
        *_no_waybill(context, samples, rests, limits),
    ]
    return sorted(alerts, key=lambda alert: (alert.started_at, alert.kind.value, alert.dedupe_key))


# -- the rules --------------------------------------------------------------------------------------


def _speeding(context: ShipmentContext, samples: list[_Sample], limits: AlertThresholds) -> Iterator[Alert]:
    """Consecutive fixes over the limit of their road, lasting long enough, not split by a signal gap."""
    on_expressway = [limits.on_expressway(s.position) for s in samples]
    speed_limits = [
        limits.expressway_speed_limit_kmh if on else limits.other_road_speed_limit_kmh for on in on_expressway
    ]
    over = [s.speed_kmh is not None and s.speed_kmh > limit for s, limit in zip(samples, speed_limits, strict=True)]
    for run in _runs(over):
        for first, last in _split_at_gaps(samples, run, limits.no_signal_after_s):
            duration_s = _seconds(samples, first, last)
            if last - first + 1 < limits.speeding_min_fixes or duration_s < limits.speeding_min_duration_s:
                continue
            worst = max(range(first, last + 1), key=lambda i: _speed(samples[i]) - speed_limits[i])
            speed, limit = _speed(samples[worst]), speed_limits[worst]
            road = "expressway" if on_expressway[worst] else "other road"
            critical = speed - limit >= limits.speeding_critical_excess_kmh
            yield _alert(
                context,
                AlertKind.SPEEDING,
                Severity.CRITICAL if critical else Severity.WARNING,
                started_at=samples[first].at,
                ended_at=_ended_at(samples, last),
                position=samples[first].position,
                observed=round(speed, 1),
                threshold=limit,
                unit="km/h",
                message=f"Speeding: {speed:.0f} km/h where the {road} limit is {limit:.0f} km/h, "
                f"for {_duration_text(duration_s)}",
                params={"speed_kmh": round(speed, 1), "limit_kmh": limit, "road": road, "duration_s": duration_s},
            )


def _no_signal(
    context: ShipmentContext, samples: list[_Sample], now: datetime, limits: AlertThresholds
) -> Iterator[Alert]:
    """In transit: a gap between fixes, or since the last fix, longer than allowed.

    A gap that has ended (a later fix came) is ``info``; the silence since the last fix is a ``warning``.
    """
    if not context.in_transit:
        return
    gaps = [(i, _seconds(samples, i, i + 1)) for i in range(len(samples) - 1)]
    gaps.append((len(samples) - 1, (now - samples[-1].at).total_seconds()))
    for index, gap_s in gaps:
        if gap_s <= limits.no_signal_after_s:
            continue
        ongoing = index == len(samples) - 1
        yield _alert(
            context,
            AlertKind.NO_SIGNAL,
            Severity.WARNING if ongoing else Severity.INFO,
            started_at=samples[index].at,
            ended_at=None if ongoing else samples[index + 1].at,
            position=samples[index].position,
            observed=round(gap_s / 60, 1),
            threshold=limits.no_signal_after_s / 60,
            unit="min",
            message=f"No position for {_duration_text(gap_s)}" + (" and counting" if ongoing else ""),
            params={"duration_s": gap_s},
        )


def _stationary(context: ShipmentContext, samples: list[_Sample], limits: AlertThresholds) -> Iterator[Alert]:
    """In transit: fixes staying within the radius of the first one for too long, away from planned places."""
    if not context.in_transit:
        return
    for first, last in _dwells(samples, limits.stationary_radius_m):
        duration_s = _seconds(samples, first, last)
        anchor = samples[first].position
        if duration_s <= limits.stationary_after_s or _at_planned_place(context, anchor, limits):
            continue
        yield _alert(
            context,
            AlertKind.STATIONARY,
            Severity.WARNING,
            started_at=samples[first].at,
            ended_at=_ended_at(samples, last),
            position=anchor,
            observed=round(duration_s / 60, 1),
            threshold=limits.stationary_after_s / 60,
            unit="min",
            message=f"Stationary for {_duration_text(duration_s)} away from the planned places",
            params={"duration_s": duration_s},
        )


def _off_corridor(context: ShipmentContext, samples: list[_Sample], limits: AlertThresholds) -> Iterator[Alert]:
    """In transit with a planned corridor: fixes farther from it than allowed, not at a planned place."""
    if not context.in_transit or not context.corridor:
        return
    distances = [distance_to_polyline_km(s.position, context.corridor) for s in samples]
    off = [
        distance > limits.off_corridor_km and not _at_planned_place(context, s.position, limits)
        for s, distance in zip(samples, distances, strict=True)
    ]
    for first, last in _runs(off):
        farthest = max(distances[first : last + 1])
        yield _alert(
            context,
            AlertKind.OFF_CORRIDOR,
            Severity.WARNING,
            started_at=samples[first].at,
            ended_at=_ended_at(samples, last),
            position=samples[first].position,
            observed=round(farthest, 2),
            threshold=limits.off_corridor_km,
            unit="km",
            message=f"Off the planned corridor, up to {farthest:.1f} km from it "
            f"(allowed {limits.off_corridor_km:g} km)",
            params={"distance_km": round(farthest, 2), "limit_km": limits.off_corridor_km},
        )


def _restricted_zones(context: ShipmentContext, samples: list[_Sample], limits: AlertThresholds) -> Iterator[Alert]:
    """With dangerous goods: fixes inside a banned zone, or a tunnel whose category the load may not enter."""
    if not context.dangerous_goods:
        return
    forbidden = context.forbidden_categories()
    for zone in limits.restricted_zones:
        if not zone.ban and zone.tunnel_category not in forbidden:
            continue
        inside = [point_in_polygon(s.position, zone.polygon) for s in samples]
        for first, last in _runs(inside):
            yield _zone_alert(context, zone, samples, first, last, forbidden)


def _zone_alert(
    context: ShipmentContext,
    zone: RestrictedZone,
    samples: list[_Sample],
    first: int,
    last: int,
    forbidden: frozenset[str],
) -> Alert:
    observed: str
    threshold: str | None
    if zone.ban or zone.tunnel_category is None:
        message = f"Dangerous-goods vehicle inside {zone.name}, closed to dangerous goods"
        observed, threshold = "ban", None
    else:
        load = context.tunnel_restriction_code or "/".join(sorted(forbidden))
        message = (
            f"Load with tunnel restriction code {load} ({context.carriage}) in {zone.name}, "
            f"tunnel category {zone.tunnel_category}, which the code forbids"
        )
        observed, threshold = zone.tunnel_category, load
    return _alert(
        context,
        AlertKind.RESTRICTED_ZONE,
        Severity.CRITICAL,
        started_at=samples[first].at,
        ended_at=_ended_at(samples, last),
        position=samples[first].position,
        observed=observed,
        threshold=threshold,
        unit=None,
        zone=zone.name,
        message=message,
        params={"zone": zone.name, "zone_zh": zone.name_zh or zone.name, "category": observed, "code": threshold or ""},
    )


def _driving_time(
    context: ShipmentContext, samples: list[_Sample], rests: list[Run], limits: AlertThresholds
) -> Iterator[Alert]:
    """A period between qualifying stops (wall-clock, short stops included) longer than allowed.

    The alert starts at the first fix past the limit; a period that starts with the window counts from
    the window's first fix.
    """
    for start, end in _driving_periods(samples, rests):
        elapsed_s = _seconds(samples, start, end)
        if elapsed_s <= limits.max_continuous_driving_s:
            continue
        past = next(
            i for i in range(start + 1, end + 1) if _seconds(samples, start, i) > limits.max_continuous_driving_s
        )
        yield _alert(
            context,
            AlertKind.DRIVING_TIME,
            Severity.WARNING,
            started_at=samples[past].at,
            ended_at=_ended_at(samples, end),
            position=samples[past].position,
            observed=round(elapsed_s / 3600, 2),
            threshold=limits.max_continuous_driving_s / 3600,
            unit="h",
            message=f"Driving for {_duration_text(elapsed_s)} without a break of {_duration_text(limits.min_break_s)}",
            params={"duration_s": elapsed_s, "break_s": limits.min_break_s},
        )


def _no_waybill(
    context: ShipmentContext, samples: list[_Sample], rests: list[Run], limits: AlertThresholds
) -> Iterator[Alert]:
    """Dangerous goods flagged, no active waybill: the first moving fix after each qualifying stop."""
    if not context.dangerous_goods or context.waybill_number is not None:
        return
    resting = _flags(len(samples), rests)
    armed = True
    for index, sample in enumerate(samples):
        if resting[index]:
            armed = True
        elif armed and sample.speed_kmh is not None and sample.speed_kmh > limits.moving_speed_kmh:
            armed = False
            yield _alert(
                context,
                AlertKind.NO_WAYBILL,
                Severity.CRITICAL,
                started_at=sample.at,
                ended_at=None,
                position=sample.position,
                observed=round(sample.speed_kmh, 1),
                threshold=limits.moving_speed_kmh,
                unit="km/h",
                message="Vehicle flagged with dangerous goods is moving without an active dangerous-goods waybill",
                params={"speed_kmh": round(sample.speed_kmh, 1)},
            )


# -- episodes ---------------------------------------------------------------------------------------


def _runs(flags: Sequence[bool]) -> list[Run]:
    """Maximal runs of consecutive true flags."""
    runs: list[Run] = []
    start: int | None = None
    for index, flag in enumerate(flags):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index - 1))
            start = None
    if start is not None:
        runs.append((start, len(flags) - 1))
    return runs


def _split_at_gaps(samples: list[_Sample], run: Run, max_gap_s: float) -> list[Run]:
    """A run cut wherever two consecutive fixes are more than ``max_gap_s`` apart."""
    first, last = run
    pieces: list[Run] = []
    for index in range(first + 1, last + 1):
        if _seconds(samples, index - 1, index) > max_gap_s:
            pieces.append((first, index - 1))
            first = index
    pieces.append((first, last))
    return pieces


def _dwells(samples: list[_Sample], radius_m: float) -> list[Run]:
    """Runs of fixes all less than ``radius_m`` from the run's first fix (greedy, in time order)."""
    runs: list[Run] = []
    first = 0
    while first < len(samples):
        last = first
        anchor = samples[first].position
        while last + 1 < len(samples) and haversine_km(anchor, samples[last + 1].position) * 1000 < radius_m:
            last += 1
        runs.append((first, last))
        first = last + 1
    return runs


def _rests(samples: list[_Sample], limits: AlertThresholds) -> list[Run]:
    """Qualifying stops: slower than ``stop_speed_kmh`` or within ``stationary_radius_m``, for ``min_break_s``."""
    slow = [s.speed_kmh is not None and s.speed_kmh < limits.stop_speed_kmh for s in samples]
    candidates = [*_runs(slow), *_dwells(samples, limits.stationary_radius_m)]
    long_enough = sorted(run for run in candidates if _seconds(samples, *run) >= limits.min_break_s)
    merged: list[Run] = []
    for first, last in long_enough:
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _driving_periods(samples: list[_Sample], rests: list[Run]) -> list[Run]:
    """From the end of a stop (or the first fix) to the start of the next stop (or the last fix)."""
    periods: list[Run] = []
    start = 0
    for first, last in rests:
        if first > start:
            periods.append((start, first))
        start = last
    if start < len(samples) - 1:
        periods.append((start, len(samples) - 1))
    return periods


def _flags(length: int, runs: list[Run]) -> list[bool]:
    flags = [False] * length
    for first, last in runs:
        flags[first : last + 1] = [True] * (last - first + 1)
    return flags


# -- helpers ----------------------------------------------------------------------------------------


def _samples(fixes: Sequence[Fix]) -> list[_Sample]:
    samples: list[_Sample] = []
    for fix in sorted(fixes, key=lambda f: f.recorded_at):
        _require_aware(fix.recorded_at)
        position = (fix.latitude, fix.longitude)
        speed = fix.speed_kmh
        if speed is None and samples:
            elapsed_s = (fix.recorded_at - samples[-1].at).total_seconds()
            speed = haversine_km(samples[-1].position, position) / elapsed_s * 3600 if elapsed_s > 0 else None
        samples.append(_Sample(fix.recorded_at, position, speed))
    return samples


def _alert(
    context: ShipmentContext,
    kind: AlertKind,
    severity: Severity,
    *,
    started_at: datetime,
    ended_at: datetime | None,
    position: LatLon,
    observed: float | str | None,
    threshold: float | str | None,
    unit: str | None,
    message: str,
    params: dict[str, str | float],
    zone: str | None = None,
) -> Alert:
    return Alert(
        kind=kind,
        severity=severity,
        plate=context.plate,
        waybill_number=context.waybill_number,
        started_at=started_at,
        ended_at=ended_at,
        observed=observed,
        threshold=threshold,
        unit=unit,
        position=position,
        zone=zone,
        message=message,
        message_key=f"alert.{kind.value}",
        message_params=params,
        dedupe_key=dedupe_key(kind, context.plate, context.waybill_number, started_at, zone),
    )


def _at_planned_place(context: ShipmentContext, point: LatLon, limits: AlertThresholds) -> bool:
    return any(haversine_km(point, place) <= limits.planned_place_radius_km for place in context.planned_places)


def _ended_at(samples: list[_Sample], last: int) -> datetime | None:
    """The episode's last fix, if a later fix shows it over; ``None`` if it lasts to the end of the track."""
    return samples[last].at if last < len(samples) - 1 else None


def _seconds(samples: list[_Sample], first: int, last: int) -> float:
    return (samples[last].at - samples[first].at).total_seconds()


def _speed(sample: _Sample) -> float:
    return sample.speed_kmh if sample.speed_kmh is not None else 0.0


def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
