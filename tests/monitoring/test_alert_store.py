"""Stored alerts: one row per episode, and the lifecycle open → acknowledged → closed."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import ForbiddenError, InvalidStateError, NotFoundError
from monitoring import ShipmentContext, evaluate, service
from monitoring.models import AlertStatus, DgAlert
from tests.conftest import Org
from tests.monitoring.alert_values import speeding
from tests.monitoring.tracks import DEPARTURE, GUANGSHEN, Track


async def _row(db: AsyncSession, key: str) -> DgAlert:
    row = await db.scalar(sa.select(DgAlert).where(col(DgAlert.dedupe_key) == key))
    assert row is not None
    return row


@pytest.fixture
async def regulator(make_org: Any) -> Org:
    return await make_org("regulator", name="广东省交通运输厅")


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    return await make_org("carrier", name="佛山南海危险品运输有限公司")


async def test_recording_the_same_episode_twice_updates_one_row(db: AsyncSession, carrier: Org) -> None:
    first = speeding(observed=92.0)
    assert await service.record_alerts(db, [first], carrier_id=carrier.principal.organisation_id) == (1, 0)
    seen = (await _row(db, first.dedupe_key)).last_seen_at
    later = speeding(plate=first.plate, observed=97.0, ended=True)
    assert later.dedupe_key == first.dedupe_key
    assert await service.record_alerts(db, [later], carrier_id=carrier.principal.organisation_id) == (0, 1)
    rows = list(await db.scalars(sa.select(DgAlert).where(col(DgAlert.dedupe_key) == first.dedupe_key)))
    assert len(rows) == 1
    row = rows[0]
    assert row.observed == 97.0
    assert row.ended_at == later.ended_at
    assert row.last_seen_at >= seen
    assert row.status == AlertStatus.OPEN
    assert row.carrier_id == carrier.principal.organisation_id


async def test_alerts_from_the_rule_engine_are_stored(db: AsyncSession) -> None:
    track = Track(GUANGSHEN[0], speed_kmh=95.0)
    track.drive(*GUANGSHEN[1:], speed_kmh=95.0)
    context = ShipmentContext(plate="粤E7K724", waybill_number="EW2611-00000042-7")
    alerts = evaluate(context, track.fixes, now=track.fixes[-1].recorded_at)
    assert alerts
    opened, updated = await service.record_alerts(db, alerts)
    assert (opened, updated) == (len({a.dedupe_key for a in alerts}), 0)
    assert await service.record_alerts(db, alerts) == (0, opened)
    assert (await _row(db, alerts[0].dedupe_key)).started_at >= DEPARTURE


async def test_a_closed_alert_stays_closed_when_seen_again(db: AsyncSession, regulator: Org) -> None:
    alert = speeding()
    await service.record_alerts(db, [alert])
    row = await _row(db, alert.dedupe_key)
    assert row.id is not None
    await service.close(db, row.id, regulator.principal, "checked")
    assert await service.record_alerts(db, [speeding(plate=alert.plate, observed=120.0)]) == (0, 1)
    row = await _row(db, alert.dedupe_key)
    assert row.status == AlertStatus.CLOSED
    assert row.observed == 120.0
    assert row.closed_note == "checked"


async def test_lifecycle_records_who_and_when(db: AsyncSession, regulator: Org, carrier: Org) -> None:
    alert = speeding()
    await service.record_alerts(db, [alert], carrier_id=carrier.principal.organisation_id)
    alert_id = (await _row(db, alert.dedupe_key)).id
    assert alert_id is not None
    acknowledged = await service.acknowledge(db, alert_id, carrier.principal, "driver called")
    assert acknowledged.status is AlertStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged is not None
    assert acknowledged.acknowledged.by.uscc == carrier.uscc
    assert acknowledged.acknowledged.note == "driver called"
    with pytest.raises(InvalidStateError):
        await service.acknowledge(db, alert_id, regulator.principal, None)
    closed = await service.close(db, alert_id, regulator.principal, None)
    assert closed.status is AlertStatus.CLOSED
    assert closed.closed is not None
    assert closed.closed.by.name == "广东省交通运输厅"
    assert closed.closed.at >= acknowledged.acknowledged.at
    assert closed.acknowledged == acknowledged.acknowledged
    with pytest.raises(InvalidStateError):
        await service.close(db, alert_id, regulator.principal, None)
    with pytest.raises(InvalidStateError):
        await service.acknowledge(db, alert_id, regulator.principal, None)


async def test_an_open_alert_may_be_closed_directly(db: AsyncSession, regulator: Org) -> None:
    alert = speeding()
    await service.record_alerts(db, [alert])
    alert_id = (await _row(db, alert.dedupe_key)).id
    assert alert_id is not None
    closed = await service.close(db, alert_id, regulator.principal, "false alarm")
    assert closed.acknowledged is None
    assert closed.closed is not None


async def test_visibility(db: AsyncSession, carrier: Org, make_org: Any) -> None:
    # Organisations first: on SQLite another session cannot write while ``db`` holds the write lock.
    other, admin, shipper = await make_org("carrier"), await make_org("admin"), await make_org("shipper")
    mine, theirs = speeding(), speeding()
    await service.record_alerts(db, [mine], carrier_id=carrier.principal.organisation_id)
    await service.record_alerts(db, [theirs], carrier_id=other.principal.organisation_id)
    their_id = (await _row(db, theirs.dedupe_key)).id
    assert their_id is not None
    page = await service.list_alerts(db, carrier.principal, limit=200)
    assert {item.plate for item in page.items} == {mine.plate}
    with pytest.raises(NotFoundError):
        await service.get_alert(db, carrier.principal, their_id)
    with pytest.raises(NotFoundError):
        await service.acknowledge(db, their_id, carrier.principal, None)
    assert (await service.get_alert(db, admin.principal, their_id)).plate == theirs.plate
    with pytest.raises(ForbiddenError):
        await service.acknowledge(db, their_id, admin.principal, None)
    with pytest.raises(ForbiddenError):
        await service.list_alerts(db, shipper.principal)
