"""Offline maps of Guangdong for the monitoring pages: inline SVG, no tiles, no JavaScript, no network.

The boundaries of the province's 21 prefecture-level cities ship in
``web/static/geo/guangdong_cities.json`` (China-sourced, CGCS2000 = WGS-84 at map scale; its README
says where they come from and how they were derived). Positions from GNSS are WGS-84 and are drawn
as they are: no GCJ-02 shift anywhere.

The projection is equirectangular with the longitude scaled by cos(latitude) at the middle of the
view, which is accurate to well under a pixel over a province. The output is deterministic (same
input, same bytes), every text and attribute value is escaped, coordinates are rounded to 0.1 px,
and the SVG carries ``role="img"`` and an ``aria-label``. Because ``role="img"`` hides the SVG's
children from assistive technology, a page that links markers must also list them as text (a table).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec
from markupsafe import Markup, escape

__all__ = (
    "GEO_FILE",
    "GUANGDONG_CITIES",
    "BBox",
    "City",
    "MapLanguage",
    "Marker",
    "Route",
    "city_for_division",
    "render_map",
)

MapLanguage = Literal["zh", "en"]

GEO_FILE = Path(__file__).resolve().parents[2] / "web" / "static" / "geo" / "guangdong_cities.json"
"""City boundaries of Guangdong, one GeoJSON feature per city (built by ``tools/build_guangdong_map.py``)."""


class City(msgspec.Struct, frozen=True, kw_only=True):
    """A prefecture-level city of Guangdong."""

    code: str
    """Six-digit administrative division code (GB/T 2260), e.g. ``"440300"``."""
    name_zh: str
    """Official Chinese name, e.g. ``"深圳市"``."""
    name_en: str
    """Pinyin name without the administrative suffix, e.g. ``"Shenzhen"``."""

    def name(self, language: MapLanguage) -> str:
        """The city's name in ``language``."""
        return self.name_zh if language == "zh" else self.name_en


GUANGDONG_CITIES: tuple[City, ...] = (
    City(code="440100", name_zh="广州市", name_en="Guangzhou"),
    City(code="440200", name_zh="韶关市", name_en="Shaoguan"),
    City(code="440300", name_zh="深圳市", name_en="Shenzhen"),
    City(code="440400", name_zh="珠海市", name_en="Zhuhai"),
    City(code="440500", name_zh="汕头市", name_en="Shantou"),
    City(code="440600", name_zh="佛山市", name_en="Foshan"),
    City(code="440700", name_zh="江门市", name_en="Jiangmen"),
    City(code="440800", name_zh="湛江市", name_en="Zhanjiang"),
    City(code="440900", name_zh="茂名市", name_en="Maoming"),
    City(code="441200", name_zh="肇庆市", name_en="Zhaoqing"),
    City(code="441300", name_zh="惠州市", name_en="Huizhou"),
    City(code="441400", name_zh="梅州市", name_en="Meizhou"),
    City(code="441500", name_zh="汕尾市", name_en="Shanwei"),
    City(code="441600", name_zh="河源市", name_en="Heyuan"),
    City(code="441700", name_zh="阳江市", name_en="Yangjiang"),
    City(code="441800", name_zh="清远市", name_en="Qingyuan"),
    City(code="441900", name_zh="东莞市", name_en="Dongguan"),
    City(code="442000", name_zh="中山市", name_en="Zhongshan"),
    City(code="445100", name_zh="潮州市", name_en="Chaozhou"),
    City(code="445200", name_zh="揭阳市", name_en="Jieyang"),
    City(code="445300", name_zh="云浮市", name_en="Yunfu"),
)
"""The 21 prefecture-level cities of Guangdong, in division-code order."""

_CITY_BY_CODE = {city.code: city for city in GUANGDONG_CITIES}


def city_for_division(code: str) -> City | None:
    """The Guangdong city that a six-digit division code belongs to, or None.

    A district or county code (``"440305"``, Nanshan) maps to its city (``"440300"``) through its first
    four digits; Dongguan (``"441900"``) and Zhongshan (``"442000"``) have no districts and map to
    themselves. The province's own code, codes outside Guangdong and malformed codes give None.
    """
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    return _CITY_BY_CODE.get(code[:4] + "00")


