"""A waybill's tamper-evident record: its versions and events as a signed hash chain.

Each link covers one record (a version of the goods part, or a transport event). Its payload is a
canonical JSON encoding of the stored row; the link hash covers the payload digest, the link's
position, kind and reference, and the previous link's hash; the platform signs every link hash
with its Ed25519 key (``core.signing``). The exact encoding is documented in docs/verification.md,
so that others can check an export without this code (``tools/verify_export.py``).

The functions above the database section are pure; the rest read and write rows and never commit.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation
from core.db import utcnow
from core.signing import Signer, platform_signer
from core.types import OutputStruct
from waybill.models import ChainLink, TransportEvent, Waybill, WaybillVersion

__all__ = (
    "EXPORT_FORMAT",
    "BrokenLink",
    "BrokenReason",
    "ChainExport",
    "ExportedLink",
    "LinkKind",
    "LinkRecord",
    "VerificationResult",
    "append_chain_link",
    "canonical_json",
    "event_payload",
    "export_waybill_chain",
    "head_statement",
    "link_hash",
    "make_link",
    "payload_sha256",
    "verify_links",
    "verify_waybill_chain",
    "version_payload",
)

EXPORT_FORMAT = "freight-waybill-record/1"


class LinkKind(enum.StrEnum):
    """What a link covers."""

    VERSION = "version"
    EVENT = "event"


class BrokenReason(enum.StrEnum):
    """Why a link does not verify."""

    CHAIN_ORDER_BROKEN = "chain_order_broken"
    """The position is not the next one, or ``prev_hash`` is not the previous link's hash."""
    RECORD_MISSING = "record_missing"
    """The version or event the link covers is not stored any more."""
    PAYLOAD_CHANGED = "payload_changed"
    """The stored record no longer hashes to the link's ``payload_sha256``."""
    LINK_HASH_WRONG = "link_hash_wrong"
    """The link's ``hash`` is not the hash of its fields."""
    SIGNATURE_INVALID = "signature_invalid"
    """The signature is not the platform key's signature of the link hash."""
    HEAD_MISMATCH = "head_mismatch"
    """The waybill's recorded head or length is not the last link's."""
    UNCHAINED_RECORD = "unchained_record"
    """A version or event is stored that no link covers."""


class LinkRecord(msgspec.Struct, kw_only=True, frozen=True):
    """The fields of one link, as stored and exported."""

    position: int
    kind: str
    ref: str
    payload_sha256: str
    prev_hash: str | None
    hash: str
    signature: str


class BrokenLink(OutputStruct, frozen=True):
    """The first link that does not verify."""

    position: int
    kind: str | None
    ref: str | None
    reason: BrokenReason


class VerificationResult(OutputStruct, frozen=True):
    """The outcome of checking a chain: intact, or the first broken link."""

    intact: bool
    length: int
    head: str | None
    first_broken: BrokenLink | None = None


class ExportedLink(OutputStruct, frozen=True):
    """One link of an export, with the record it covers."""

    position: int
    kind: str
    ref: str
    payload: dict[str, Any]
    """The record (a version or an event) as hashed: ``payload_sha256`` is the SHA-256 of its canonical JSON."""
    payload_sha256: str
    prev_hash: str | None
    hash: str
    signature: str
    """Ed25519 signature of the 32 bytes of ``hash``, hex."""


class ChainExport(OutputStruct, frozen=True):
    """A waybill's signed record, verifiable offline with the platform's public key."""

    format: str
    number: str
    length: int
    head: str | None
    key_id: str
    head_signature: str
    """Ed25519 signature of the canonical JSON of ``{"format", "head", "length", "number"}``, hex."""
    exported_at: datetime
    links: list[ExportedLink]


# --- canonical encoding and hashing (pure) ----------------------------------------------------


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_value(value: Any) -> Any:
    """Builtins whose encoding is the same in any language: see docs/verification.md."""
    if isinstance(value, dict):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    if isinstance(value, float):
        # JSON does not tell 2 from 2.0 and PostgreSQL's jsonb may not keep the difference;
        # other fractions are written as Python's repr writes them (msgspec's own form differs).
        return int(value) if value.is_integer() else msgspec.Raw(repr(value).encode())
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return _canonical_value(value.value)
    return value


