"""The offline map of Guangdong: city lookup by division code and the inline SVG (pure, no database)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from api.pages.geo import (
    GEO_FILE,
    GUANGDONG_CITIES,
    BBox,
    Marker,
    Route,
    city_for_division,
    render_map,
)

SVG = "{http://www.w3.org/2000/svg}"
GUANGZHOU_TOWER = (23.1066, 113.3245)
CANTON_CENTRE = (23.13, 113.26)
SHEKOU_PORT = (22.4866, 113.9132)
NANSHA_PORT = (22.6533, 113.6447)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _rings(path_d: str) -> list[list[tuple[float, float]]]:
    rings = []
    for part in re.findall(r"M([^Z]*)Z", path_d):
        points = re.split(r"[L ]", part)
        rings.append([(float(x), float(y)) for x, y in (point.split(",") for point in points)])
    return rings


def _inside(rings: list[list[tuple[float, float]]], x: float, y: float) -> bool:
    """Even-odd rule over all rings, as the SVG path is filled."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _city_path(root: ET.Element, code: str) -> str:
    for path in root.iter(f"{SVG}path"):
        if path.get("data-adcode") == code:
            return path.get("d", "")
    raise AssertionError(f"no path for {code}")


def _marker_circles(root: ET.Element) -> list[ET.Element]:
    markers = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "markers")
    return list(markers.iter(f"{SVG}circle"))


def test_a_district_code_maps_to_its_city() -> None:
    """Nanshan district (440305) is in Shenzhen."""
    city = city_for_division("440305")
    assert city is not None
    assert (city.code, city.name_zh, city.name_en) == ("440300", "深圳市", "Shenzhen")


@pytest.mark.parametrize(
    ("code", "name_en"),
    [("441900", "Dongguan"), ("442000", "Zhongshan"), ("440100", "Guangzhou")],
)
def test_cities_without_districts_map_to_themselves(code: str, name_en: str) -> None:
    """Dongguan and Zhongshan have towns but no districts: their own code is the city, as any city's is."""
    city = city_for_division(code)
    assert city is not None
    assert city.code == code
    assert city.name_en == name_en


@pytest.mark.parametrize(
    "code", ["440000", "110105", "449900", "4403", "44030", "4403051", "44030x", "４４０３０５", ""]
)
def test_codes_outside_guangdong_or_malformed_have_no_city(code: str) -> None:
    """The province itself, Beijing, an unused code and malformed codes give None."""
    assert city_for_division(code) is None


def test_the_shipped_boundaries_are_the_21_cities() -> None:
    """The GeoJSON file has exactly the cities of GUANGDONG_CITIES, with names and centroids."""
    collection = json.loads(GEO_FILE.read_text(encoding="utf-8"))
    properties = [feature["properties"] for feature in collection["features"]]
    assert len(GUANGDONG_CITIES) == 21
    assert [(p["adcode"], p["name"], p["name_en"]) for p in properties] == [
        (c.code, c.name_zh, c.name_en) for c in GUANGDONG_CITIES
    ]
    for p in properties:
        lon, lat = p["centroid"]
        assert 109.6 < lon < 117.4
        assert 20.2 < lat < 25.6


def test_the_province_map_draws_21_named_city_paths() -> None:
    """Every city is one path, with its code and its name as tooltip and label."""
    root = _parse(render_map(markers=[]))
    paths = [p for p in root.iter(f"{SVG}path") if p.get("class") == "city"]
    assert len(paths) == 21
    assert {p.get("data-adcode") for p in paths} == {c.code for c in GUANGDONG_CITIES}
    labels = {t.text for t in root.iter(f"{SVG}text")}
    assert labels == {c.name_zh for c in GUANGDONG_CITIES}


def test_city_names_follow_the_language() -> None:
    """In English the labels are the pinyin names."""
    root = _parse(render_map(markers=[], language="en"))
    assert {t.text for t in root.iter(f"{SVG}text")} == {c.name_en for c in GUANGDONG_CITIES}
    assert root.get("aria-label") == "Map of Guangdong Province"


def test_a_marker_in_guangzhou_lands_inside_guangzhou() -> None:
    """A position in central Guangzhou is drawn inside Guangzhou's polygon and outside Foshan's."""
    root = _parse(render_map(markers=[Marker(lat=CANTON_CENTRE[0], lon=CANTON_CENTRE[1], label="粤A12345")]))
    (circle,) = _marker_circles(root)
    x, y = float(circle.get("cx", "")), float(circle.get("cy", ""))
    assert _inside(_rings(_city_path(root, "440100")), x, y)
    assert not _inside(_rings(_city_path(root, "440600")), x, y)
    assert not _inside(_rings(_city_path(root, "440300")), x, y)


def test_labels_and_attributes_are_escaped() -> None:
    """Markup in labels, classes, links and data values comes out as text."""
    marker = Marker(
        lat=23.13,
        lon=113.26,
        label='<script>alert("x")</script> & co',
        css_class='marker alert" onclick="x',
        href="/waybills/GD1?a=1&b=<2>",
        data={"waybill": '"><img src=x>'},
    )
    route = Route(points=(CANTON_CENTRE, SHEKOU_PORT), label="<b>planned</b>")
    svg = str(render_map(markers=[marker], routes=[route], title="Map <&>"))
    assert "<script>" not in svg
    assert "<img" not in svg
    assert "<b>" not in svg
    assert "onclick=" not in svg.replace("onclick=&#34;", "")
    root = _parse(svg)  # still well-formed XML
    assert root.get("aria-label") == "Map <&>"
    link = next(root.iter(f"{SVG}a"))
    assert link.get("href") == "/waybills/GD1?a=1&b=<2>"
    group = link[0]
    assert group.get("class") == 'marker alert" onclick="x'
    assert group.get("data-waybill") == '"><img src=x>'
    titles = [t.text for t in group.iter(f"{SVG}title")]
    assert titles == ['<script>alert("x")</script> & co']


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,x"]
)
def test_a_marker_cannot_link_to_script(href: str) -> None:
    """Only relative and http(s) links are written."""
    with pytest.raises(ValueError, match="refusing to link"):
        render_map(markers=[Marker(lat=23.1, lon=113.3, label="x", href=href)])