class BBox(msgspec.Struct, frozen=True, kw_only=True):
    """A latitude/longitude box in degrees (WGS-84)."""

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.south <= self.north <= 90.0 and -180.0 <= self.west <= self.east <= 180.0):
            raise ValueError(f"not a bounding box: {self!r}")

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> BBox:
        """The smallest box holding ``(lat, lon)`` points, e.g. a shipment's route and positions.

        Raises:
            ValueError: when there are no points.
        """
        latitudes: list[float] = []
        longitudes: list[float] = []
        for lat, lon in points:
            latitudes.append(lat)
            longitudes.append(lon)
        if not latitudes:
            raise ValueError("a bounding box needs at least one point")
        return cls(south=min(latitudes), west=min(longitudes), north=max(latitudes), east=max(longitudes))


class Marker(msgspec.Struct, frozen=True, kw_only=True):
    """A point on the map: a vehicle's last position, a terminal, an alert."""

    lat: float
    lon: float
    label: str
    """Shown as the marker's tooltip (an SVG ``<title>``)."""
    css_class: str = "marker"
    """Classes of the marker's group, e.g. ``"marker alert"`` or ``"marker ok"``."""
    href: str | None = None
    """Where the marker links to: a relative URL or an http(s) URL."""
    data: dict[str, str] = msgspec.field(default_factory=dict)
    """``data-*`` attributes (keys without the ``data-`` prefix: lowercase letters, digits, hyphens)."""


class Route(msgspec.Struct, frozen=True, kw_only=True):
    """A polyline: a planned route (usually dashed) or an actual GNSS track (solid)."""

    points: Sequence[tuple[float, float]]
    """``(lat, lon)`` points in order."""
    css_class: str = "route"
    """Classes of the polyline, e.g. ``"route planned"`` or ``"route actual"``."""
    dashed: bool = False
    label: str | None = None
    """Tooltip of the line, if any."""


# --- boundary data -----------------------------------------------------------------------------------------


class _Properties(msgspec.Struct, frozen=True):
    adcode: str
    name: str
    name_en: str
    centroid: tuple[float, float]


class _Geometry(msgspec.Struct, frozen=True):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[tuple[float, float]]]]


class _Feature(msgspec.Struct, frozen=True):
    properties: _Properties
    geometry: _Geometry


class _Collection(msgspec.Struct, frozen=True):
    bbox: tuple[float, float, float, float]
    features: list[_Feature]


class _CityShape(msgspec.Struct, frozen=True, kw_only=True):
    city: City
    polygons: list[list[list[tuple[float, float]]]]
    """Polygons of rings of ``(lon, lat)`` points, as in GeoJSON."""
    label_at: tuple[float, float]
    """``(lon, lat)`` where the name is written."""
    bbox: BBox


@functools.cache
def _city_shapes() -> tuple[tuple[_CityShape, ...], BBox]:
    collection = msgspec.json.decode(GEO_FILE.read_bytes(), type=_Collection)
    shapes = []
    for feature in collection.features:
        city = _CITY_BY_CODE[feature.properties.adcode]
        points = [point for polygon in feature.geometry.coordinates for ring in polygon for point in ring]
        shapes.append(
            _CityShape(
                city=city,
                polygons=feature.geometry.coordinates,
                label_at=feature.properties.centroid,
                bbox=BBox.around((lat, lon) for lon, lat in points),
            )
        )
    shapes.sort(key=lambda s: s.city.code)
    west, south, east, north = collection.bbox
    return tuple(shapes), BBox(south=south, west=west, north=north, east=east)


# --- projection and output -----------------------------------------------------------------------------------

_PADDING_PX = 12.0
_FOCUS_MARGIN = 0.15
"""A focus box grows by this share of its size on every side, so that markers are not on the edge."""
_FOCUS_MIN_SPAN_DEG = 0.02
"""Smallest focus (about 2 km), so that a single position does not zoom in without end."""
_MARKER_RADIUS_PX = 6
_DATA_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TITLES: dict[MapLanguage, str] = {"zh": "广东省地图", "en": "Map of Guangdong Province"}