def canonical_json(value: Any) -> bytes:
    """The canonical JSON encoding: UTF-8, keys sorted, no whitespace, integral numbers as integers,
    timestamps as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return msgspec.json.encode(_canonical_value(value), order="sorted")


def payload_sha256(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a payload, hex."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def version_payload(
    *,
    waybill_number: str,
    version: int,
    document: Mapping[str, Any],
    reason: str | None,
    created_at: datetime,
    created_by_uscc: str,
) -> dict[str, Any]:
    """The hashed content of one version of the goods part, from its stored columns."""
    return {
        "kind": LinkKind.VERSION.value,
        "waybill": waybill_number,
        "version": version,
        "document": dict(document),
        "reason": reason,
        "created_at": _utc_text(created_at),
        "created_by": created_by_uscc,
    }


def event_payload(event: TransportEvent, *, waybill_number: str, reporter_uscc: str) -> dict[str, Any]:
    """The hashed content of a transport event: every column with a meaning, no database ids."""
    return {
        "kind": LinkKind.EVENT.value,
        "waybill": waybill_number,
        "event_id": str(event.event_id),
        "leg_sequence": event.leg_sequence,
        "category": event.category,
        "event_type": event.event_type,
        "classifier": event.classifier,
        "event_time": _utc_text(event.event_time),
        "recorded_at": _utc_text(event.recorded_at),
        "place": event.place,
        "locode": event.locode,
        "equipment": event.equipment,
        "source": event.source,
        "reporter": reporter_uscc,
        "external_ref": event.external_ref,
        "retracts_event_id": None if event.retracts_event_id is None else str(event.retracts_event_id),
        "details": event.details,
    }


def link_hash(prev_hash: str | None, payload_digest: str, position: int, kind: str, ref: str) -> str:
    """SHA-256 (hex) of the canonical JSON of a link's fields, chained on the previous link's hash."""
    fields = {"position": position, "kind": kind, "ref": ref, "payload_sha256": payload_digest, "prev_hash": prev_hash}
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def head_statement(*, number: str, length: int, head: str | None) -> bytes:
    """What an export's ``head_signature`` signs: the waybill, its chain length and head."""
    return canonical_json({"format": EXPORT_FORMAT, "number": number, "length": length, "head": head})


def make_link(
    *, position: int, prev_hash: str | None, kind: str, ref: str, payload: Mapping[str, Any], signer: Signer
) -> LinkRecord:
    """A new signed link for ``payload`` at ``position``."""
    digest = payload_sha256(payload)
    hashed = link_hash(prev_hash, digest, position, kind, ref)
    return LinkRecord(
        position=position,
        kind=kind,
        ref=ref,
        payload_sha256=digest,
        prev_hash=prev_hash,
        hash=hashed,
        signature=signer.sign(bytes.fromhex(hashed)).hex(),
    )


def _signature_valid(public_key: Ed25519PublicKey, signature_hex: str, hash_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), bytes.fromhex(hash_hex))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_links(
    links: Sequence[LinkRecord],
    payloads: Sequence[Mapping[str, Any] | None],
    *,
    public_key: Ed25519PublicKey,
    head: str | None,
    length: int,
) -> VerificationResult:
    """Check a chain link by link and report the first broken one.

    Args:
        links: the links as stored, in position order.
        payloads: the payload recomputed from each link's record now (``None`` if it is gone).
        public_key: the platform's public key.
        head: the head hash the waybill records.
        length: the chain length the waybill records.
    """

    def broken(position: int, link: LinkRecord | None, reason: BrokenReason) -> VerificationResult:
        kind, ref = (link.kind, link.ref) if link is not None else (None, None)
        return VerificationResult(
            intact=False,
            length=length,
            head=head,
            first_broken=BrokenLink(position=position, kind=kind, ref=ref, reason=reason),
        )

    prev_hash: str | None = None
    for expected_position, (link, payload) in enumerate(zip(links, payloads, strict=True), start=1):
        if link.position != expected_position or link.prev_hash != prev_hash:
            return broken(expected_position, link, BrokenReason.CHAIN_ORDER_BROKEN)
        if payload is None:
            return broken(expected_position, link, BrokenReason.RECORD_MISSING)
        if payload_sha256(payload) != link.payload_sha256:
            return broken(expected_position, link, BrokenReason.PAYLOAD_CHANGED)
        if link_hash(prev_hash, link.payload_sha256, link.position, link.kind, link.ref) != link.hash:
            return broken(expected_position, link, BrokenReason.LINK_HASH_WRONG)
        if not _signature_valid(public_key, link.signature, link.hash):
            return broken(expected_position, link, BrokenReason.SIGNATURE_INVALID)
        prev_hash = link.hash
    if length != len(links) or head != prev_hash:
        last = links[-1] if links else None
        return broken(len(links), last, BrokenReason.HEAD_MISMATCH)
    return VerificationResult(intact=True, length=length, head=head)


# --- the database -----------------------------------------------------------------------------


async def append_chain_link(
    session: AsyncSession, *, waybill: Waybill, kind: str, ref: str, payload: Mapping[str, Any]
) -> ChainLink:
    """Add the next link for a new version or event and move the waybill's head to it.

    The caller holds the waybill row ``FOR UPDATE`` (so links are appended one at a time), adds the
    record the payload describes in the same transaction, and commits.
    """
    assert waybill.id is not None
    record = make_link(
        position=waybill.chain_length + 1,
        prev_hash=waybill.chain_head,
        kind=LinkKind(kind).value,
        ref=ref,
        payload=payload,
        signer=platform_signer(),
    )
    link = ChainLink(waybill_id=waybill.id, created_at=utcnow(), **msgspec.structs.asdict(record))
    session.add(link)
    waybill.chain_length = record.position
    waybill.chain_head = record.hash
    return link


