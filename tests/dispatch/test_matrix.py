"""Travel matrices: great-circle by default, and the table services of OSRM and Valhalla servers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dispatch.solver.matrix import HttpMatrixProvider, great_circle_km, great_circle_matrix
from dispatch.solver.problem import MatrixSpec, Place

NANSHA = Place(id="nansha", latitude=22.64, longitude=113.67)
HUMEN = Place(id="humen", latitude=22.815, longitude=113.673)


def test_great_circle_kilometres_times_the_road_factor_at_the_average_speed() -> None:
    matrix = great_circle_matrix([NANSHA, HUMEN], MatrixSpec(road_factor=1.3, speed_kmh=52))
    straight = great_circle_km(NANSHA, HUMEN)
    assert 19 < straight < 20
    assert matrix.between("nansha", "humen") == pytest.approx((straight * 1.3, straight * 1.3 / 52 * 60))
    assert matrix.between("humen", "humen") == (0.0, 0.0)


def server(body: dict[str, Any], seen: list[httpx.Request]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_an_osrm_table_gives_road_kilometres_and_minutes() -> None:
    seen: list[httpx.Request] = []
    body = {"code": "Ok", "distances": [[0, 24100.5], [23950, 0]], "durations": [[0, 1860], [1800, 0]]}
    spec = MatrixSpec(provider="osrm", url="http://osrm.local:5000")
    matrix = HttpMatrixProvider(spec, client=server(body, seen)).matrix([NANSHA, HUMEN])
    assert matrix.between("nansha", "humen") == pytest.approx((24.1005, 31.0))
    assert seen[0].url.path == "/table/v1/driving/113.670000,22.640000;113.673000,22.815000"
    assert seen[0].url.params["annotations"] == "duration,distance"


def test_a_valhalla_matrix_gives_road_kilometres_and_minutes() -> None:
    seen: list[httpx.Request] = []
    cells = [
        [{"distance": 0.0, "time": 0}, {"distance": 24.3, "time": 1920}],
        [{"distance": 24.0, "time": 1880}, {"distance": 0.0, "time": 0}],
    ]
    spec = MatrixSpec(provider="valhalla", url="http://valhalla.local:8002/")
    matrix = HttpMatrixProvider(spec, client=server({"sources_to_targets": cells}, seen)).matrix([NANSHA, HUMEN])
    assert matrix.between("humen", "nansha") == pytest.approx((24.0, 1880 / 60))
    assert json.loads(seen[0].content)["costing"] == "truck"


def test_a_route_the_server_cannot_find_is_an_error_not_a_zero() -> None:
    body = {"code": "Ok", "distances": [[0, None], [1, 0]], "durations": [[0, None], [1, 0]]}
    provider = HttpMatrixProvider(MatrixSpec(provider="osrm", url="http://osrm.local"), client=server(body, []))
    with pytest.raises(ValueError, match="no route"):
        provider.matrix([NANSHA, HUMEN])
