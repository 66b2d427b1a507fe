"""Partners: who they are, and the principal their messages are applied as."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation
from accounts.schemas import OrganisationRole, Principal
from core.errors import NotFoundError
from integrations.models import Partner
from integrations.schemas import PartnerKind

__all__ = ("PartnerInfo", "list_partners", "load_partner", "register_partner")


class PartnerInfo(msgspec.Struct, kw_only=True, frozen=True):
    """A partner with the principal its inbound messages act as."""

    code: str
    kind: PartnerKind
    name: str
    locode: str | None
    message_format: str
    principal: Principal


def _info(partner: Partner, organisation: Organisation) -> PartnerInfo:
    return PartnerInfo(
        code=partner.code,
        kind=PartnerKind(partner.kind),
        name=partner.name,
        locode=partner.locode,
        message_format=partner.message_format,
        principal=Principal(
            organisation_id=organisation.id,
            uscc=organisation.uscc,
            name=organisation.name,
            role=OrganisationRole(organisation.role),
        ),
    )


async def list_partners(session: AsyncSession, *, active_only: bool = True) -> list[PartnerInfo]:
    """Every (active) partner, by code."""
    query = sa.select(Partner, Organisation).join(Organisation, col(Organisation.id) == col(Partner.organisation_id))
    if active_only:
        query = query.where(col(Partner.active).is_(True))
    rows = await session.execute(query.order_by(col(Partner.code)))
    return [_info(partner, organisation) for partner, organisation in rows.all()]


async def load_partner(session: AsyncSession, code: str) -> PartnerInfo:
    """One partner by code."""
    row = (
        await session.execute(
            sa.select(Partner, Organisation)
            .join(Organisation, col(Organisation.id) == col(Partner.organisation_id))
            .where(col(Partner.code) == code)
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no partner {code!r}")
    partner, organisation = row
    return _info(partner, organisation)


async def register_partner(
    session: AsyncSession,
    *,
    code: str,
    kind: PartnerKind,
    name: str,
    organisation: Organisation,
    locode: str | None = None,
    message_format: str = "json",
) -> Partner:
    """Add a partner, or bring an existing one with this code up to date (the caller commits)."""
    partner = await session.get(Partner, code)
    if partner is None:
        partner = Partner(code=code, kind=kind.value, name=name, organisation_id=organisation.id)
        session.add(partner)
    partner.kind, partner.name, partner.organisation_id = kind.value, name, organisation.id
    partner.locode, partner.message_format, partner.active = locode, message_format, True
    return partner
