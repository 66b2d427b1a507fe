"""The thresholds, zones and expressways, and the Pearl River Delta sample."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from monitoring import AlertThresholds, RestrictedZone, load_thresholds, prd_thresholds
from monitoring.config import DATA_DIR
from tests.monitoring.tracks import DONGGUAN, HUANGPU, KAICHUANG_NORTH, LIANTANG


def test_defaults_are_those_of_the_issue() -> None:
    limits = AlertThresholds()
    assert (limits.expressway_speed_limit_kmh, limits.other_road_speed_limit_kmh) == (80, 60)
    assert (limits.speeding_min_duration_s, limits.speeding_min_fixes) == (60, 2)
    assert limits.no_signal_after_s == 300
    assert (limits.stationary_after_s, limits.stationary_radius_m, limits.planned_place_radius_km) == (1800, 200, 1)
    assert limits.off_corridor_km == 5
    assert (limits.max_continuous_driving_s, limits.min_break_s, limits.stop_speed_kmh) == (4 * 3600, 1200, 5)


def test_the_prd_sample_has_two_expressways_a_tunnel_and_a_banned_zone() -> None:
    limits = prd_thresholds()
    assert [e.name[:3] for e in limits.expressways] == ["G4 ", "G15"]
    assert [(z.tunnel_category, z.ban) for z in limits.restricted_zones] == [("D", False), (None, True)]
    assert limits.expressway_speed_limit_kmh == 80


def test_the_guangshen_carries_huangpu_and_dongguan_but_not_a_city_road() -> None:
    limits = prd_thresholds()
    assert limits.on_expressway(HUANGPU)
    assert limits.on_expressway(DONGGUAN)
    assert not limits.on_expressway(KAICHUANG_NORTH)
    assert not limits.on_expressway(LIANTANG)
    assert limits.speed_limit_kmh(DONGGUAN) == 80
    assert limits.speed_limit_kmh(KAICHUANG_NORTH) == 60


def test_a_zone_is_either_a_tunnel_or_banned() -> None:
    square = ((23.0, 113.0), (23.0, 113.1), (23.1, 113.1))
    with pytest.raises(ValueError, match="either a tunnel_category or ban"):
        RestrictedZone(name="both", polygon=square, tunnel_category="D", ban=True)
    with pytest.raises(ValueError, match="either a tunnel_category or ban"):
        RestrictedZone(name="neither", polygon=square)


def test_a_configuration_file_overrides_defaults_and_refuses_unknown_fields(tmp_path: Path) -> None:
    path = DATA_DIR / "prd_zones.json"
    document = msgspec.json.decode(path.read_bytes())
    document["other_road_speed_limit_kmh"] = 50
    custom = tmp_path / "zones.json"
    custom.write_bytes(msgspec.json.encode(document))
    assert load_thresholds(custom).other_road_speed_limit_kmh == 50

    custom.write_bytes(msgspec.json.encode({"speed_limit": 70}))
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        load_thresholds(custom)


def test_a_banned_zone_and_a_tunnel_zone_in_json() -> None:
    with pytest.raises(msgspec.ValidationError, match="either a tunnel_category or ban"):
        msgspec.json.decode(
            b'{"restricted_zones": [{"name": "x", "polygon": [[23, 113], [23, 114], [24, 114]], "ban": false}]}',
            type=AlertThresholds,
        )
