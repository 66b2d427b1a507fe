"""Great-circle distance, distance to a polyline and point in polygon, on Pearl River Delta places."""

from __future__ import annotations

import math

import pytest

from monitoring.geo import EARTH_RADIUS_KM, distance_to_polyline_km, haversine_km, point_in_polygon

HUANGPU = (23.10, 113.50)
DONGGUAN = (23.02, 113.75)
CANTON_TOWER = (23.1066, 113.3245)
PING_AN_CENTRE = (22.5333, 114.0550)
GUANGZHOU_CENTRE = ((23.100, 113.240), (23.100, 113.330), (23.150, 113.330), (23.150, 113.240))


def law_of_cosines_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    cos_angle = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return EARTH_RADIUS_KM * math.acos(cos_angle)


def test_one_degree_of_longitude_on_the_equator_is_111_km() -> None:
    assert haversine_km((0.0, 0.0), (0.0, 1.0)) == pytest.approx(111.195, abs=0.001)


def test_haversine_agrees_with_the_spherical_law_of_cosines() -> None:
    """Canton Tower to Shenzhen's Ping An centre, about 100 km."""
    distance = haversine_km(CANTON_TOWER, PING_AN_CENTRE)
    assert distance == pytest.approx(law_of_cosines_km(CANTON_TOWER, PING_AN_CENTRE), rel=1e-9)
    assert 95 < distance < 110


def test_haversine_is_symmetric_and_zero_on_the_same_point() -> None:
    assert haversine_km(HUANGPU, DONGGUAN) == pytest.approx(haversine_km(DONGGUAN, HUANGPU))
    assert haversine_km(HUANGPU, HUANGPU) == 0.0
    assert haversine_km(HUANGPU, DONGGUAN) == pytest.approx(27.1, abs=0.1)


def test_a_point_on_the_polyline_is_at_distance_zero() -> None:
    midpoint = ((HUANGPU[0] + DONGGUAN[0]) / 2, (HUANGPU[1] + DONGGUAN[1]) / 2)
    assert distance_to_polyline_km(midpoint, [HUANGPU, DONGGUAN]) == pytest.approx(0.0, abs=1e-6)
    assert distance_to_polyline_km(DONGGUAN, [HUANGPU, DONGGUAN]) == pytest.approx(0.0, abs=1e-9)


def test_distance_across_a_segment_is_perpendicular() -> None:
    """0.01° north of an east-west segment is 1.11 km, whatever the longitude along it."""
    segment = [(23.0, 113.5), (23.0, 113.8)]
    assert distance_to_polyline_km((23.01, 113.65), segment) == pytest.approx(1.112, rel=1e-3)


def test_beyond_the_end_the_distance_is_to_the_end() -> None:
    segment = [(23.0, 113.5), (23.0, 113.8)]
    beyond = (23.0, 113.9)
    assert distance_to_polyline_km(beyond, segment) == pytest.approx(haversine_km(beyond, (23.0, 113.8)), rel=1e-3)


def test_the_nearest_segment_of_a_polyline_counts() -> None:
    polyline = [(23.0, 113.5), (23.0, 113.8), (23.3, 113.8)]
    assert distance_to_polyline_km((23.15, 113.81), polyline) == pytest.approx(1.02, rel=0.01)


def test_a_single_vertex_polyline_is_a_point_and_an_empty_one_is_refused() -> None:
    assert distance_to_polyline_km(HUANGPU, [DONGGUAN]) == pytest.approx(haversine_km(HUANGPU, DONGGUAN))
    with pytest.raises(ValueError, match="at least one vertex"):
        distance_to_polyline_km(HUANGPU, [])


def test_point_in_polygon_inside_and_outside_guangzhou_centre() -> None:
    assert point_in_polygon((23.125, 113.27), GUANGZHOU_CENTRE)
    assert not point_in_polygon(HUANGPU, GUANGZHOU_CENTRE)
    assert not point_in_polygon((23.16, 113.27), GUANGZHOU_CENTRE)


def test_point_in_polygon_accepts_a_closed_ring() -> None:
    closed = (*GUANGZHOU_CENTRE, GUANGZHOU_CENTRE[0])
    assert point_in_polygon((23.125, 113.27), closed)
    assert not point_in_polygon(HUANGPU, closed)


def test_point_in_a_concave_polygon_notch_is_outside() -> None:
    """An L shape: the notch at its north-east is outside."""
    l_shape = [(23.0, 113.0), (23.0, 113.2), (23.1, 113.2), (23.1, 113.1), (23.2, 113.1), (23.2, 113.0)]
    assert point_in_polygon((23.05, 113.15), l_shape)
    assert point_in_polygon((23.15, 113.05), l_shape)
    assert not point_in_polygon((23.15, 113.15), l_shape)
