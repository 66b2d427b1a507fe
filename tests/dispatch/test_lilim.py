"""Parsing Li & Lim PDPTW instance files."""

from __future__ import annotations

import pytest

from dispatch.solver.lilim import PdptwInstance, parse_lilim

SMALL_INSTANCE = """\
2\t50\t1
0\t0\t0\t0\t0\t100\t0\t0\t0
1\t10\t0\t10\t0\t50\t5\t0\t2
2\t20\t0\t-10\t0\t80\t5\t1\t0
"""


def test_lc101_has_its_fleet_capacity_and_53_requests(lc101: PdptwInstance) -> None:
    assert (lc101.vehicle_count, lc101.capacity) == (25, 200)
    assert len(lc101.nodes) == 107
    assert len(lc101.requests) == 53


def test_lc101_depot_and_first_request_match_the_file(lc101: PdptwInstance) -> None:
    depot = lc101.depot
    assert (depot.x, depot.y, depot.ready_time, depot.due_time) == (40, 50, 0, 1236)
    pickup = lc101.nodes[3]
    assert (pickup.demand, pickup.ready_time, pickup.due_time, pickup.service_time) == (10, 65, 146, 90)
    assert pickup.delivery_id == 75
    assert lc101.nodes[75].pickup_id == 3
    assert lc101.requests[0] == (3, 75)


def test_every_pickup_is_paired_with_a_delivery_of_opposite_demand(lc101: PdptwInstance) -> None:
    for pickup_id, delivery_id in lc101.requests:
        assert lc101.nodes[pickup_id].demand > 0
        assert lc101.nodes[delivery_id].demand == -lc101.nodes[pickup_id].demand


def test_a_small_file_parses_into_one_request() -> None:
    instance = parse_lilim(SMALL_INSTANCE, name="small")
    assert instance.requests == ((1, 2),)
    assert instance.nodes[2].pickup_id == 1


def test_a_delivery_naming_the_wrong_pickup_is_rejected() -> None:
    broken = SMALL_INSTANCE.replace("2\t20\t0\t-10\t0\t80\t5\t1\t0", "2\t20\t0\t-10\t0\t80\t5\t2\t0")
    with pytest.raises(ValueError, match="do not match"):
        parse_lilim(broken, name="broken")


def test_node_ids_out_of_order_are_rejected() -> None:
    broken = SMALL_INSTANCE.replace("1\t10\t0", "7\t10\t0")
    with pytest.raises(ValueError, match="node ids"):
        parse_lilim(broken, name="broken")
