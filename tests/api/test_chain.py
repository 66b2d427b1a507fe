"""A waybill's tamper-evident record over HTTP: verify, export, check offline, and tampering caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.settings import get_settings, load_settings
from core.signing import get_signer, platform_signer
from tests.conftest import TEST_SIGNING_KEY, Org
from tests.factories import waybill_body
from waybill.chain import append_chain_link, event_payload
from waybill.models import AccessLogEntry, ChainLink, TransportEvent, Waybill, WaybillVersion

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_export.py"
TEST_KEY = TEST_SIGNING_KEY


@pytest.fixture(autouse=True, scope="module")
def fixed_signing_key() -> Iterator[None]:
    """Sign with a fixed key while this module runs (the platform reads it from FREIGHT_SIGNING_KEY)."""
    previous = os.environ.get("FREIGHT_SIGNING_KEY")
    os.environ["FREIGHT_SIGNING_KEY"] = TEST_KEY
    get_settings.cache_clear()
    yield
    if previous is None:
        del os.environ["FREIGHT_SIGNING_KEY"]
    else:
        os.environ["FREIGHT_SIGNING_KEY"] = previous
    get_settings.cache_clear()


async def issue(client: Any, shipper: Org) -> str:
    response = await client.post("/v1/waybills", json=waybill_body(), headers=shipper.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


async def amend(client: Any, shipper: Org, number: str) -> None:
    response = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "收货人要求推迟交付", "instructions": "卸货前电话联系收货人"},
        headers=shipper.headers,
    )
    assert response.status_code == 201, response.text


async def verify(client: Any, org: Org, number: str) -> dict[str, Any]:
    response = await client.get(f"/v1/waybills/{number}/verify", headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def verify_offline(tmp_path: Path, export: dict[str, Any], public_key_pem: str) -> subprocess.CompletedProcess[str]:
    export_file, key_file = tmp_path / "export.json", tmp_path / "platform.pem"
    export_file.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    key_file.write_text(public_key_pem)
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(export_file), str(key_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


async def test_an_issued_and_amended_waybill_verifies_intact(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    await amend(client, shipper, number)
    report = await verify(client, shipper, number)
    assert report["intact"] is True
    assert report["length"] == 2
    assert report["first_broken"] is None
    assert len(report["head"]) == 64
    assert report["key_id"] == platform_signer().key_id


async def test_the_record_is_signed_with_the_configured_key(client: Any, shipper: Org, db: Any) -> None:
    number = await issue(client, shipper)
    link = await db.scalar(
        sa.select(ChainLink).join(Waybill, Waybill.id == ChainLink.waybill_id).where(Waybill.number == number)
    )
    test_signer = get_signer(load_settings({"FREIGHT_SIGNING_KEY": TEST_KEY}))
    assert test_signer.verify(bytes.fromhex(link.signature), bytes.fromhex(link.hash))


async def test_a_version_document_altered_in_the_database_is_caught(client: Any, shipper: Org, db: Any) -> None:
    number = await issue(client, shipper)
    await amend(client, shipper, number)
    waybill_id = await db.scalar(sa.select(Waybill.id).where(Waybill.number == number))
    document = await db.scalar(
        sa.select(WaybillVersion.document).where(WaybillVersion.waybill_id == waybill_id, WaybillVersion.version == 1)
    )
    document["cargo"][0]["description"] = "空调外机"
    await db.execute(
        sa.update(WaybillVersion)
        .where(WaybillVersion.waybill_id == waybill_id, WaybillVersion.version == 1)
        .values(document=document)
    )
    await db.commit()

    report = await verify(client, shipper, number)
    assert report["intact"] is False
    assert report["first_broken"] == {"position": 1, "kind": "version", "ref": "1", "reason": "payload_changed"}


async def test_a_transport_event_altered_in_the_database_is_caught(
    client: Any, shipper: Org, make_org: Any, session_factory: Any
) -> None:
    number = await issue(client, shipper)
    carrier = await make_org("carrier", name="佛山顺通甩挂运输有限公司")
    event_id = uuid.uuid4()
    async with session_factory() as session:
        waybill = await session.scalar(sa.select(Waybill).where(Waybill.number == number).with_for_update())
        event = TransportEvent(
            event_id=event_id,
            waybill_id=waybill.id,
            leg_sequence=1,
            category="transport",
            event_type="departed",
            classifier="actual",
            event_time=datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
            place={"name": "顺德北滘工业园", "division_code": "440606"},
            equipment={"vehicle_plate": "粤E12345", "trailer_plate": "粤E6789挂"},
            source="api",
            organisation_id=carrier.principal.organisation_id,
            details={"odometer_km": 120345.5},
        )
        session.add(event)
        await append_chain_link(
            session,
            waybill=waybill,
            kind="event",
            ref=str(event_id),
            payload=event_payload(event, waybill_number=number, reporter_uscc=carrier.uscc),
        )
        await session.commit()

    report = await verify(client, shipper, number)
    assert (report["intact"], report["length"]) == (True, 2)

    async with session_factory() as session:
        await session.execute(
            sa.update(TransportEvent)
            .where(TransportEvent.event_id == event_id)
            .values(event_time=datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
        )
        await session.commit()

    report = await verify(client, shipper, number)
    assert report["intact"] is False
    assert report["first_broken"] == {"position": 2, "kind": "event", "ref": str(event_id), "reason": "payload_changed"}


async def test_a_moved_chain_head_is_caught(client: Any, shipper: Org, db: Any) -> None:
    number = await issue(client, shipper)
    await db.execute(sa.update(Waybill).where(Waybill.number == number).values(chain_head="00" * 32))
    await db.commit()
    report = await verify(client, shipper, number)
    assert report["first_broken"]["reason"] == "head_mismatch"


async def test_an_export_verifies_offline_with_only_the_public_key(client: Any, shipper: Org, tmp_path: Path) -> None:
    number = await issue(client, shipper)
    await amend(client, shipper, number)
    key = (await client.get("/v1/signing-key")).json()
    export = await client.get(f"/v1/waybills/{number}/export", headers=shipper.headers)
    assert export.status_code == 200, export.text
    document = export.json()
    assert [(link["position"], link["kind"], link["ref"]) for link in document["links"]] == [
        (1, "version", "1"),
        (2, "version", "2"),
    ]
    assert document["links"][1]["payload"]["reason"] == "收货人要求推迟交付"
    assert document["key_id"] == key["key_id"]

    checked = verify_offline(tmp_path, document, key["public_key_pem"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("intact")


async def test_a_tampered_export_fails_offline_verification(client: Any, shipper: Org, tmp_path: Path) -> None:
    number = await issue(client, shipper)
    await amend(client, shipper, number)
    public_key_pem = (await client.get("/v1/signing-key")).json()["public_key_pem"]
    document = (await client.get(f"/v1/waybills/{number}/export", headers=shipper.headers)).json()
    document["links"][0]["payload"]["document"]["cargo"][0]["description"] = "空调外机"

    checked = verify_offline(tmp_path, document, public_key_pem)
    assert checked.returncode == 1
    assert "link 1 (version 1): payload changed" in checked.stdout


async def test_a_truncated_export_fails_offline_verification(client: Any, shipper: Org, tmp_path: Path) -> None:
    number = await issue(client, shipper)
    await amend(client, shipper, number)
    public_key_pem = (await client.get("/v1/signing-key")).json()["public_key_pem"]
    document = (await client.get(f"/v1/waybills/{number}/export", headers=shipper.headers)).json()
    document["links"] = document["links"][:1]
    document["length"], document["head"] = 1, document["links"][0]["hash"]

    checked = verify_offline(tmp_path, document, public_key_pem)
    assert checked.returncode == 1
    assert "head signature invalid" in checked.stdout


async def test_a_stranger_cannot_verify_or_export(client: Any, shipper: Org, make_org: Any) -> None:
    number = await issue(client, shipper)
    stranger = await make_org("shipper")
    for action in ("verify", "export"):
        response = await client.get(f"/v1/waybills/{number}/{action}", headers=stranger.headers)
        assert response.status_code == 404, action


async def test_an_authority_verification_is_logged(client: Any, shipper: Org, make_org: Any, db: Any) -> None:
    number = await issue(client, shipper)
    regulator = await make_org("regulator")
    response = await client.get(
        f"/v1/waybills/{number}/verify", params={"access_reason": "专项检查"}, headers=regulator.headers
    )
    assert response.status_code == 200, response.text
    entry = await db.scalar(
        sa.select(AccessLogEntry).join(Waybill, Waybill.id == AccessLogEntry.waybill_id).where(Waybill.number == number)
    )
    assert (entry.action, entry.reason) == ("verify", "专项检查")


async def test_the_signing_key_is_public(client: Any) -> None:
    response = await client.get("/v1/signing-key")
    assert response.status_code == 200
    body = response.json()
    assert body["algorithm"] == "Ed25519"
    assert body["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert body["key_id"] == get_signer(load_settings({"FREIGHT_SIGNING_KEY": TEST_KEY})).key_id
