"""The regulator's monitoring view in a real headless Chromium: sign in, filter, open a shipment,
acknowledge an alert; screenshots of each step go to ``build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole
from accounts.users import create_user
from core.db import create_engine, create_session_factory, utcnow
from tests.api.test_dangerous_legs import DRIVER, ESCORT, person, vehicle
from tests.conftest import settings_for
from tests.e2e.test_document_page import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PETROL, SULPHURIC_ACID, carrier_permit, dangerous_waybill_body, new_uscc, with_carrier
from tests.live import LiveServer
from tests.pages.helpers import speeding_alert

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PASSWORD = "monitor-2026"
CARRIER_NAME = "佛山顺通危险品运输有限公司"


@dataclass(frozen=True)
class Scene:
    """What the browser will find: two dangerous-goods shipments, one with an open speeding alert."""

    username: str
    carrier_uscc: str
    petrol: str
    acid: str
    alert_id: int


@pytest.fixture(scope="module")
def live_server(migrated: dict[str, str]) -> Iterator[LiveServer]:
    with LiveServer(migrated["postgresql"]) as server:
        yield server


async def _organisations(database_url: str) -> tuple[dict[str, str], str]:
    """A shipper, a carrier (API keys) and a regulator with a page user."""
    engine = create_engine(settings_for(database_url))
    keys: dict[str, str] = {}
    try:
        async with create_session_factory(engine)() as session:
            for role, name in (("shipper", "佛山顺德华美电器有限公司"), ("carrier", CARRIER_NAME)):
                data = OrganisationCreate(name=name, role=OrganisationRole(role), uscc=new_uscc("440604"))
                org = await accounts.create_organisation(session, data=data)
                keys[role] = (await accounts.issue_api_key(session, organisation_id=org.id, label="e2e")).key
                keys[f"{role}_uscc"] = org.uscc
            regulator = await accounts.create_organisation(
                session,
                data=OrganisationCreate(
                    name="广东省交通运输厅", role=OrganisationRole.REGULATOR, uscc=new_uscc("440000")
                ),
            )
            username = f"monitor-{secrets.token_hex(3)}"
            await create_user(
                session, organisation_id=regulator.id, username=username, display_name="值班员 李敏", password=PASSWORD
            )
            await session.commit()
    finally:
        await engine.dispose()
    return keys, username


async def _speeding(database_url: str, *, plate: str, number: str, carrier_uscc: str) -> int:
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            carrier = await accounts.organisation_by_uscc(session, carrier_uscc)
            assert carrier is not None
            alert = speeding_alert(plate=plate, number=number, carrier_id=carrier.id, speed_kmh=96.0)
            session.add(alert)
            await session.commit()
            assert alert.id is not None
            return alert.id
    finally:
        await engine.dispose()


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _track(plate: str) -> list[dict[str, Any]]:
    """Twenty minutes along the Guangzhou–Foshan road towards Shunde, a fix a minute."""
    now = utcnow()
    return [
        {
            "plate": plate,
            "time": (now - timedelta(minutes=20 - i)).isoformat(),
            "lat": round(22.95 - i * 0.006, 5),
            "lon": round(113.18 + i * 0.004, 5),
            "speed": 58.0 + (i % 5),
            "heading": 160.0,
        }
        for i in range(20)
    ]


@pytest.fixture(scope="module")
def scene(live_server: LiveServer, migrated: dict[str, str]) -> Scene:
    database_url = migrated["postgresql"]
    keys, username = asyncio.run(_organisations(database_url))
    shipper = {"Authorization": f"Bearer {keys['shipper']}"}
    carrier = {"Authorization": f"Bearer {keys['carrier']}"}
    base = live_server.url
    plate = "粤E" + "".join(secrets.choice("0123456789") for _ in range(5))
    with httpx.Client(base_url=base, timeout=30) as http:
        _ok(http.put("/v1/dangerous-goods/carrier-permit", json=carrier_permit(), headers=carrier))
        _ok(http.post("/v1/dangerous-goods/vehicles", json=vehicle(plate=plate), headers=carrier))
        _ok(http.post("/v1/dangerous-goods/people", json=person("driver", DRIVER), headers=carrier))
        _ok(http.post("/v1/dangerous-goods/people", json=person("escort", ESCORT), headers=carrier))
        numbers = []
        for cargo in (PETROL, SULPHURIC_ACID):
            body = with_carrier(dangerous_waybill_body([cargo]), 1, keys["carrier_uscc"], name=CARRIER_NAME)
            body["legs"][0].update({"driver": DRIVER, "escort": ESCORT})
            body["legs"][0]["equipment"]["vehicle_plate"] = plate
            numbers.append(_ok(http.post("/v1/waybills", json=body, headers=shipper))["number"])
        _ok(http.post("/v1/positions", json={"positions": _track(plate)}, headers=carrier))
    alert_id = asyncio.run(_speeding(database_url, plate=plate, number=numbers[0], carrier_uscc=keys["carrier_uscc"]))
    return Scene(
        username=username, carrier_uscc=keys["carrier_uscc"], petrol=numbers[0], acid=numbers[1], alert_id=alert_id
    )


@pytest.fixture
async def page(live_server: LiveServer) -> AsyncIterator[tuple[Page, list[str]]]:
    """A desktop-sized page in Chinese, recording every URL it requests."""
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        tab = await context.new_page()
        requested: list[str] = []
        tab.on("request", lambda request: requested.append(request.url))
        yield tab, requested
        await browser.close()


async def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=str(SHOTS / f"regulator-{name}.png"), full_page=True)


async def _sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/regulator")
    await expect(page).to_have_url(f"{base}/login?next=%2Fregulator")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await _shot(page, "1-sign-in")
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{base}/regulator")


async def test_a_regulator_signs_in_filters_opens_a_shipment_and_acknowledges_an_alert(
    live_server: LiveServer, scene: Scene, page: tuple[Page, list[str]]
) -> None:
    tab, requested = page
    base = live_server.url
    await _sign_in(tab, base, scene.username)

    # The overview: a map drawn from shipped boundaries, the table, the live feed.
    await expect(tab.locator("h1")).to_have_text("在途危险货物运输")
    assert await tab.locator(".map svg path.city").count() >= 3  # framed on the vehicles shown
    assert await tab.locator(".map svg .marker").count() >= 1
    assert await tab.evaluate("document.fonts.check('16px \"Freight CJK\"', '危险货物运输监管')")
    feed_item = tab.locator(f'#alert-feed li[data-alert-id="{scene.alert_id}"]')
    await expect(feed_item).to_contain_text("超速")
    await expect(feed_item).to_contain_text("车速 96 公里/小时，限速 80 公里/小时")
    await _shot(tab, "2-overview")

    # Filter to the carrier and class 8: only the sulphuric acid remains.
    await tab.select_option("select[name=carrier]", scene.carrier_uscc)
    await tab.select_option("select[name=class]", "8")
    await tab.get_by_role("button", name="筛选").click()
    rows = tab.locator("#shipments tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(scene.acid)
    await expect(rows.first).to_contain_text("UN1830")
    await _shot(tab, "3-filtered")

    # The CSV export of this view.
    async with tab.expect_download() as download_info:
        await tab.get_by_role("link", name="导出 CSV").click()
    download = await download_info.value
    exported = (await asyncio.to_thread(Path(await download.path()).read_bytes)).decode("utf-8-sig")
    assert scene.acid in exported
    assert scene.petrol not in exported

    # The petrol shipment's page: goods with hazard data, crew, planned route against the track.
    await tab.goto(f"{base}/regulator?carrier={scene.carrier_uscc}")
    await tab.locator("#shipments").get_by_role("link", name=scene.petrol).click()
    await expect(tab).to_have_url(f"{base}/regulator/shipments/{scene.petrol}")
    await expect(tab.locator("#goods")).to_contain_text("UN1203")
    await expect(tab.locator("body")).to_contain_text(DRIVER["name"])
    await expect(tab.locator("body")).to_contain_text(ESCORT["name"])
    await expect(tab.locator("body")).to_contain_text("实际轨迹（20 个定位点）")
    assert await tab.locator(".map svg .route").count() == 2
    await _shot(tab, "4-shipment")

    # Acknowledge the speeding alert from the overview's feed, without leaving the page.
    await tab.goto(f"{base}/regulator")
    item = tab.locator(f'#alert-feed li[data-alert-id="{scene.alert_id}"]')
    await item.get_by_placeholder("备注（可选）").fill("已联系驾驶员，要求降速")
    await item.get_by_role("button", name="确认").click()
    acknowledged = tab.locator(f'#alert-feed li[data-alert-id="{scene.alert_id}"]')
    await expect(acknowledged).to_have_class("acknowledged")
    await expect(acknowledged).to_contain_text("已联系驾驶员，要求降速")
    await expect(tab).to_have_url(f"{base}/regulator")
    await _shot(tab, "5-acknowledged")

    assert all(url.startswith((base, "data:")) for url in requested), [u for u in requested if not u.startswith(base)]


async def test_the_view_switches_to_english_and_fits_a_phone(
    live_server: LiveServer, scene: Scene, page: tuple[Page, list[str]]
) -> None:
    tab, _ = page
    base = live_server.url
    await _sign_in(tab, base, scene.username)
    await tab.get_by_role("link", name="English").click()
    await expect(tab.locator("h1")).to_have_text("Active dangerous-goods shipments")
    await tab.set_viewport_size({"width": 390, "height": 844})
    await _shot(tab, "6-english-phone")
    assert await tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
