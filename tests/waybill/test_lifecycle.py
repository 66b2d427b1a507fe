"""The waybill lifecycle rules, without a database."""

from __future__ import annotations

import itertools

import pytest

from waybill.rules.lifecycle import can_transition, check_amendable, check_cancellable, check_leg_changeable
from waybill.schemas import LegStatus, WaybillStatus

S = WaybillStatus


def test_the_main_line_runs_from_draft_to_closed() -> None:
    line = [S.DRAFT, S.ISSUED, S.IN_TRANSIT, S.DELIVERED, S.CLOSED]
    for current, target in itertools.pairwise(line):
        assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.DRAFT, S.IN_TRANSIT), (S.ISSUED, S.DELIVERED), (S.DELIVERED, S.CANCELLED), (S.CANCELLED, S.ISSUED)],
)
def test_no_skipping_or_going_back(current: WaybillStatus, target: WaybillStatus) -> None:
    assert not can_transition(current, target)


@pytest.mark.parametrize("status", [S.DELIVERED, S.CLOSED, S.CANCELLED])
def test_finished_waybills_cannot_be_amended(status: WaybillStatus) -> None:
    assert check_amendable(status) is not None


@pytest.mark.parametrize("status", [S.DRAFT, S.ISSUED, S.IN_TRANSIT])
def test_open_waybills_can_be_amended(status: WaybillStatus) -> None:
    assert check_amendable(status) is None


def test_cancelling_needs_every_leg_still_planned() -> None:
    assert check_cancellable(S.ISSUED, [LegStatus.PLANNED, LegStatus.PLANNED]) is None
    assert check_cancellable(S.ISSUED, [LegStatus.UNDER_WAY, LegStatus.PLANNED]) is not None
    assert check_cancellable(S.CANCELLED, []) is not None


def test_completed_legs_and_finished_waybills_are_frozen() -> None:
    assert check_leg_changeable(S.IN_TRANSIT, LegStatus.UNDER_WAY) is None
    assert check_leg_changeable(S.IN_TRANSIT, LegStatus.COMPLETED) is not None
    assert check_leg_changeable(S.CANCELLED, LegStatus.PLANNED) is not None
