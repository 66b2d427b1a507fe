"""The alert rules on realistic tracks: a tanker from Huangpu to Dongguan on the Guangshen expressway,
to Yantian port through the Wutong Mountain tunnel, and eastwards to Shantou."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest

from monitoring import Alert, AlertKind, AlertThresholds, Severity, ShipmentContext, evaluate, prd_thresholds
from monitoring.geo import distance_to_polyline_km
from tests.monitoring.tracks import (
    DONGGUAN,
    GUANGSHEN,
    HUANGPU,
    HUANGPU_AVENUE_EAST,
    HUIZHOU,
    KAICHUANG_NORTH,
    KAICHUANG_SOUTH,
    LIANTANG,
    MACHONG,
    SHANTOU,
    SHANWEI,
    TIANHE_WEST,
    WUTONG_EAST,
    WUTONG_WEST,
    XINTANG,
    YANTIAN_PORT,
    Track,
)
from tracking.models import VehiclePosition

PLATE = "粤A3K721"
WAYBILL = "EW2611-7K3M9Q2X-T"
PRD = prd_thresholds()


def tanker(**changes: object) -> ShipmentContext:
    """UN 1203 petrol in a tank: tunnel code D/E, from Huangpu to Dongguan along the Guangshen."""
    context = ShipmentContext(
        plate=PLATE,
        waybill_number=WAYBILL,
        tunnel_restriction_code="D/E",
        carriage="tank",
        planned_places=(HUANGPU, DONGGUAN),
        corridor=GUANGSHEN,
    )
    return msgspec.structs.replace(context, **changes)


def run(
    track: Track, context: ShipmentContext | None = None, *, now: datetime | None = None, **limits: object
) -> list[Alert]:
    thresholds = msgspec.structs.replace(PRD, **limits) if limits else PRD
    return evaluate(context or tanker(), track.fixes, now or track.last_at, thresholds)


def of_kind(alerts: list[Alert], kind: AlertKind) -> list[Alert]:
    return [alert for alert in alerts if alert.kind == kind]


def guangshen_trip() -> Track:
    """Loaded at Huangpu, 75 km/h to Dongguan, unloading there."""
    return Track(HUANGPU).drive(XINTANG, MACHONG, DONGGUAN, speed_kmh=75).stay(600)


def test_a_clean_trip_raises_nothing() -> None:
    assert run(guangshen_trip()) == []


# -- speeding ---------------------------------------------------------------------------------------


def speeding_on_guangshen(over_fixes: int, speed_kmh: float = 90) -> Track:
    """75 km/h, then ``over_fixes`` fixes (30 s apart) at ``speed_kmh``, then 75 km/h to Dongguan."""
    return (
        Track(HUANGPU, speed_kmh=75)
        .drive(XINTANG, speed_kmh=75, fixes=10)
        .drive(XINTANG, MACHONG, speed_kmh=speed_kmh, fixes=over_fixes)
        .drive(XINTANG, MACHONG, DONGGUAN, speed_kmh=75)
    )


def test_speeding_for_a_minute_on_the_expressway_fires() -> None:
    """Three fixes at 90 km/h span 60 s: the minimum duration, reached."""
    track = speeding_on_guangshen(over_fixes=3)
    [alert] = of_kind(run(track), AlertKind.SPEEDING)
    assert (alert.observed, alert.threshold, alert.unit) == (90, 80, "km/h")
    assert alert.severity == Severity.WARNING
    assert alert.started_at == track.fixes[11].recorded_at
    assert alert.ended_at == track.fixes[13].recorded_at
    assert alert.position == (track.fixes[11].latitude, track.fixes[11].longitude)
    assert alert.message == "Speeding: 90 km/h where the expressway limit is 80 km/h, for 1 min"
    assert alert.message_key == "alert.speeding"
    assert alert.waybill_number == WAYBILL


def test_speeding_for_30_seconds_does_not_count() -> None:
    """Two fixes at 90 km/h span only 30 s."""
    assert of_kind(run(speeding_on_guangshen(over_fixes=2)), AlertKind.SPEEDING) == []


def test_driving_exactly_at_the_limit_is_not_speeding() -> None:
    track = Track(HUANGPU, speed_kmh=80).drive(XINTANG, MACHONG, DONGGUAN, speed_kmh=80)
    assert of_kind(run(track), AlertKind.SPEEDING) == []


def test_speeding_20_kmh_over_is_critical() -> None:
    [alert] = of_kind(run(speeding_on_guangshen(over_fixes=4, speed_kmh=100)), AlertKind.SPEEDING)
    assert alert.severity == Severity.CRITICAL


def test_70_kmh_is_allowed_on_the_expressway_but_not_on_a_city_road() -> None:
    on_expressway = Track(HUANGPU, speed_kmh=70).drive(XINTANG, MACHONG, DONGGUAN, speed_kmh=70)
    assert of_kind(run(on_expressway), AlertKind.SPEEDING) == []

    city_road = Track(KAICHUANG_SOUTH, speed_kmh=70).drive(KAICHUANG_NORTH, speed_kmh=70)
    assert distance_to_polyline_km(KAICHUANG_SOUTH, GUANGSHEN) > 0.3
    [alert] = of_kind(run(city_road), AlertKind.SPEEDING)
    assert (alert.observed, alert.threshold) == (70, 60)
    assert "other road limit is 60 km/h" in alert.message


def test_a_lower_limit_fires_earlier() -> None:
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, MACHONG, DONGGUAN, speed_kmh=75)
    assert of_kind(run(track), AlertKind.SPEEDING) == []
    [alert] = of_kind(run(track, expressway_speed_limit_kmh=70), AlertKind.SPEEDING)
    assert alert.started_at == track.fixes[0].recorded_at
    assert alert.threshold == 70


def test_speeding_without_reported_speed_uses_the_distance_between_fixes() -> None:
    track = speeding_on_guangshen(over_fixes=3)
    fixes = [msgspec.structs.replace(fix, speed_kmh=None) for fix in track.fixes]
    [alert] = of_kind(evaluate(tanker(), fixes, track.last_at, PRD), AlertKind.SPEEDING)
    assert alert.observed == pytest.approx(90, abs=0.5)


# -- no signal --------------------------------------------------------------------------------------


def test_silence_of_more_than_5_minutes_while_in_transit_fires() -> None:
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, speed_kmh=75)
    now = track.last_at + timedelta(minutes=5, seconds=1)
    [alert] = of_kind(run(track, now=now), AlertKind.NO_SIGNAL)
    assert alert.severity == Severity.WARNING
    assert (alert.started_at, alert.ended_at) == (track.last_at, None)
    assert alert.position == track.position
    assert alert.threshold == 5


def test_silence_of_exactly_5_minutes_does_not_fire() -> None:
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, speed_kmh=75)
    assert of_kind(run(track, now=track.last_at + timedelta(minutes=5)), AlertKind.NO_SIGNAL) == []


def test_a_gap_that_ended_is_reported_as_info() -> None:
    """Six minutes without a fix between Xintang and Machong; then the signal returns."""
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, speed_kmh=75)
    lost_at = track.last_at
    track.silence(360).drive(MACHONG, DONGGUAN, speed_kmh=75)
    [alert] = of_kind(run(track), AlertKind.NO_SIGNAL)
    assert alert.severity == Severity.INFO
    assert alert.started_at == lost_at
    assert alert.ended_at == lost_at + timedelta(minutes=6)
    assert alert.observed == 6


def test_a_gap_of_exactly_5_minutes_is_not_reported() -> None:
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, speed_kmh=75).silence(300).drive(MACHONG, speed_kmh=75)
    assert of_kind(run(track), AlertKind.NO_SIGNAL) == []


def test_no_signal_does_not_apply_outside_transit() -> None:
    track = Track(DONGGUAN).stay(600)
    alerts = run(track, tanker(in_transit=False), now=track.last_at + timedelta(hours=2))
    assert of_kind(alerts, AlertKind.NO_SIGNAL) == []


# -- stationary -------------------------------------------------------------------------------------


def stop_at_xintang(seconds: float) -> Track:
    return Track(HUANGPU, speed_kmh=75).drive(XINTANG, speed_kmh=75).stay(seconds)


def test_stationary_more_than_30_minutes_away_from_planned_places_fires() -> None:
    track = stop_at_xintang(1830)
    arrival = track.fixes[len(track.fixes) - 62]
    [alert] = of_kind(run(track), AlertKind.STATIONARY)
    assert alert.started_at == arrival.recorded_at
    assert alert.ended_at is None
    assert (alert.observed, alert.threshold, alert.unit) == (30.5, 30, "min")
    assert alert.position == pytest.approx(XINTANG)


def test_stationary_exactly_30_minutes_does_not_fire() -> None:
    assert of_kind(run(stop_at_xintang(1800)), AlertKind.STATIONARY) == []


def test_stationary_alert_ends_when_the_vehicle_leaves() -> None:
    track = stop_at_xintang(2400)
    left_at = track.last_at
    track.drive(MACHONG, DONGGUAN, speed_kmh=75)
    [alert] = of_kind(run(track), AlertKind.STATIONARY)
    assert alert.ended_at == left_at


def test_waiting_two_hours_at_a_planned_place_is_not_stationary() -> None:
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, MACHONG, DONGGUAN, speed_kmh=75).stay(7200)
    assert of_kind(run(track), AlertKind.STATIONARY) == []


def test_a_planned_place_covers_1_km_around_it() -> None:
    """A rest area planned 0.9 km from where the tanker waits covers it; 1.1 km away it does not."""
    near = (XINTANG[0] + 0.9 / 111.195, XINTANG[1])
    far = (XINTANG[0] + 1.1 / 111.195, XINTANG[1])
    track = stop_at_xintang(3600)
    assert of_kind(run(track, tanker(planned_places=(HUANGPU, DONGGUAN, near))), AlertKind.STATIONARY) == []
    assert len(of_kind(run(track, tanker(planned_places=(HUANGPU, DONGGUAN, far))), AlertKind.STATIONARY)) == 1


def test_a_shorter_stationary_threshold_fires_earlier() -> None:
    track = stop_at_xintang(660)
    assert of_kind(run(track), AlertKind.STATIONARY) == []
    assert len(of_kind(run(track, stationary_after_s=600), AlertKind.STATIONARY)) == 1


# -- off corridor -----------------------------------------------------------------------------------

XINTANG_NORTH = (23.16, 113.61)
"""A detour from the Xintang exit into Xintang's industrial north, about 5.6 km off the corridor."""


