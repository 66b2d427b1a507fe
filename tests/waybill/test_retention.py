"""Waybills are kept: a dangerous-goods waybill at least 12 months (危险货物道路运输安全管理办法 第二十四条).

The platform deletes no waybill, version, leg, change or chain link at all: the only pruning job
(``prune_exchange_records``) removes partner exchange records, and no foreign key cascades a delete
into the waybill tables.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from core.db import utcnow
from integrations.outbox import prune_exchange_records
from tests.conftest import Org
from tests.factories import dangerous_waybill_body
from waybill.models import ChainLink, TransportLeg, Waybill, WaybillChange, WaybillVersion

KEPT = (Waybill, WaybillVersion, TransportLeg, WaybillChange, ChainLink)
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "accounts",
    "api",
    "core",
    "dangerous_goods",
    "dispatch",
    "integrations",
    "monitoring",
    "tracking",
    "waybill",
)


async def _rows(session: AsyncSession, waybill_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in KEPT:
        key = col(model.id) if model is Waybill else col(model.waybill_id)  # type: ignore[attr-defined]
        counts[model.__tablename__] = int(  # type: ignore[arg-type]
            await session.scalar(sa.select(sa.func.count()).select_from(model).where(key == waybill_id)) or 0
        )
    return counts


async def test_pruning_exchange_records_keeps_every_waybill_row(client: Any, shipper: Org, db: AsyncSession) -> None:
    created = await client.post("/v1/waybills", json=dangerous_waybill_body(), headers=shipper.headers)
    number = created.json()["number"]
    await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "更正件数", "instructions": "轻装轻卸"},
        headers=shipper.headers,
    )
    waybill_id = await db.scalar(sa.select(col(Waybill.id)).where(col(Waybill.number) == number))
    assert waybill_id is not None
    before = await _rows(db, waybill_id)

    await prune_exchange_records(db, older_than=utcnow() + timedelta(days=400))

    assert await _rows(db, waybill_id) == before
    assert before["waybill_version"] == 2
    assert before["transport_leg"] >= 1


def test_no_foreign_key_cascades_a_delete_into_the_waybill_tables() -> None:
    kept = {model.__tablename__ for model in KEPT}

    cascading = [
        f"{table.name}.{fk.parent.name}"
        for table in SQLModel.metadata.tables.values()
        for fk in table.foreign_keys
        if (table.name in kept or fk.column.table.name in kept) and fk.ondelete is not None
    ]

    assert cascading == []


def test_no_code_deletes_waybills_versions_legs_changes_or_chain_links() -> None:
    """No ``delete(Waybill...)`` statement and no ``DELETE FROM`` one of their tables in the application code."""
    names = {model.__name__ for model in KEPT}
    tables = {str(model.__tablename__) for model in KEPT}
    found: list[str] = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute | ast.Name)
                    and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "delete"
                    and any(isinstance(arg, ast.Name) and arg.id in names for arg in node.args)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = " ".join(node.value.lower().split())
                    found += [
                        f"{path.relative_to(ROOT)}:{node.lineno}" for t in tables if f"delete from {t} " in text + " "
                    ]

    assert found == []
