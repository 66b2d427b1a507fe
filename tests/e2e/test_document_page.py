"""The e-waybill page in a real headless Chromium: Chinese by default, English on request, nothing from outside."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole
from core.db import create_engine, create_session_factory
from tests.conftest import settings_for
from tests.factories import new_uscc, waybill_body
from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live_server(migrated: dict[str, str]) -> Iterator[LiveServer]:
    with LiveServer(migrated["postgresql"]) as server:
        yield server


async def _shipper_key(database_url: str) -> str:
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            data = OrganisationCreate(name="佛山顺德华美电器有限公司", role=OrganisationRole.SHIPPER, uscc=new_uscc())
            organisation = await accounts.create_organisation(session, data=data)
            key = await accounts.issue_api_key(session, organisation_id=organisation.id, label="browser")
            await session.commit()
            return key.key
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def waybill(live_server: LiveServer, migrated: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A waybill of a fresh shipper, and the headers that authenticate as that shipper."""
    key = asyncio.run(_shipper_key(migrated["postgresql"]))
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.post(f"{live_server.url}/v1/waybills", json=waybill_body(), headers=headers)
    response.raise_for_status()
    return str(response.json()["number"]), headers


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def open_page(browser: Browser, url: str, headers: dict[str, str], shot: Path) -> tuple[str, list[str]]:
    """Load a page; return its visible text and every URL it requested."""
    context = await browser.new_context(extra_http_headers=headers, locale="zh-CN")
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = await page.goto(url, wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    await page.evaluate("document.fonts.ready")
    # Rendered with the platform's own font, not whatever the machine happens to have.
    assert await page.evaluate("document.fonts.check('16px \"Freight CJK\"', '多式联运电子运单')")
    assert await page.evaluate("document.fonts.check('bold 16px \"Freight CJK\"', '顺德北滘')")
    await page.screenshot(path=str(shot), full_page=True)
    text = await page.inner_text("body")
    await context.close()
    return text, requested


async def test_the_page_is_chinese_by_default_and_loads_nothing_from_outside(
    browser: Browser, live_server: LiveServer, waybill: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    number, headers = waybill
    text, requested = await open_page(
        browser, f"{live_server.url}/v1/waybills/{number}/document", headers, tmp_path / "zh.png"
    )
    assert "多式联运电子运单" in text
    assert number in text
    assert "佛山顺德华美电器有限公司" in text
    assert "Asia/Shanghai" in text
    assert all(url.startswith((live_server.url, "data:")) for url in requested), requested
    assert (tmp_path / "zh.png").stat().st_size > 10_000


async def test_the_page_switches_to_english(
    browser: Browser, live_server: LiveServer, waybill: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    number, headers = waybill
    text, _ = await open_page(
        browser, f"{live_server.url}/v1/waybills/{number}/document?lang=en", headers, tmp_path / "en.png"
    )
    assert "Multimodal Electronic Waybill" in text
    assert "多式联运电子运单" not in text


async def test_without_a_key_the_page_asks_for_one(
    browser: Browser, live_server: LiveServer, waybill: tuple[str, dict[str, str]]
) -> None:
    number, _ = waybill
    context = await browser.new_context()
    page = await context.new_page()
    response = await page.goto(f"{live_server.url}/v1/waybills/{number}/document")
    assert response is not None
    assert response.status == 401
    await context.close()
