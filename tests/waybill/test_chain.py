"""The hash chain of a waybill's record, without a database: hashing, and every kind of tampering caught."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

from core.settings import load_settings
from core.signing import Signer, get_signer
from waybill.chain import (
    BrokenReason,
    LinkRecord,
    canonical_json,
    link_hash,
    make_link,
    payload_sha256,
    verify_links,
    version_payload,
)

SIGNER = get_signer(load_settings({"FREIGHT_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode()}))
OTHER_SIGNER = get_signer(load_settings({"FREIGHT_SIGNING_KEY": base64.b64encode(bytes(32)).decode()}))
CREATED = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def version(number: int, weight_kg: float = 1280.5) -> dict[str, Any]:
    return version_payload(
        waybill_number="EW2611-7K3M9Q2X-T",
        version=number,
        document={"goods": [{"description": "双门冰箱", "gross_weight_kg": weight_kg, "un_number": None}]},
        reason=None if number == 1 else "delivery postponed",
        created_at=CREATED + timedelta(hours=number),
        created_by_uscc="91440606MA4UM2XX1T",
    )


def build_chain(payloads: list[dict[str, Any]], signer: Signer = SIGNER) -> list[LinkRecord]:
    links: list[LinkRecord] = []
    for position, payload in enumerate(payloads, start=1):
        links.append(
            make_link(
                position=position,
                prev_hash=links[-1].hash if links else None,
                kind="version",
                ref=str(payload["version"]),
                payload=payload,
                signer=signer,
            )
        )
    return links


def verify(links: list[LinkRecord], payloads: list[Any], *, head: str | None = None, length: int | None = None) -> Any:
    return verify_links(
        links,
        payloads,
        public_key=SIGNER.public_key,
        head=links[-1].hash if head is None else head,
        length=len(links) if length is None else length,
    )


def test_canonical_json_sorts_keys_drops_whitespace_and_writes_times_in_utc() -> None:
    encoded = canonical_json({"b": 2.0, "a": [1.5, 1e-7], "at": CREATED, "名": "冰箱"})
    assert encoded == '{"a":[1.5,1e-07],"at":"2026-11-23T00:00:00.000000Z","b":2,"名":"冰箱"}'.encode()


def test_canonical_json_is_what_python_json_writes_for_the_same_data() -> None:
    payload = version(2, weight_kg=0.000015)
    standard = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(payload) == standard


def test_a_payload_hashes_the_same_after_a_round_trip_through_json() -> None:
    payload = version(1, weight_kg=1e20)
    assert payload_sha256(msgspec.json.decode(msgspec.json.encode(payload))) == payload_sha256(payload)


def test_a_link_hash_covers_position_kind_ref_payload_and_previous_hash() -> None:
    base = link_hash("ab" * 32, "cd" * 32, 2, "version", "2")
    expected = hashlib.sha256(
        canonical_json(
            {"position": 2, "kind": "version", "ref": "2", "payload_sha256": "cd" * 32, "prev_hash": "ab" * 32}
        )
    ).hexdigest()
    assert base == expected
    assert base != link_hash(None, "cd" * 32, 2, "version", "2")
    assert base != link_hash("ab" * 32, "cd" * 32, 3, "version", "2")
    assert base != link_hash("ab" * 32, "cd" * 32, 2, "event", "2")


def test_an_untouched_chain_is_intact() -> None:
    payloads = [version(1), version(2), version(3)]
    result = verify(build_chain(payloads), payloads)
    assert result.intact
    assert result.first_broken is None
    assert result.length == 3


def test_a_changed_payload_is_caught_at_its_link() -> None:
    payloads = [version(1), version(2), version(3)]
    links = build_chain(payloads)
    payloads[1]["document"]["goods"][0]["gross_weight_kg"] = 980.0
    result = verify(links, payloads)
    assert not result.intact
    assert result.first_broken is not None
    assert (result.first_broken.position, result.first_broken.reason) == (2, BrokenReason.PAYLOAD_CHANGED)
    assert (result.first_broken.kind, result.first_broken.ref) == ("version", "2")


def test_a_missing_record_is_caught() -> None:
    payloads = [version(1), version(2)]
    result = verify(build_chain(payloads), [payloads[0], None])
    assert result.first_broken is not None
    assert (result.first_broken.position, result.first_broken.reason) == (2, BrokenReason.RECORD_MISSING)


def test_reordered_links_are_caught() -> None:
    payloads = [version(1), version(2), version(3)]
    links = build_chain(payloads)
    result = verify([links[0], links[2], links[1]], [payloads[0], payloads[2], payloads[1]], head=links[2].hash)
    assert result.first_broken is not None
    assert (result.first_broken.position, result.first_broken.reason) == (2, BrokenReason.CHAIN_ORDER_BROKEN)


def test_a_rehashed_link_without_the_key_is_caught_by_its_signature() -> None:
    payloads = [version(1), version(2)]
    links = build_chain(payloads)
    payloads[1]["reason"] = "nothing to see"
    forged = build_chain(payloads, signer=OTHER_SIGNER)
    # The forger recomputes every hash, but can only sign with a key of their own.
    result = verify(forged, payloads)
    assert result.first_broken is not None
    assert (result.first_broken.position, result.first_broken.reason) == (1, BrokenReason.SIGNATURE_INVALID)
    assert links[0].hash == forged[0].hash


def test_a_forged_signature_is_caught() -> None:
    payloads = [version(1), version(2)]
    links = build_chain(payloads)
    links[1] = msgspec.structs.replace(links[1], signature="00" * 64)
    result = verify(links, payloads)
    assert result.first_broken is not None
    assert (result.first_broken.position, result.first_broken.reason) == (2, BrokenReason.SIGNATURE_INVALID)


def test_a_wrong_link_hash_is_caught() -> None:
    payloads = [version(1)]
    links = build_chain(payloads)
    links[0] = msgspec.structs.replace(links[0], hash="ab" * 32)
    result = verify(links, payloads, head="ab" * 32)
    assert result.first_broken is not None
    assert result.first_broken.reason is BrokenReason.LINK_HASH_WRONG


def test_a_truncated_chain_does_not_match_the_recorded_head() -> None:
    payloads = [version(1), version(2)]
    links = build_chain(payloads)
    result = verify(links[:1], payloads[:1], head=links[1].hash, length=2)
    assert result.first_broken is not None
    assert (result.first_broken.position, result.first_broken.reason) == (1, BrokenReason.HEAD_MISMATCH)


def test_the_signer_key_id_is_the_start_of_the_public_key_digest() -> None:
    assert len(SIGNER.key_id) == 16
    assert SIGNER.key_id != OTHER_SIGNER.key_id
    assert SIGNER.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert SIGNER.verify(SIGNER.sign(b"waybill"), b"waybill")
    assert not OTHER_SIGNER.verify(SIGNER.sign(b"waybill"), b"waybill")