class _Projection:
    """Equirectangular projection of a box onto the drawing, centred, keeping the aspect ratio."""

    def __init__(self, box: BBox, width: int, height: int) -> None:
        self.view = box
        self.width = width
        self.height = height
        self.west = box.west
        self.north = box.north
        self.cos_lat = math.cos(math.radians((box.south + box.north) / 2))
        span_x = max((box.east - box.west) * self.cos_lat, 1e-9)
        span_y = max(box.north - box.south, 1e-9)
        self.scale = min((width - 2 * _PADDING_PX) / span_x, (height - 2 * _PADDING_PX) / span_y)
        self.offset_x = (width - span_x * self.scale) / 2
        self.offset_y = (height - span_y * self.scale) / 2

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            self.offset_x + (lon - self.west) * self.cos_lat * self.scale,
            self.offset_y + (self.north - lat) * self.scale,
        )

    def shows(self, x: float, y: float) -> bool:
        return 0 <= x <= self.width and 0 <= y <= self.height

    def overlaps(self, box: BBox) -> bool:
        left, top = self.xy(box.north, box.west)
        right, bottom = self.xy(box.south, box.east)
        return right >= 0 and left <= self.width and bottom >= 0 and top <= self.height


def _num(value: float) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _pair(x: float, y: float) -> str:
    return f"{_num(x)},{_num(y)}"


def _ring_path(projection: _Projection, ring: Sequence[tuple[float, float]]) -> str:
    pairs: list[str] = []
    for lon, lat in ring:
        pair = _pair(*projection.xy(lat, lon))
        if not pairs or pairs[-1] != pair:
            pairs.append(pair)
    if len(pairs) > 1 and pairs[-1] == pairs[0]:
        pairs.pop()  # Z closes the ring
    if len(pairs) < 3:
        return ""
    return f"M{pairs[0]}L{' '.join(pairs[1:])}Z"


def _safe_href(href: str) -> str:
    if urlsplit(href).scheme.lower() not in ("", "http", "https"):
        raise ValueError(f"refusing to link a marker to {href!r}: only relative and http(s) URLs")
    return href


def _data_attributes(data: dict[str, str]) -> str:
    parts = []
    for key in sorted(data):
        if not _DATA_KEY.fullmatch(key):
            raise ValueError(f"not a data attribute name: {key!r}")
        parts.append(f' data-{key}="{escape(data[key])}"')
    return "".join(parts)


def _view_box(focus: BBox | tuple[float, float, float, float] | None) -> BBox:
    if focus is None:
        return _city_shapes()[1]
    if not isinstance(focus, BBox):
        south, west, north, east = focus
        focus = BBox(south=south, west=west, north=north, east=east)
    lat_span = max(focus.north - focus.south, _FOCUS_MIN_SPAN_DEG)
    cos_lat = math.cos(math.radians((focus.south + focus.north) / 2))
    lon_span = max(focus.east - focus.west, _FOCUS_MIN_SPAN_DEG / cos_lat)
    mid_lat = (focus.south + focus.north) / 2
    mid_lon = (focus.west + focus.east) / 2
    half_lat = lat_span * (0.5 + _FOCUS_MARGIN)
    half_lon = lon_span * (0.5 + _FOCUS_MARGIN)
    return BBox(
        south=max(mid_lat - half_lat, -90.0),
        west=max(mid_lon - half_lon, -180.0),
        north=min(mid_lat + half_lat, 90.0),
        east=min(mid_lon + half_lon, 180.0),
    )