def detour_track() -> Track:
    return (
        Track(HUANGPU, speed_kmh=75)
        .drive(XINTANG, speed_kmh=75)
        .drive(XINTANG_NORTH, XINTANG, speed_kmh=40)
        .drive(MACHONG, DONGGUAN, speed_kmh=75)
    )


def test_a_detour_more_than_5_km_off_the_corridor_fires() -> None:
    track = detour_track()
    distances = [distance_to_polyline_km((f.latitude, f.longitude), GUANGSHEN) for f in track.fixes]
    first_off = next(i for i, d in enumerate(distances) if d > 5)
    [alert] = of_kind(run(track), AlertKind.OFF_CORRIDOR)
    assert alert.started_at == track.fixes[first_off].recorded_at
    assert alert.ended_at is not None
    assert alert.observed == pytest.approx(max(distances), abs=0.01)
    assert (alert.threshold, alert.unit) == (5, "km")


def test_exactly_at_the_corridor_limit_does_not_fire() -> None:
    """With the limit set to the detour's farthest distance, no fix is beyond it; a bit less and one is."""
    track = detour_track()
    farthest = max(distance_to_polyline_km((f.latitude, f.longitude), GUANGSHEN) for f in track.fixes)
    assert of_kind(run(track, off_corridor_km=farthest), AlertKind.OFF_CORRIDOR) == []
    assert len(of_kind(run(track, off_corridor_km=farthest - 0.01), AlertKind.OFF_CORRIDOR)) == 1