async def _links(session: AsyncSession, waybill_id: int) -> list[LinkRecord]:
    rows = await session.scalars(
        sa.select(ChainLink)
        .where(col(ChainLink.waybill_id) == waybill_id)
        .order_by(col(ChainLink.position))
        .execution_options(populate_existing=True)
    )
    return [
        LinkRecord(
            position=r.position,
            kind=r.kind,
            ref=r.ref,
            payload_sha256=r.payload_sha256,
            prev_hash=r.prev_hash,
            hash=r.hash,
            signature=r.signature,
        )
        for r in rows
    ]


async def _current_payloads(session: AsyncSession, waybill: Waybill) -> dict[tuple[str, str], dict[str, Any]]:
    """Every stored version and event of the waybill as a payload, by (kind, ref).

    ``populate_existing`` makes rows read earlier in the session show what the database holds now.
    """
    payloads: dict[tuple[str, str], dict[str, Any]] = {}
    versions = await session.execute(
        sa.select(WaybillVersion, col(Organisation.uscc))
        .join(Organisation, col(Organisation.id) == col(WaybillVersion.created_by_id))
        .where(col(WaybillVersion.waybill_id) == waybill.id)
        .execution_options(populate_existing=True)
    )
    for version, uscc in versions:
        payloads[(LinkKind.VERSION.value, str(version.version))] = version_payload(
            waybill_number=waybill.number,
            version=version.version,
            document=version.document,
            reason=version.reason,
            created_at=version.created_at,
            created_by_uscc=uscc,
        )
    events = await session.execute(
        sa.select(TransportEvent, col(Organisation.uscc))
        .join(Organisation, col(Organisation.id) == col(TransportEvent.organisation_id))
        .where(col(TransportEvent.waybill_id) == waybill.id)
        .execution_options(populate_existing=True)
    )
    for event, uscc in events:
        payloads[(LinkKind.EVENT.value, str(event.event_id))] = event_payload(
            event, waybill_number=waybill.number, reporter_uscc=uscc
        )
    return payloads


async def _chain_now(
    session: AsyncSession, waybill: Waybill
) -> tuple[list[LinkRecord], list[dict[str, Any] | None], list[tuple[str, str]]]:
    """The stored links, the payload of each recomputed from the stored rows, and the records no link covers."""
    assert waybill.id is not None
    links = await _links(session, waybill.id)
    current = await _current_payloads(session, waybill)
    payloads = [current.get((link.kind, link.ref)) for link in links]
    covered = {(link.kind, link.ref) for link in links}
    unchained = sorted(key for key in current if key not in covered)
    return links, payloads, unchained


async def verify_waybill_chain(session: AsyncSession, *, waybill: Waybill) -> VerificationResult:
    """Recompute the waybill's chain from its stored versions and events and check every link.

    A version or event altered in the database no longer hashes to its link's payload digest.
    """
    signer = platform_signer()
    links, payloads, unchained = await _chain_now(session, waybill)
    result = verify_links(
        links, payloads, public_key=signer.public_key, head=waybill.chain_head, length=waybill.chain_length
    )
    if result.intact and unchained:
        kind, ref = unchained[0]
        return VerificationResult(
            intact=False,
            length=result.length,
            head=result.head,
            first_broken=BrokenLink(position=len(links) + 1, kind=kind, ref=ref, reason=BrokenReason.UNCHAINED_RECORD),
        )
    return result


async def export_waybill_chain(session: AsyncSession, *, waybill: Waybill) -> ChainExport:
    """The waybill's record as stored now, signed at its head, for checking offline.

    Payloads are recomputed from the stored rows, so an altered row shows up offline as well.
    """
    signer = platform_signer()
    links, payloads, _ = await _chain_now(session, waybill)
    exported = [
        ExportedLink(
            position=link.position,
            kind=link.kind,
            ref=link.ref,
            payload=payload or {},
            payload_sha256=link.payload_sha256,
            prev_hash=link.prev_hash,
            hash=link.hash,
            signature=link.signature,
        )
        for link, payload in zip(links, payloads, strict=True)
    ]
    statement = head_statement(number=waybill.number, length=waybill.chain_length, head=waybill.chain_head)
    return ChainExport(
        format=EXPORT_FORMAT,
        number=waybill.number,
        length=waybill.chain_length,
        head=waybill.chain_head,
        key_id=signer.key_id,
        head_signature=signer.sign(statement).hex(),
        exported_at=utcnow(),
        links=exported,
    )
