"""Write ``monitoring/data/demo_routes.json``: the demo's dangerous-goods routes, densified.

Usage::

    uv run python tools/make_demo_routes.py

Each route below is a list of hand-authored waypoints at towns, interchanges, bridges and tunnel
portals along real Pearl River Delta roads, each with the road that leads to it. Positions were read
off a map and rounded to about 0.005° (500 m); between two waypoints the road is taken as straight,
so a polyline stays within roughly 1–2 km of the real carriageway. Each leg between waypoints is cut
into equal steps of at most ``STEP_KM``, and the route's expressway stretches are listed as index
ranges of the points, so that the demo's monitor can treat them as expressways (80 km/h limit).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "monitoring" / "data" / "demo_routes.json"
STEP_KM = 0.8
EARTH_RADIUS_KM = 6371.0088

# (name, latitude, longitude, road leading here, expressway?)
Waypoint = tuple[str, float, float, str, bool]

ROUTES: dict[str, dict[str, Any]] = {
    "daya_bay_buji": {
        "name": "惠州大亚湾石化区 → 深圳布吉 (惠澳大道, G15 沈海高速, 水官高速)",
        "waypoints": [
            ("惠州大亚湾石化区 (石化大道)", 22.7315, 114.5389, "", False),
            ("大亚湾 澳头", 22.7450, 114.5050, "石化大道", False),
            ("惠阳 淡水", 22.7760, 114.4550, "惠澳大道", False),
            ("G15 淡水立交", 22.7900, 114.4300, "惠澳大道", False),
            ("G15 新圩", 22.7700, 114.3700, "G15 沈海高速 (深汕段)", True),
            ("G15 坪地", 22.7750, 114.3100, "G15 沈海高速 (深汕段)", True),
            ("G15 龙岗", 22.7250, 114.2650, "G15 沈海高速 (深汕段)", True),
            ("荷坳立交", 22.6650, 114.2150, "G15 沈海高速 (深汕段)", True),
            ("水官高速 布吉出口", 22.6250, 114.1350, "S28 水官高速", True),
            ("深圳布吉油库", 22.6050, 114.1200, "布吉路", False),
        ],
    },
    "pinghu_yantian": {
        "name": "深圳平湖 → 盐田港 (清平高速, 罗沙路, 梧桐山隧道)",
        "waypoints": [
            ("深圳平湖物流园", 22.6900, 114.1250, "", False),
            ("清平高速 布吉", 22.6100, 114.1180, "清平高速", True),
            ("清水河", 22.5750, 114.1150, "清平高速", True),
            ("莲塘", 22.5600, 114.1600, "罗沙路", False),
            ("梧桐山隧道 西口", 22.5720, 114.1850, "罗沙路", False),
            ("梧桐山隧道 东口", 22.5900, 114.2150, "梧桐山隧道", False),
            ("盐田港 北门", 22.5850, 114.2650, "深盐路", False),
        ],
    },
    "huangpu_changan_g4": {
        "name": "广州黄埔 → 东莞长安 (G4 京港澳高速 广深段)",
        "waypoints": [
            ("广州黄埔化工仓储区", 23.0850, 113.4750, "", False),
            ("G4 黄埔立交", 23.1000, 113.5000, "港湾路", False),
            ("G4 新塘", 23.1100, 113.6000, "G4 京港澳高速 (广深段)", True),
            ("G4 麻涌", 23.0600, 113.6800, "G4 京港澳高速 (广深段)", True),
            ("G4 东莞", 23.0200, 113.7500, "G4 京港澳高速 (广深段)", True),
            ("G4 厚街", 22.9500, 113.7600, "G4 京港澳高速 (广深段)", True),
            ("G4 长安", 22.8100, 113.8100, "G4 京港澳高速 (广深段)", True),
            ("东莞长安电子产业园", 22.8167, 113.8106, "振安中路", False),
        ],
    },
    "huangpu_nanshan_s3": {
        "name": "广州黄埔 → 深圳南山 (S3 广深沿江高速)",
        "waypoints": [
            ("广州黄埔化工仓储区", 23.0850, 113.4750, "", False),
            ("S3 黄埔", 23.0750, 113.5100, "港前路", False),
            ("S3 洪梅", 23.0000, 113.6000, "S3 广深沿江高速", True),
            ("S3 沙田", 22.9000, 113.6200, "S3 广深沿江高速", True),
            ("S3 虎门 威远", 22.8000, 113.6400, "S3 广深沿江高速", True),
            ("S3 长安 沿江", 22.7600, 113.7300, "S3 广深沿江高速", True),
            ("S3 沙井", 22.7200, 113.7800, "S3 广深沿江高速", True),
            ("S3 福永 机场", 22.6400, 113.8000, "S3 广深沿江高速", True),
            ("S3 西乡", 22.5800, 113.8600, "S3 广深沿江高速", True),
            ("S3 南山 月亮湾", 22.5400, 113.9000, "S3 广深沿江高速", True),
            ("深圳南山燃气储配站", 22.5300, 113.9300, "月亮湾大道", False),
        ],
    },
    "shunde_nansha": {
        "name": "佛山顺德北滘 → 广州南沙港 (G105, 三善大桥, 南沙港快速路)",
        "waypoints": [
            ("顺德北滘家电制造基地", 22.9265, 113.2092, "", False),
            ("顺德 碧江", 22.9350, 113.2450, "G105 国道", False),
            ("番禺 沙湾 (三善大桥)", 22.9050, 113.3300, "S111 省道", False),
            ("番禺 东涌", 22.8500, 113.4500, "南沙港快速路", True),
            ("南沙 黄阁", 22.8000, 113.5300, "南沙港快速路", True),
            ("南沙 蕉门", 22.7400, 113.6000, "南沙港快速路", True),
            ("南沙港三期码头", 22.6215, 113.6732, "港前大道", False),
        ],
    },
}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def densify(waypoints: list[Waypoint]) -> dict[str, Any]:
    points: list[list[float]] = [[waypoints[0][1], waypoints[0][2]]]
    expressways: list[dict[str, Any]] = []
    length_km = 0.0
    for (_, lat1, lon1, _, _), (_, lat2, lon2, road, expressway) in itertools.pairwise(waypoints):
        distance = haversine_km((lat1, lon1), (lat2, lon2))
        length_km += distance
        steps = max(1, math.ceil(distance / STEP_KM))
        first = len(points) - 1
        for k in range(1, steps + 1):
            t = k / steps
            points.append([round(lat1 + t * (lat2 - lat1), 5), round(lon1 + t * (lon2 - lon1), 5)])
        if not expressway:
            continue
        last = len(points) - 1
        if expressways and expressways[-1]["name"] == road and expressways[-1]["to"] == first:
            expressways[-1]["to"] = last
        else:
            expressways.append({"name": road, "from": first, "to": last})
    return {"length_km": round(length_km, 2), "expressways": expressways, "points": points}


def main() -> None:
    routes = {}
    for key, route in ROUTES.items():
        waypoints: list[Waypoint] = route["waypoints"]
        routes[key] = {
            "name": route["name"],
            "waypoints": [
                {"name": name, "at": [lat, lon], "road": road or None, "expressway": expressway}
                for name, lat, lon, road, expressway in waypoints
            ],
            **densify(waypoints),
        }
    document = {
        "note": (
            "Demo routes of the dangerous-goods monitoring demo (api/demo_dangerous_goods.py), made by "
            "tools/make_demo_routes.py: hand-authored waypoints at towns and interchanges along real Pearl "
            "River Delta roads (read off a map, about 500 m precision), joined by straight lines and cut "
            "into steps of at most 0.8 km. Not surveyed road geometry: within roughly 1-2 km of the "
            "carriageway. 'expressways' are index ranges of 'points' on an expressway."
        ),
        "routes": routes,
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for key, route in routes.items():
        print(f"{key}: {route['length_km']} km, {len(route['points'])} points")


if __name__ == "__main__":
    main()