def test_a_planned_place_off_the_corridor_is_not_off_it() -> None:
    context = tanker(planned_places=(HUANGPU, DONGGUAN, XINTANG_NORTH))
    track = Track(HUANGPU, speed_kmh=75).drive(XINTANG, speed_kmh=75).drive(XINTANG_NORTH, speed_kmh=40).stay(600)
    farthest = max(distance_to_polyline_km((f.latitude, f.longitude), GUANGSHEN) for f in track.fixes)
    assert farthest > 5
    # every fix beyond 5 km of the corridor is within 1 km of the planned place
    assert of_kind(run(track, context), AlertKind.OFF_CORRIDOR) == []


def test_no_corridor_no_off_corridor_alert() -> None:
    assert of_kind(run(detour_track(), tanker(corridor=())), AlertKind.OFF_CORRIDOR) == []


# -- restricted zones -------------------------------------------------------------------------------


def through_wutong_tunnel() -> Track:
    return Track(LIANTANG, speed_kmh=55).drive(WUTONG_WEST, WUTONG_EAST, YANTIAN_PORT, speed_kmh=55)


def yantian_tanker(**changes: object) -> ShipmentContext:
    return tanker(
        planned_places=(LIANTANG, YANTIAN_PORT), corridor=(LIANTANG, WUTONG_WEST, WUTONG_EAST, YANTIAN_PORT), **changes
    )


