"""HTTP routes of a waybill's tamper-evident record: verify it, export it signed, publish the key."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import Provide

from api.deps import Caller, DbSession, provide_principal
from api.params import AccessReason, NumberParam, request_line, waybill_number
from api.problems import problem_responses
from core.signing import platform_signer
from core.types import OutputStruct
from waybill import chain, service
from waybill.chain import BrokenLink, ChainExport

__all__ = ("ChainController", "SigningKey", "VerificationReport")


class VerificationReport(OutputStruct, frozen=True):
    """The outcome of recomputing a waybill's record from its stored versions and events."""

    number: str
    intact: bool
    length: int
    """Links in the record."""
    head: str | None
    """SHA-256 of the newest link, hex."""
    first_broken: BrokenLink | None
    """The first link that does not verify, or null when the record is intact."""
    key_id: str
    """The platform key the record is checked against (see ``GET /v1/signing-key``)."""


class SigningKey(OutputStruct, frozen=True):
    """The platform's public key, which checks every waybill record and export."""

    key_id: str
    """First 16 hex digits of the SHA-256 of the raw 32-byte Ed25519 public key."""
    algorithm: str
    public_key_pem: str
    """SubjectPublicKeyInfo PEM block."""


class ChainController(Controller):
    """Verify and export a waybill's signed hash chain of versions and events."""

    path = "/v1"
    tags = ["Waybills"]
    dependencies = {"principal": Provide(provide_principal)}

    @get(
        "/waybills/{number:str}/verify",
        operation_id="verifyWaybill",
        summary="Verify a waybill's tamper-evident record",
        description=(
            "Recompute the hash chain of the waybill's versions and events from the stored rows and "
            "check every link's hash and signature: `intact`, or the first broken link and why."
        ),
        security=[{"BearerAuth": []}],
        responses=problem_responses(401, 404),
    )
    async def verify_waybill(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> VerificationReport:
        waybill = await service.load_waybill_for_reading(
            db_session,
            principal=principal,
            number=waybill_number(number),
            access_reason=access_reason,
            request=request_line(request),
            action="verify",
        )
        result = await chain.verify_waybill_chain(db_session, waybill=waybill)
        await db_session.commit()
        return VerificationReport(
            number=waybill.number,
            intact=result.intact,
            length=result.length,
            head=result.head,
            first_broken=result.first_broken,
            key_id=platform_signer().key_id,
        )

    @get(
        "/waybills/{number:str}/export",
        operation_id="exportWaybill",
        summary="Export a waybill's signed record",
        description=(
            "Every version document and every event in chain order, every link with its hash and "
            "signature, and a signature of the head. Check it offline with the public key from "
            "`GET /v1/signing-key` (docs/verification.md, tools/verify_export.py)."
        ),
        security=[{"BearerAuth": []}],
        responses=problem_responses(401, 404),
    )
    async def export_waybill(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> ChainExport:
        waybill = await service.load_waybill_for_reading(
            db_session,
            principal=principal,
            number=waybill_number(number),
            access_reason=access_reason,
            request=request_line(request),
            action="export",
        )
        exported = await chain.export_waybill_chain(db_session, waybill=waybill)
        await db_session.commit()
        return exported

    @get(
        "/signing-key",
        operation_id="getSigningKey",
        summary="The platform's public signing key",
        description="The Ed25519 public key that checks waybill records and exports; no authentication.",
        security=[],
    )
    async def get_signing_key(self) -> SigningKey:
        signer = platform_signer()
        return SigningKey(key_id=signer.key_id, algorithm="Ed25519", public_key_pem=signer.public_key_pem)
