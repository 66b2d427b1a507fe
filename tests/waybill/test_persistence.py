"""Writing a new waybill: all rows or none, one statement on PostgreSQL, safe under concurrent retries."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from tests.conftest import Org
from tests.factories import waybill_body
from waybill import service
from waybill.models import TransportLeg, Waybill, WaybillChange, WaybillVersion
from waybill.schemas import WaybillCreate


async def count_rows(session_factory: Any, number: str) -> dict[str, int]:
    async with session_factory() as session:
        waybill_id = await session.scalar(sa.select(Waybill.id).where(Waybill.number == number))
        counts = {}
        for model in (WaybillVersion, TransportLeg, WaybillChange):
            counts[model.__name__] = await session.scalar(
                sa.select(sa.func.count()).select_from(model).where(model.waybill_id == waybill_id)
            )
        return counts


async def test_a_new_waybill_has_its_version_legs_and_audit_entry(session_factory: Any, shipper: Org) -> None:
    data = msgspec.convert(waybill_body(), WaybillCreate)
    async with session_factory() as session:
        created, _ = await service.create_waybill(session, principal=shipper.principal, data=data)
        await session.commit()
    assert await count_rows(session_factory, created.number) == {
        "WaybillVersion": 1,
        "TransportLeg": 2,
        "WaybillChange": 1,
    }


async def test_on_postgresql_the_rows_are_one_atomic_statement(
    backend: str, session_factory: Any, shipper: Org
) -> None:
    if backend != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    data = msgspec.convert(waybill_body(), WaybillCreate)
    async with session_factory() as session:
        created, _ = await service.create_waybill(session, principal=shipper.principal, data=data)
        # Visible to another connection before this session commits: no transaction was open.
        assert (await count_rows(session_factory, created.number))["TransportLeg"] == 2
        await session.rollback()
    assert (await count_rows(session_factory, created.number))["WaybillVersion"] == 1


async def test_concurrent_retries_with_one_key_make_one_waybill(session_factory: Any, shipper: Org) -> None:
    data = msgspec.convert(waybill_body(), WaybillCreate)

    async def attempt() -> tuple[str, bool]:
        async with session_factory() as session:
            waybill, created = await service.create_waybill(
                session, principal=shipper.principal, data=data, idempotency_key="retry-storm", request_sha256="d1"
            )
            await session.commit()
            return waybill.number, created

    results = await asyncio.gather(*(attempt() for _ in range(5)))
    assert len({number for number, _ in results}) == 1
    assert sum(created for _, created in results) == 1
