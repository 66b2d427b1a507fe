"""The driver's run page: one tractor's run on a phone, opened from a signed link without an account.

The link carries the plan and the tractor and an HMAC-SHA256 over both, keyed from the pages'
session secret: whoever holds the link works that run (hand it to the driver only), and nobody can
make a link to another run. A stop's buttons record the driver's taps (check-ins); the page works
without JavaScript.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import DbSession
from api.pages.auth import _session_secret, page_exception_handlers
from api.pages.rendering import render_page
from core.db import utcnow
from core.errors import DomainError, NotFoundError
from core.settings import Settings
from core.signing import Signer, platform_signer
from dispatch.run_sheet_pdf import ACTION_NAMES, MOVE_STATUS_NAMES, STOP_NAMES
from dispatch.runs import STOP_ACTIONS, load_run_sheet, record_check_in, run_carrier

__all__ = (
    "NAMES",
    "DriverRunController",
    "driver_link_path",
    "driver_link_token",
    "driver_link_url",
    "verify_driver_token",
)

_TOKEN = re.compile(r"^([0-9a-f]{32})\.([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{43})$")
_LINK_LABEL = b"freight driver run link\0"

NAMES = {"actions": ACTION_NAMES, "stops": STOP_NAMES, "moves": MOVE_STATUS_NAMES, "stop_actions": STOP_ACTIONS}
"""Display names the run templates look up (marked for translation, translated in the template)."""


def _link_key(settings: Settings, signer: Signer) -> bytes:
    """A key of its own for driver links, derived from the session secret."""
    return hmac.new(_session_secret(settings, signer), _LINK_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def driver_link_token(settings: Settings, signer: Signer, *, plan_id: uuid.UUID, tractor_id: int) -> str:
    """The capability token of one tractor's run of a plan: ``<plan hex>.<tractor id>.<HMAC>``."""
    message = f"{plan_id.hex}.{tractor_id}"
    return f"{message}.{_mac(_link_key(settings, signer), message)}"


def verify_driver_token(settings: Settings, signer: Signer, token: str) -> tuple[uuid.UUID, int] | None:
    """The plan and tractor a token names, or ``None`` if it is malformed or not ours."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    plan_hex, tractor, mac = match.groups()
    if not hmac.compare_digest(mac, _mac(_link_key(settings, signer), f"{plan_hex}.{tractor}")):
        return None
    return uuid.UUID(hex=plan_hex), int(tractor)


def driver_link_path(request: Request[Any, Any, Any], *, plan_id: uuid.UUID, tractor_id: int) -> str:
    """The path of a run's driver page, for this application's settings."""
    token = driver_link_token(_settings(request), platform_signer(), plan_id=plan_id, tractor_id=tractor_id)
    return f"/driver/runs/{token}"


def driver_link_url(request: Request[Any, Any, Any], *, plan_id: uuid.UUID, tractor_id: int) -> str:
    """The full link of a run's driver page (on the public base URL, which the driver's phone reaches)."""
    base = _settings(request).public_base_url.rstrip("/")
    return base + driver_link_path(request, plan_id=plan_id, tractor_id=tractor_id)


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _run_of_token(request: Request[Any, Any, Any], token: str) -> tuple[uuid.UUID, int]:
    run = verify_driver_token(_settings(request), platform_signer(), token)
    if run is None:
        raise NotFoundError("no such run link")
    return run


class CheckInForm(msgspec.Struct, kw_only=True, frozen=True):
    """A tap on a stop's button (the CSRF token field is checked by the middleware and ignored here)."""

    move_id: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    stop: str = ""
    action: str = ""
    receiver_name: str = ""


Token = Annotated[str, PathParameter(max_length=120)]


async def _run_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    token: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_field: str | None = None,
    saved: str | None = None,
    repeated: bool = False,
) -> Response[str]:
    plan_id, tractor_id = _run_of_token(request, token)
    carrier = await run_carrier(session, plan_id=plan_id)
    sheet = await load_run_sheet(session, carrier_id=carrier.organisation_id, plan_id=plan_id, tractor_id=tractor_id)
    return render_page(
        request,
        "driver/run.html",
        status_code=status_code,
        sheet=sheet,
        carrier_name=carrier.name,
        action_path=f"/driver/runs/{token}/check-ins",
        error=error,
        error_field=error_field,
        saved=saved if saved in ACTION_NAMES else None,
        repeated=repeated,
        names=NAMES,
    )


class DriverRunController(Controller):
    """The driver's page of a run, reached through a signed link."""

    path = "/driver"
    include_in_schema = False
    exception_handlers = page_exception_handlers  # type: ignore[assignment]

    @get("/runs/{token:str}", operation_id="driverRunPage")
    async def run_page(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        token: Token,
        saved: Annotated[str | None, QueryParameter(name="saved", required=False, max_length=20)] = None,
        repeated: Annotated[int | None, QueryParameter(name="again", required=False, ge=0, le=1)] = None,
    ) -> Response[str]:
        """The run: one card per stop in order, the next one highlighted, a button per tap."""
        return await _run_page(request, db_session, token, saved=saved, repeated=bool(repeated))

    @post("/runs/{token:str}/check-ins", status_code=303, operation_id="driverCheckIn")
    async def check_in(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        token: Token,
        data: Annotated[CheckInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """Record a tap, then back to the run at that stop; a refused tap shows the run with the reason."""
        plan_id, tractor_id = _run_of_token(request, token)
        carrier = await run_carrier(db_session, plan_id=plan_id)
        try:
            recorded = await record_check_in(
                db_session,
                principal=carrier,
                plan_id=plan_id,
                tractor_id=tractor_id,
                move_id=data.move_id,
                stop=data.stop,
                action=data.action,
                at=utcnow(),
                receiver_name=data.receiver_name or None,
            )
            await db_session.commit()
        except NotFoundError:
            raise
        except DomainError as exc:
            await db_session.rollback()
            return await _run_page(
                request, db_session, token, status_code=exc.status_code, error=exc.detail, error_field=exc.field
            )
        except IntegrityError:  # the same tap from another phone won the race: it stands
            await db_session.rollback()
            return Redirect(f"/driver/runs/{token}?saved={quote(data.action)}&again=1", status_code=303)
        again = "" if recorded.new else "&again=1"
        anchor = f"#move-{recorded.move_id}-{recorded.stop}"
        return Redirect(f"/driver/runs/{token}?saved={recorded.action}{again}{anchor}", status_code=303)
