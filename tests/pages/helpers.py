"""Signing in to the pages from tests: page users, the CSRF cookie, the sign-in form."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from accounts.users import create_user
from core.db import utcnow
from monitoring.models import DgAlert
from tests.conftest import Org

PASSWORD = "correct horse battery"


async def add_page_user(session_factory: Any, org: Org, *, name: str = "值班员") -> str:
    """A page user of ``org`` with :data:`PASSWORD`; returns the username."""
    username = f"{org.principal.role.value}-{secrets.token_hex(4)}"
    async with session_factory() as session:
        await create_user(
            session,
            organisation_id=org.principal.organisation_id,
            username=username,
            display_name=name,
            password=PASSWORD,
        )
        await session.commit()
    return username


async def csrf_token(client: Any) -> str:
    """The CSRF token the pages expect back: the cookie a page sets."""
    if "freight_csrf" not in client.cookies:
        await client.get("/login")
    token: str = client.cookies["freight_csrf"]
    return token


async def sign_in(client: Any, username: str, password: str = PASSWORD, next_path: str = "") -> Any:
    """Post the sign-in form; returns the response (303 on success)."""
    form = {"username": username, "password": password, "next": next_path, "_csrf_token": await csrf_token(client)}
    return await client.post("/login", data=form, follow_redirects=False)


def speeding_alert(
    *, plate: str, number: str, carrier_id: uuid.UUID, speed_kmh: float = 97.0, kind: str = "speeding"
) -> DgAlert:
    """An open alert as the monitor stores it: ``speed_kmh`` on an expressway limited to 80 km/h, 3 minutes ago."""
    now = utcnow()
    return DgAlert(
        dedupe_key=f"{kind}|{plate}|{number}|{uuid.uuid4()}",
        kind=kind,
        severity="warning",
        plate=plate,
        waybill_number=number,
        carrier_id=carrier_id,
        started_at=now - timedelta(minutes=3),
        last_seen_at=now,
        observed=speed_kmh,
        threshold=80.0,
        unit="km/h",
        latitude=22.85,
        longitude=113.25,
        message=f"Speeding: {speed_kmh:.0f} km/h where the expressway limit is 80 km/h",
        message_key=f"alert.{kind}",
        message_params={"speed_kmh": speed_kmh, "limit_kmh": 80.0, "road": "expressway", "duration_s": 180.0},
    )