def test_a_d_e_tank_in_a_category_d_tunnel_fires() -> None:
    track = through_wutong_tunnel()
    [alert] = of_kind(run(track, yantian_tanker()), AlertKind.RESTRICTED_ZONE)
    assert alert.severity == Severity.CRITICAL
    assert alert.zone == "Wutong Mountain tunnel (Shenzhen Luohu - Yantian)"
    assert (alert.observed, alert.threshold) == ("D", "D/E")
    assert alert.ended_at is not None
    assert "tunnel restriction code D/E (tank)" in alert.message
    assert alert.dedupe_key.endswith("|Wutong Mountain tunnel (Shenzhen Luohu - Yantian)")


def test_d_e_in_packages_may_use_a_category_d_tunnel() -> None:
    """ADR 8.6.4: D/E forbids D and E in bulk or tank, only E otherwise."""
    alerts = run(through_wutong_tunnel(), yantian_tanker(carriage="packages"))
    assert of_kind(alerts, AlertKind.RESTRICTED_ZONE) == []


def test_forbidden_categories_given_directly_win_over_the_code() -> None:
    context = yantian_tanker(carriage="packages", forbidden_tunnel_categories=("D", "E"))
    assert len(of_kind(run(through_wutong_tunnel(), context), AlertKind.RESTRICTED_ZONE)) == 1


def test_a_load_without_tunnel_code_passes_the_tunnel() -> None:
    alerts = run(through_wutong_tunnel(), yantian_tanker(tunnel_restriction_code=None))
    assert of_kind(alerts, AlertKind.RESTRICTED_ZONE) == []


def into_guangzhou_centre() -> Track:
    return Track(HUANGPU, speed_kmh=50).drive(HUANGPU_AVENUE_EAST, TIANHE_WEST, speed_kmh=50)


def test_any_dangerous_goods_vehicle_in_a_banned_zone_fires() -> None:
    context = tanker(tunnel_restriction_code=None, carriage="packages", corridor=())
    track = into_guangzhou_centre()
    [alert] = of_kind(run(track, context), AlertKind.RESTRICTED_ZONE)
    assert alert.zone == "Guangzhou city centre (Yuexiu, Liwan, western Tianhe)"
    assert (alert.observed, alert.threshold, alert.ended_at) == ("ban", None, None)
    assert alert.position[1] < 113.33 <= track.fixes[alert_index(track, alert) - 1].longitude


def alert_index(track: Track, alert: Alert) -> int:
    return next(i for i, fix in enumerate(track.fixes) if fix.recorded_at == alert.started_at)


def test_a_vehicle_without_dangerous_goods_may_enter_the_banned_zone() -> None:
    context = tanker(dangerous_goods=False, corridor=())
    assert of_kind(run(into_guangzhou_centre(), context), AlertKind.RESTRICTED_ZONE) == []


def test_stopping_at_the_edge_of_the_banned_zone_does_not_fire() -> None:
    """Huangpu Avenue up to 113.3305 E, 50 m short of the zone's eastern edge."""
    track = Track(HUANGPU, speed_kmh=50).drive(HUANGPU_AVENUE_EAST, (23.125, 113.3305), speed_kmh=50)
    assert of_kind(run(track, tanker(corridor=())), AlertKind.RESTRICTED_ZONE) == []


