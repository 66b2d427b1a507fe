"""Travel matrices between places: great-circle by default, or an OSRM or Valhalla server.

The solver takes a ``TravelMatrix`` and does no I/O; the HTTP providers are called before it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import msgspec

from dispatch.solver.problem import MatrixSpec, Place

__all__ = (
    "EARTH_RADIUS_KM",
    "HttpMatrixProvider",
    "MatrixProvider",
    "TravelMatrix",
    "great_circle_km",
    "great_circle_matrix",
    "matrix_for",
)

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""


class TravelMatrix(msgspec.Struct, kw_only=True, frozen=True):
    """Road kilometres and driving minutes between every pair of places, by place id."""

    place_ids: tuple[str, ...]
    km: tuple[tuple[float, ...], ...]
    minutes: tuple[tuple[float, ...], ...]

    def index(self) -> dict[str, int]:
        """Row number of each place id."""
        return {place_id: number for number, place_id in enumerate(self.place_ids)}

    def between(self, origin: str, destination: str) -> tuple[float, float]:
        """``(km, minutes)`` from one place to another."""
        rows = self.index()
        return self.km[rows[origin]][rows[destination]], self.minutes[rows[origin]][rows[destination]]


class MatrixProvider(Protocol):
    """Anything that turns places into a travel matrix."""

    def matrix(self, places: Sequence[Place]) -> TravelMatrix:
        """Distances and times between all ``places``."""
        ...


def great_circle_km(a: Place, b: Place) -> float:
    """The haversine distance between two places, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def great_circle_matrix(places: Sequence[Place], spec: MatrixSpec = MatrixSpec()) -> TravelMatrix:
    """Great-circle distance times the road factor; minutes at the spec's average speed."""
    km = tuple(tuple(great_circle_km(a, b) * spec.road_factor for b in places) for a in places)
    minutes = tuple(tuple(d / spec.speed_kmh * 60 for d in row) for row in km)
    return TravelMatrix(place_ids=tuple(place.id for place in places), km=km, minutes=minutes)


class HttpMatrixProvider:
    """A routing server's table service: OSRM ``/table/v1`` or Valhalla ``/sources_to_targets``."""

    def __init__(self, spec: MatrixSpec, *, client: httpx.Client | None = None, timeout_s: float = 30.0) -> None:
        if spec.provider not in {"osrm", "valhalla"} or not spec.url:
            raise ValueError("an HTTP matrix provider needs provider 'osrm' or 'valhalla' and a url")
        self._spec = spec
        self._client = client or httpx.Client(timeout=timeout_s)

    def matrix(self, places: Sequence[Place]) -> TravelMatrix:
        """Ask the server for the full table; raises ``httpx.HTTPError`` or ``ValueError`` on failure."""
        if self._spec.provider == "osrm":
            km, minutes = self._osrm(places)
        else:
            km, minutes = self._valhalla(places)
        return TravelMatrix(place_ids=tuple(place.id for place in places), km=km, minutes=minutes)

    def _osrm(self, places: Sequence[Place]) -> tuple[Any, Any]:
        coordinates = ";".join(f"{place.longitude:.6f},{place.latitude:.6f}" for place in places)
        url = f"{str(self._spec.url).rstrip('/')}/table/v1/driving/{coordinates}"
        response = self._client.get(url, params={"annotations": "duration,distance"})
        response.raise_for_status()
        body = response.json()
        if body.get("code") != "Ok":
            raise ValueError(f"OSRM table failed: {body.get('code')}: {body.get('message', '')}")
        km = tuple(tuple(_required(metres) / 1000 for metres in row) for row in body["distances"])
        minutes = tuple(tuple(_required(seconds) / 60 for seconds in row) for row in body["durations"])
        return km, minutes

    def _valhalla(self, places: Sequence[Place]) -> tuple[Any, Any]:
        locations = [{"lat": place.latitude, "lon": place.longitude} for place in places]
        url = f"{str(self._spec.url).rstrip('/')}/sources_to_targets"
        payload = {"sources": locations, "targets": locations, "costing": "truck", "units": "kilometers"}
        response = self._client.post(url, json=payload)
        response.raise_for_status()
        rows = response.json()["sources_to_targets"]
        km = tuple(tuple(_required(cell.get("distance")) for cell in row) for row in rows)
        minutes = tuple(tuple(_required(cell.get("time")) / 60 for cell in row) for row in rows)
        return km, minutes


def _required(value: float | None) -> float:
    if value is None:
        raise ValueError("the routing server found no route between two places")
    return float(value)


def matrix_for(places: Sequence[Place], spec: MatrixSpec) -> TravelMatrix:
    """The matrix the spec asks for (may call an HTTP server)."""
    if spec.provider == "great_circle":
        return great_circle_matrix(places, spec)
    return HttpMatrixProvider(spec).matrix(places)