def test_data_attribute_names_are_checked() -> None:
    """A data key that would break out of the attribute name is refused."""
    with pytest.raises(ValueError, match="data attribute"):
        render_map(markers=[Marker(lat=23.1, lon=113.3, label="x", data={'a="b': "c"})])


def test_the_svg_is_accessible_and_deterministic() -> None:
    """role=img, an accessible name and a title; the same input gives the same bytes."""
    markers = [Marker(lat=GUANGZHOU_TOWER[0], lon=GUANGZHOU_TOWER[1], label="广州塔", css_class="marker ok")]
    first = render_map(markers=markers)
    assert first == render_map(markers=markers)
    root = _parse(first)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "广东省地图"
    assert root.find(f"{SVG}title") is not None
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("960", "640", "0 0 960 640")


def test_coordinates_are_rounded_to_a_tenth_of_a_pixel() -> None:
    """No long decimals: the whole province fits in about 100 KB."""
    svg = str(render_map(markers=[]))
    assert not re.search(r"\d\.\d\d", svg)
    assert len(svg.encode()) < 120_000


def test_focus_zooms_to_a_shipment() -> None:
    """Focused on a Nansha–Shekou trip, the two ends are far apart and inside the view; far cities are left out."""
    trip = (NANSHA_PORT, SHEKOU_PORT)
    markers = [Marker(lat=lat, lon=lon, label=f"{lat},{lon}") for lat, lon in trip]
    province = _parse(render_map(markers=markers))
    focused = _parse(render_map(markers=markers, focus=BBox.around(trip)))

    def spread(root: ET.Element) -> float:
        a, b = _marker_circles(root)
        return abs(float(a.get("cx", "")) - float(b.get("cx", "")))

    assert spread(focused) > 5 * spread(province)
    for circle in _marker_circles(focused):
        assert 0 < float(circle.get("cx", "")) < 960
        assert 0 < float(circle.get("cy", "")) < 640
    drawn = {p.get("data-adcode") for p in focused.iter(f"{SVG}path")}
    assert {"440300", "440100"} <= drawn
    assert "445100" not in drawn  # Chaozhou is 350 km away


def test_markers_outside_the_view_are_dropped() -> None:
    """A vehicle outside the focus is not drawn (and not clamped to the edge)."""
    shenzhen_only = BBox(south=22.45, west=113.75, north=22.85, east=114.6)
    markers = [
        Marker(lat=SHEKOU_PORT[0], lon=SHEKOU_PORT[1], label="Shekou"),
        Marker(lat=24.29, lon=116.12, label="Meizhou"),
    ]
    root = _parse(render_map(markers=markers, focus=shenzhen_only))
    titles = [c.findtext(f"{SVG}title") for c in root.iter(f"{SVG}g") if c.get("class") == "marker"]
    assert titles == ["Shekou"]


def test_routes_are_polylines_planned_dashed_actual_solid() -> None:
    """The planned route is dashed, the GNSS track solid, each with its class."""
    planned = Route(points=(NANSHA_PORT, SHEKOU_PORT), css_class="route planned", dashed=True)
    actual = Route(points=(NANSHA_PORT, (22.58, 113.8), SHEKOU_PORT), css_class="route actual")
    root = _parse(render_map(markers=[], routes=[planned, actual]))
    lines = list(root.iter(f"{SVG}polyline"))
    assert [line.get("class") for line in lines] == ["route planned", "route actual"]
    assert lines[0].get("stroke-dasharray") is not None
    assert lines[1].get("stroke-dasharray") is None
    assert len(lines[1].get("points", "").split()) == 3


def test_a_single_position_focus_is_centred_on_it() -> None:
    """Focusing on one point widens to about 2 km around it instead of dividing by zero."""
    tower = Marker(lat=GUANGZHOU_TOWER[0], lon=GUANGZHOU_TOWER[1], label="广州塔")
    root = _parse(render_map(markers=[tower], focus=BBox.around([GUANGZHOU_TOWER])))
    (circle,) = _marker_circles(root)
    assert (circle.get("cx"), circle.get("cy")) == ("480", "320")
    drawn = {p.get("data-adcode") for p in root.iter(f"{SVG}path")}
    assert "440100" in drawn
    assert "445100" not in drawn


def test_a_box_must_be_the_right_way_round() -> None:
    """South above north is refused, and an empty list of points has no box."""
    with pytest.raises(ValueError, match="not a bounding box"):
        BBox(south=23.5, west=113.0, north=22.5, east=114.0)
    with pytest.raises(ValueError, match="at least one point"):
        BBox.around([])


def test_focus_may_be_a_plain_tuple_south_west_north_east() -> None:
    """A ``(south, west, north, east)`` tuple draws the same map as the BBox."""
    box = BBox.around((NANSHA_PORT, SHEKOU_PORT))
    as_tuple = (box.south, box.west, box.north, box.east)
    assert render_map(markers=[], focus=as_tuple) == render_map(markers=[], focus=box)