def test_each_entry_into_a_zone_is_its_own_alert() -> None:
    track = into_guangzhou_centre().drive(HUANGPU_AVENUE_EAST, speed_kmh=50).drive(TIANHE_WEST, speed_kmh=50)
    alerts = of_kind(run(track, tanker(corridor=())), AlertKind.RESTRICTED_ZONE)
    assert len(alerts) == 2
    assert alerts[0].dedupe_key != alerts[1].dedupe_key


# -- driving time -----------------------------------------------------------------------------------

FOUR_HOURS_OF_FIXES = 480


def eastbound(*legs: tuple[str, float]) -> Track:
    """Rest 30 min at Huangpu, then legs of ``("drive", fixes)`` at 75 km/h, ``("stop", s)``, ``("crawl", fixes)``."""
    track = Track(HUANGPU).stay(1800)
    route = (HUIZHOU, SHANWEI, SHANTOU)
    for kind, amount in legs:
        if kind == "drive":
            track.drive(*route, speed_kmh=75, fixes=int(amount))
        elif kind == "crawl":
            track.drive(*route, speed_kmh=3, fixes=int(amount))
        else:
            track.stay(amount)
    return track


def test_driving_more_than_4_hours_without_a_break_fires() -> None:
    track = eastbound(("drive", FOUR_HOURS_OF_FIXES + 1))
    departed_at = track.fixes[60].recorded_at  # the last fix of the rest at Huangpu
    [alert] = of_kind(run(track), AlertKind.DRIVING_TIME)
    assert alert.started_at == departed_at + timedelta(hours=4, seconds=30)
    assert alert.started_at == track.last_at
    assert (alert.threshold, alert.unit, alert.ended_at) == (4, "h", None)
    assert alert.observed == pytest.approx(4.01, abs=0.01)


def test_driving_exactly_4_hours_does_not_fire() -> None:
    assert of_kind(run(eastbound(("drive", FOUR_HOURS_OF_FIXES))), AlertKind.DRIVING_TIME) == []


def test_a_20_minute_stop_resets_driving_time() -> None:
    track = eastbound(("drive", 240), ("stop", 1200), ("drive", 300))
    assert of_kind(run(track), AlertKind.DRIVING_TIME) == []


def test_a_stop_just_short_of_20_minutes_does_not_reset() -> None:
    track = eastbound(("drive", 240), ("stop", 1170), ("drive", 300))
    [alert] = of_kind(run(track), AlertKind.DRIVING_TIME)
    assert alert.observed == pytest.approx(2 + 19.5 / 60 + 2.5, abs=0.01)


def test_crawling_below_5_kmh_for_20_minutes_is_a_stop() -> None:
    """A jam on the G15 at 3 km/h: 1 km in 20 min, more than 200 m, yet a stop by speed (41 fixes = 20 min)."""
    assert of_kind(run(eastbound(("drive", 240), ("crawl", 41), ("drive", 300))), AlertKind.DRIVING_TIME) == []
    assert len(of_kind(run(eastbound(("drive", 240), ("crawl", 40), ("drive", 300))), AlertKind.DRIVING_TIME)) == 1


def test_a_shorter_driving_limit_fires_earlier() -> None:
    track = eastbound(("drive", 300))
    assert of_kind(run(track), AlertKind.DRIVING_TIME) == []
    [alert] = of_kind(run(track, max_continuous_driving_s=2 * 3600), AlertKind.DRIVING_TIME)
    assert alert.started_at == track.fixes[60 + 241].recorded_at


# -- no waybill -------------------------------------------------------------------------------------


def leaving_huangpu(speed_kmh: float) -> Track:
    return Track(HUANGPU).stay(600).drive(XINTANG, speed_kmh=speed_kmh, fixes=20)


def test_moving_with_dangerous_goods_and_no_waybill_fires() -> None:
    track = leaving_huangpu(30)
    [alert] = of_kind(run(track, tanker(waybill_number=None)), AlertKind.NO_WAYBILL)
    assert alert.severity == Severity.CRITICAL
    assert alert.started_at == track.fixes[21].recorded_at
    assert alert.waybill_number is None
    assert alert.dedupe_key == f"no_waybill|{PLATE}|-|{track.fixes[21].recorded_at.isoformat()}"