@functools.lru_cache(maxsize=64)
def _cities_svg(view: BBox, width: int, height: int, language: MapLanguage) -> str:
    """The city outlines and names of a view: the same for every request of that view, so drawn once."""
    shapes, _ = _city_shapes()
    projection = _Projection(view, width, height)
    out = ['<g class="cities" fill="#f4f2ec" stroke="#8c98a4" stroke-width="0.8" stroke-linejoin="round">']
    labels: list[str] = []
    for shape in shapes:
        if not projection.overlaps(shape.bbox):
            continue
        path = "".join(_ring_path(projection, ring) for polygon in shape.polygons for ring in polygon)
        city_name = escape(shape.city.name(language))
        out.append(
            f'<path class="city" data-adcode="{shape.city.code}" fill-rule="evenodd" d="{path}">'
            f"<title>{city_name}</title></path>"
        )
        x, y = projection.xy(shape.label_at[1], shape.label_at[0])
        if projection.shows(x, y):
            labels.append(f'<text x="{_num(x)}" y="{_num(y)}">{city_name}</text>')
    out.append("</g>")
    out.append(
        '<g class="city-labels" font-family="sans-serif" font-size="12" fill="#4d5863" text-anchor="middle"'
        ' dominant-baseline="middle" pointer-events="none">'
    )
    out.extend(labels)
    out.append("</g>")

    return "".join(out)


def render_map(
    *,
    markers: Sequence[Marker],
    routes: Sequence[Route] = (),
    width: int = 960,
    height: int = 640,
    language: MapLanguage = "zh",
    focus: BBox | tuple[float, float, float, float] | None = None,
    title: str | None = None,
) -> Markup:
    """Draw Guangdong's cities, routes and markers as an inline SVG.

    Args:
        markers: points drawn over everything else, in the given order. A marker whose position
            falls outside the drawing is dropped (not clamped to the edge, which would show a
            vehicle where it is not).
        routes: polylines drawn under the markers; the drawing clips their parts outside the view.
        width: width of the drawing in px.
        height: height of the drawing in px.
        language: language of the city names and of the default title.
        focus: the box to show, e.g. ``BBox.around(points of a shipment)`` or a tuple
            ``(south, west, north, east)`` in degrees; it is widened by 15% on every side (and to at
            least about 2 km). None shows the whole province.
        title: accessible name of the map; defaults to "广东省地图" / "Map of Guangdong Province".

    Returns:
        The ``<svg>`` element, safe to insert into a Jinja template as it is.

    Raises:
        ValueError: for a size that is not positive, a focus that is not a box, a marker link that is not a relative or
            http(s) URL, or a ``data-*`` key that is not lowercase letters, digits and hyphens.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"the map needs a positive size, not {width}x{height}")
    projection = _Projection(_view_box(focus), width, height)
    name = escape(title if title is not None else _TITLES[language])

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="{name}">',
        f"<title>{name}</title>",
    ]
    out.append(_cities_svg(projection.view, width, height, language))

    out.append(
        '<g class="routes" fill="none" stroke="#1f6feb" stroke-width="2.5"'
        ' stroke-linecap="round" stroke-linejoin="round">'
    )
    for route in routes:
        pairs: list[str] = []
        for lat, lon in route.points:
            pair = _pair(*projection.xy(lat, lon))
            if not pairs or pairs[-1] != pair:
                pairs.append(pair)
        if len(pairs) < 2:
            continue
        dash = ' stroke-dasharray="7 5"' if route.dashed else ""
        tooltip = f"<title>{escape(route.label)}</title>" if route.label is not None else ""
        out.append(f'<polyline class="{escape(route.css_class)}"{dash} points="{" ".join(pairs)}">{tooltip}</polyline>')
    out.append("</g>")

    out.append('<g class="markers" fill="#0b7a75" stroke="#ffffff" stroke-width="1.5">')
    for marker in markers:
        x, y = projection.xy(marker.lat, marker.lon)
        if not projection.shows(x, y):
            continue
        element = (
            f'<g class="{escape(marker.css_class)}"{_data_attributes(marker.data)}>'
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_MARKER_RADIUS_PX}"/>'
            f"<title>{escape(marker.label)}</title></g>"
        )
        if marker.href is not None:
            element = f'<a href="{escape(_safe_href(marker.href))}">{element}</a>'
        out.append(element)
    out.append("</g></svg>")
    return Markup("".join(out))
