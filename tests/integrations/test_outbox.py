"""The outbox: partners' messages are staged in the transaction of the change, and leased in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlmodel import col

from integrations.inbox import claim_messages
from integrations.models import InboxMessage, OutboxMessage
from integrations.outbox import lease_due, mark_sent, prune_exchange_records, stage_message
from integrations.schemas import PartnerKind
from tests.integrations.conftest import issued_waybill, new_container_number


async def _outbox_of(session_factory: Any, number: str) -> list[OutboxMessage]:
    async with session_factory() as session:
        rows = await session.scalars(
            sa.select(OutboxMessage).where(col(OutboxMessage.correlation_id) == number).order_by(col(OutboxMessage.id))
        )
        return list(rows)


async def test_issuing_a_waybill_files_it_with_the_node_and_pre_advises_the_terminal(
    client: Any, shipper: Any, make_partner: Any, session_factory: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    container = new_container_number()

    number = await issued_waybill(client, shipper, container=container)

    rows = [r for r in await _outbox_of(session_factory, number) if r.destination in (node.code, terminal.code)]
    assert [(r.destination, r.message_type) for r in rows] == [
        (node.code, "waybill.issued"),
        (terminal.code, "preadvice"),
    ]
    envelope = msgspec.json.decode(rows[0].body)
    assert envelope["documentName"] == "EWAYBILL"
    assert envelope["recipientCode"] == "LOGINK"
    assert envelope["messageRef"] == str(rows[0].message_id)
    assert envelope["body"]["action"] == "issued"
    assert envelope["body"]["waybill"]["number"] == number
    advice = msgspec.json.decode(rows[1].body)
    assert advice["waybillNumber"] == number
    assert advice["terminalLocode"] == "CNFOS"
    assert advice["containerNumber"] == container
    assert advice["leg"] == 1
    assert all(r.status == "pending" and r.ordering_key == number for r in rows)


async def test_a_draft_is_not_filed_and_its_cancellation_is_not_either(
    client: Any, shipper: Any, make_partner: Any, session_factory: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    number = await issued_waybill(client, shipper, container=new_container_number(), issue=False)

    cancelled = await client.post(
        f"/v1/waybills/{number}/cancel", json={"reason_code": "goods_not_ready"}, headers=shipper.headers
    )

    assert cancelled.status_code == 200, cancelled.text
    assert [r for r in await _outbox_of(session_factory, number) if r.destination == node.code] == []


async def test_amending_and_cancelling_an_issued_waybill_tell_the_node_in_order(
    client: Any, shipper: Any, make_partner: Any, session_factory: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    number = await issued_waybill(client, shipper, container=new_container_number())
    amended = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "收货人要求推迟", "instructions": "改期"},
        headers=shipper.headers,
    )
    assert amended.status_code == 201, amended.text
    cancelled = await client.post(
        f"/v1/waybills/{number}/cancel", json={"reason_code": "goods_not_ready"}, headers=shipper.headers
    )
    assert cancelled.status_code == 200, cancelled.text

    rows = [r for r in await _outbox_of(session_factory, number) if r.destination == node.code]
    assert [r.message_type for r in rows] == ["waybill.issued", "waybill.amended", "waybill.cancelled"]


async def test_a_refused_change_stages_nothing(
    client: Any, shipper: Any, make_partner: Any, session_factory: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    number = await issued_waybill(client, shipper, container=new_container_number())

    again = await client.post(f"/v1/waybills/{number}/issue", headers=shipper.headers)

    assert again.status_code == 409
    rows = [r for r in await _outbox_of(session_factory, number) if r.destination == node.code]
    assert [r.message_type for r in rows] == ["waybill.issued"]


async def test_leasing_skips_a_waybill_whose_earlier_message_another_relay_holds(
    session_factory: Any, backend: str
) -> None:
    async with session_factory() as session:
        first_a = stage_message(session, destination="tlease", message_type="t", correlation_id="A-lease", body=b"1")
        stage_message(session, destination="tlease", message_type="t", correlation_id="A-lease", body=b"2")
        first_b = stage_message(session, destination="tlease", message_type="t", correlation_id="B-lease", body=b"3")
        await session.commit()
    async with session_factory() as holder, session_factory() as other:
        held = await lease_due(holder, limit=1_000_000)
        held_ids = {row.id for row in held}
        assert first_a.id in held_ids
        if backend == "postgresql":
            # The first relay still holds its rows: a second one gets neither A's rows nor B's.
            leased = await lease_due(other, limit=1_000_000)
            assert not {row.id for row in leased} & held_ids
        await mark_sent(holder, [first_a.id, first_b.id])  # A's second row is left pending
        await holder.commit()
        await other.rollback()
    async with session_factory() as session:
        pending = [r for r in await lease_due(session, limit=1_000_000) if r.correlation_id in ("A-lease", "B-lease")]
        await session.rollback()
    assert [r.body for r in pending] in ([b"2"], [])  # on SQLite the lease time hides it for a minute


async def test_pruning_removes_old_sent_rows_and_inbox_entries_but_never_pending_rows(session_factory: Any) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    key = f"PRUNE-{uuid.uuid4().hex[:8]}"
    async with session_factory() as session:
        old_sent = stage_message(session, destination="tprune", message_type="t", correlation_id=key, body=b"1")
        stage_message(session, destination="tprune", message_type="t", correlation_id=key, body=b"2", now=long_ago)
        recent_sent = stage_message(session, destination="tprune", message_type="t", correlation_id=key, body=b"3")
        await session.flush()
        await mark_sent(session, [old_sent.id], now=long_ago)
        await mark_sent(session, [recent_sent.id])
        await claim_messages(session, "prune-test", ["old"], now=long_ago)
        await claim_messages(session, "prune-test", ["new"])
        await session.commit()

    async with session_factory() as session:
        await prune_exchange_records(session, older_than=datetime.now(UTC) - timedelta(days=30))
        await session.commit()

    async with session_factory() as session:
        left = {
            r.body
            for r in await session.scalars(sa.select(OutboxMessage).where(col(OutboxMessage.correlation_id) == key))
        }
        inbox = set(
            await session.scalars(
                sa.select(col(InboxMessage.message_id)).where(col(InboxMessage.consumer) == "prune-test")
            )
        )
    assert left == {b"2", b"3"}
    assert inbox == {"new"}