def test_creeping_at_5_kmh_is_not_moving() -> None:
    assert of_kind(run(leaving_huangpu(5), tanker(waybill_number=None)), AlertKind.NO_WAYBILL) == []


def test_no_alert_with_a_waybill_or_without_dangerous_goods() -> None:
    track = leaving_huangpu(30)
    assert of_kind(run(track), AlertKind.NO_WAYBILL) == []
    assert of_kind(run(track, tanker(waybill_number=None, dangerous_goods=False)), AlertKind.NO_WAYBILL) == []


def test_each_departure_after_a_stop_is_its_own_alert() -> None:
    track = leaving_huangpu(30).stay(1500).drive(MACHONG, speed_kmh=30, fixes=10)
    alerts = of_kind(run(track, tanker(waybill_number=None)), AlertKind.NO_WAYBILL)
    assert len(alerts) == 2


# -- dedupe, inputs ---------------------------------------------------------------------------------


def test_evaluating_the_same_track_again_gives_the_same_alerts() -> None:
    track = speeding_on_guangshen(over_fixes=4, speed_kmh=95).stay(2400)
    context = tanker(waybill_number=None, planned_places=(HUANGPU,))
    first = run(track, context, now=track.last_at + timedelta(minutes=10))
    second = run(track, context, now=track.last_at + timedelta(minutes=10))
    assert first == second
    assert {a.kind for a in first} >= {AlertKind.SPEEDING, AlertKind.STATIONARY, AlertKind.NO_SIGNAL}
    assert len({a.dedupe_key for a in first}) == len(first)


def test_dedupe_keys_survive_a_longer_and_a_later_window() -> None:
    """Evaluated as fixes arrive: the speeding episode keeps its key while the window moves on."""
    early = speeding_on_guangshen(over_fixes=4, speed_kmh=95)
    [speeding] = of_kind(run(early), AlertKind.SPEEDING)
    later = speeding_on_guangshen(over_fixes=4, speed_kmh=95).drive(MACHONG, XINTANG, HUANGPU, speed_kmh=75)
    window = later.fixes[5:]
    [again] = of_kind(evaluate(tanker(), window, later.last_at, PRD), AlertKind.SPEEDING)
    assert again.dedupe_key == speeding.dedupe_key
    assert speeding.dedupe_key == f"speeding|{PLATE}|{WAYBILL}|{speeding.started_at.isoformat()}"


def test_fixes_are_read_in_time_order_whatever_the_order_given() -> None:
    track = speeding_on_guangshen(over_fixes=3)
    assert evaluate(tanker(), list(reversed(track.fixes)), track.last_at, PRD) == run(track)


def test_stored_vehicle_positions_are_evaluated_as_they_are() -> None:
    track = speeding_on_guangshen(over_fixes=3)
    rows = [
        VehiclePosition(
            plate=PLATE,
            recorded_at=f.recorded_at,
            latitude=f.latitude,
            longitude=f.longitude,
            speed_kmh=f.speed_kmh,
            source="node",
        )
        for f in track.fixes
    ]
    assert evaluate(tanker(), rows, track.last_at, PRD) == run(track)


def test_alerts_encode_to_json() -> None:
    [alert] = of_kind(run(speeding_on_guangshen(over_fixes=3)), AlertKind.SPEEDING)
    decoded = msgspec.json.decode(msgspec.json.encode(alert), type=Alert)
    assert decoded == alert


def test_naive_times_are_refused() -> None:
    track = guangshen_trip()
    with pytest.raises(ValueError, match="no time zone"):
        evaluate(tanker(), track.fixes, track.last_at.replace(tzinfo=None), PRD)


def test_no_fixes_no_alerts() -> None:
    assert evaluate(tanker(), [], datetime.now().astimezone(), PRD) == []


def test_an_unknown_tunnel_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown tunnel restriction code"):
        tanker(tunnel_restriction_code="F")


def test_default_thresholds_know_no_expressway() -> None:
    """Without a configuration every road is an other road."""
    track = Track(HUANGPU, speed_kmh=70).drive(XINTANG, speed_kmh=70)
    [alert] = of_kind(evaluate(tanker(), track.fixes, track.last_at, AlertThresholds()), AlertKind.SPEEDING)
    assert alert.threshold == 60
