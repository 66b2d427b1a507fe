"""Li & Lim pickup-and-delivery (PDPTW) benchmark instances: the data types and a parser.

The file format (SINTEF TOP, tab or space separated): line 1 is ``vehicles capacity speed``; each
further line is ``id x y demand ready due service pickup_sibling delivery_sibling``. Node 0 is the
depot. A pickup has ``pickup_sibling == 0`` and names its delivery in ``delivery_sibling``; a delivery
names its pickup in ``pickup_sibling``.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

__all__ = ("PdptwInstance", "PdptwNode", "parse_lilim", "read_lilim")


class PdptwNode(msgspec.Struct, kw_only=True, frozen=True):
    """One node of a PDPTW instance, numbered as in the instance file."""

    id: int
    x: float
    y: float
    demand: int
    """Load picked up (> 0 at a pickup), delivered (< 0 at a delivery), 0 at the depot."""
    ready_time: float
    due_time: float
    """Service must start within ``[ready_time, due_time]``; waiting before ``ready_time`` is allowed."""
    service_time: float
    pickup_id: int
    """For a delivery: the id of its pickup; otherwise 0."""
    delivery_id: int
    """For a pickup: the id of its delivery; otherwise 0."""

    @property
    def is_pickup(self) -> bool:
        return self.id != 0 and self.delivery_id != 0


class PdptwInstance(msgspec.Struct, kw_only=True, frozen=True):
    """A Li & Lim instance: a homogeneous fleet, one depot (node 0) and pickup-delivery requests."""

    name: str
    vehicle_count: int
    capacity: int
    nodes: tuple[PdptwNode, ...]
    """Indexed by node id: ``nodes[i].id == i``; ``nodes[0]`` is the depot."""

    @property
    def depot(self) -> PdptwNode:
        return self.nodes[0]

    @property
    def requests(self) -> tuple[tuple[int, int], ...]:
        """The ``(pickup id, delivery id)`` pairs, in pickup id order."""
        return tuple((node.id, node.delivery_id) for node in self.nodes if node.is_pickup)


def parse_lilim(text: str, *, name: str) -> PdptwInstance:
    """Parse the text of a Li & Lim instance file.

    Raises:
        ValueError: if the file is malformed or its pickup-delivery pairing is inconsistent.
    """
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or len(lines[0]) < 2:
        raise ValueError(f"{name}: the first line must hold 'vehicles capacity speed'")
    vehicle_count, capacity = int(lines[0][0]), int(lines[0][1])
    nodes = tuple(_parse_node(fields, name=name) for fields in lines[1:])
    for position, node in enumerate(nodes):
        if node.id != position:
            raise ValueError(f"{name}: node ids must run 0, 1, 2, ...; found {node.id} at position {position}")
    _check_pairing(nodes, name=name)
    return PdptwInstance(name=name, vehicle_count=vehicle_count, capacity=capacity, nodes=nodes)


def read_lilim(path: Path) -> PdptwInstance:
    """Read and parse a Li & Lim instance file; the instance is named after the file stem."""
    return parse_lilim(path.read_text(encoding="utf-8"), name=path.stem)


def _parse_node(fields: list[str], *, name: str) -> PdptwNode:
    if len(fields) != 9:
        raise ValueError(f"{name}: a node line needs 9 fields, got {len(fields)}: {' '.join(fields)}")
    return PdptwNode(
        id=int(fields[0]),
        x=float(fields[1]),
        y=float(fields[2]),
        demand=int(fields[3]),
        ready_time=float(fields[4]),
        due_time=float(fields[5]),
        service_time=float(fields[6]),
        pickup_id=int(fields[7]),
        delivery_id=int(fields[8]),
    )


def _check_pairing(nodes: tuple[PdptwNode, ...], *, name: str) -> None:
    for node in nodes[1:]:
        if node.is_pickup:
            delivery = nodes[node.delivery_id] if node.delivery_id < len(nodes) else None
            if delivery is None or delivery.pickup_id != node.id or delivery.demand != -node.demand:
                raise ValueError(f"{name}: pickup {node.id} and delivery {node.delivery_id} do not match")
        elif node.pickup_id == 0 or node.pickup_id >= len(nodes) or nodes[node.pickup_id].delivery_id != node.id:
            raise ValueError(f"{name}: delivery {node.id} names no matching pickup")
