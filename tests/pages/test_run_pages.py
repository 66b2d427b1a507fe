"""The carrier prints a run sheet with the driver's link; the driver opens the link and checks in at each stop."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from litestar import Litestar

from api.pages.driver import driver_link_token
from core.signing import platform_signer
from dispatch.plan_models import DispatchPlan
from tests.conftest import Org
from tests.dispatch import test_runs
from tests.dispatch.test_runs import AcceptedDay
from tests.pages.helpers import add_page_user, csrf_token, sign_in

_LINK = re.compile(r'href="https?://[^"/]+(/driver/runs/[^"]+)"')


carrier = test_runs.carrier
day = test_runs.day
"""The carrier and its accepted day of the run service's tests (one move on an issued waybill's leg)."""


async def sign_in_as(client: Any, session_factory: Any, org: Org) -> None:
    signed_in = await sign_in(client, await add_page_user(session_factory, org, name="调度员"))
    assert signed_in.status_code == 303, signed_in.text


def sheet_path(day: AcceptedDay) -> str:
    return f"/carrier/runs/{day.plan_id}/{day.waybill_run[0]}"


def driver_path(app: Litestar, day: AcceptedDay) -> str:
    token = driver_link_token(app.state.settings, platform_signer(), plan_id=day.plan_id, tractor_id=day.waybill_run[0])
    return f"/driver/runs/{token}"


async def check_in(client: Any, path: str, day: AcceptedDay, stop: str, action: str, **extra: str) -> Any:
    form = {
        "move_id": str(day.waybill_move_id),
        "stop": stop,
        "action": action,
        "_csrf_token": await csrf_token(client),
        **extra,
    }
    return await client.post(f"{path}/check-ins", data=form, follow_redirects=False)


async def event_types(client: Any, day: AcceptedDay) -> list[str]:
    response = await client.get(f"/v1/waybills/{day.waybill_number}/events", headers=day.carrier.headers)
    assert response.status_code == 200, response.text
    return [event["event_type"] for event in response.json()["events"]]


# --- the carrier's run sheet ----------------------------------------------------------------------


async def test_the_carrier_sees_a_printable_run_sheet_with_the_drivers_link(
    client: Any, session_factory: Any, day: AcceptedDay, app: Litestar
) -> None:
    await sign_in_as(client, session_factory, day.carrier)

    page = await client.get(sheet_path(day))

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    text = html.unescape(page.text)
    assert "顺德北滘家电制造基地 3号仓" in text
    assert "广州南沙港区二期集装箱码头 (南沙港)" in text
    assert "粤S1234挂" in text
    assert day.waybill_number in text
    assert text.count("<svg") >= 2  # the driver's link and the waybill's verification code
    link = _LINK.search(page.text)
    assert link is not None
    assert html.unescape(link.group(1)) == driver_path(app, day)


async def test_the_run_sheet_prints_as_a_pdf_in_chinese_and_english(
    client: Any, session_factory: Any, day: AcceptedDay
) -> None:
    await sign_in_as(client, session_factory, day.carrier)

    chinese = await client.get(f"{sheet_path(day)}/pdf")
    client.cookies.set("freight_lang", "en")
    english = await client.get(f"{sheet_path(day)}/pdf")

    for pdf in (chinese, english):
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
    assert chinese.content != english.content


async def test_another_carrier_gets_not_found_and_a_shipper_is_refused(
    client: Any, session_factory: Any, day: AcceptedDay, make_org: Any, shipper: Org
) -> None:
    await sign_in_as(client, session_factory, await make_org("carrier"))
    assert (await client.get(sheet_path(day))).status_code == 404
    assert (await client.get(f"{sheet_path(day)}/pdf")).status_code == 404
    client.cookies.clear()
    await sign_in_as(client, session_factory, shipper)
    assert (await client.get(sheet_path(day))).status_code == 403


async def test_the_run_sheet_needs_a_signed_in_user(client: Any, day: AcceptedDay) -> None:
    response = await client.get(sheet_path(day), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


# --- the driver's page ----------------------------------------------------------------------------


async def test_the_driver_opens_the_run_from_the_link_without_an_account(
    client: Any, day: AcceptedDay, app: Litestar
) -> None:
    page = await client.get(driver_path(app, day))

    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "顺德北滘家电制造基地 3号仓" in text
    assert 'class="stop card next"' in page.text
    assert text.count('name="action" value="arrived"') >= 1
    assert 'name="receiver_name"' in page.text


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "0" * 32 + ".1." + "A" * 43,
    ],
)
async def test_a_bad_link_is_not_found(client: Any, token: str) -> None:
    response = await client.get(f"/driver/runs/{token}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_a_link_for_another_tractor_cannot_be_forged(client: Any, day: AcceptedDay, app: Litestar) -> None:
    path = driver_path(app, day)
    plan_hex, tractor, mac = path.rsplit("/", 1)[1].split(".")
    forged = f"/driver/runs/{plan_hex}.{int(tractor) + 1}.{mac}"
    assert (await client.get(forged)).status_code == 404
    assert (await check_in(client, forged, day, "hook", "arrived")).status_code == 404


async def test_checking_in_at_each_stop_posts_the_journey_events(client: Any, day: AcceptedDay, app: Litestar) -> None:
    path = driver_path(app, day)
    await client.get(path)
    steps = [
        ("hook", "arrived", {}),
        ("hook", "hooked", {}),
        ("hook", "departed", {}),
        ("drop", "arrived", {}),
        ("drop", "dropped", {}),
        ("drop", "delivered", {"receiver_name": "南沙码头 李工"}),
    ]
    for stop, action, extra in steps:
        response = await check_in(client, path, day, stop, action, **extra)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == (f"{path}?saved={action}#move-{day.waybill_move_id}-{stop}")

    # Leg 1 of 2: the delivery at the terminal is the handover to the inland-water leg.
    assert await event_types(client, day) == [
        "gate_in",
        "picked_up",
        "departed",
        "arrived",
        "dropped",
        "handover",
    ]
    page = await client.get(f"{path}?saved=delivered")
    assert page.status_code == 200, page.text
    assert page.text.count('class="tap done"') >= 6
    move = await client.get(f"/v1/dispatch/moves/{day.waybill_move_id}", headers=day.carrier.headers)
    assert move.json()["status"] == "done"


async def test_tapping_twice_records_once(client: Any, day: AcceptedDay, app: Litestar) -> None:
    path = driver_path(app, day)
    await client.get(path)

    first = await check_in(client, path, day, "hook", "arrived")
    again = await check_in(client, path, day, "hook", "arrived")

    assert first.status_code == again.status_code == 303
    assert "again=1" in again.headers["location"]
    assert await event_types(client, day) == ["gate_in"]


async def test_delivered_without_the_receivers_name_is_refused_with_the_reason(
    client: Any, day: AcceptedDay, app: Litestar
) -> None:
    path = driver_path(app, day)
    await client.get(path)

    response = await check_in(client, path, day, "drop", "delivered", receiver_name="  ")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="refused"' in response.text
    assert await event_types(client, day) == []


async def test_a_check_in_without_the_csrf_token_is_refused(client: Any, day: AcceptedDay, app: Litestar) -> None:
    path = driver_path(app, day)
    form = {"move_id": str(day.waybill_move_id), "stop": "hook", "action": "arrived"}
    response = await client.post(f"{path}/check-ins", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert await event_types(client, day) == []


@pytest.mark.parametrize("move_id", ["abc", str(2**70)])
async def test_a_malformed_check_in_is_a_bad_request_page(
    client: Any, day: AcceptedDay, app: Litestar, move_id: str
) -> None:
    path = driver_path(app, day)
    await client.get(path)
    form = {"move_id": move_id, "stop": "hook", "action": "arrived", "_csrf_token": await csrf_token(client)}
    response = await client.post(f"{path}/check-ins", data=form, follow_redirects=False)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


async def test_a_superseded_run_shows_the_notice_and_refuses_taps(
    client: Any, session_factory: Any, day: AcceptedDay, app: Litestar
) -> None:
    async with session_factory() as session:
        row = await session.get(DispatchPlan, day.plan_id)
        row.status = "superseded"
        await session.commit()
    path = driver_path(app, day)

    page = await client.get(path)
    refused = await check_in(client, path, day, "hook", "arrived")

    assert page.status_code == 200
    assert 'class="tap-form"' not in page.text
    assert refused.status_code == 409
    assert 'id="refused"' in refused.text
