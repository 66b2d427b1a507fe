"""The carrier's dispatch app in a real headless Chromium, from the morning's moves to proof of delivery.

A dispatcher signs in, imports moves from CSV (one of them a waybill's road leg), presses Plan and
watches the progress, reads the Gantt chart and the map, moves a dangerous-goods task to a tractor
without a dangerous-goods crew and sees the check say so, pins a run and re-plans the rest, accepts,
and opens a run sheet. The driver opens the run from the sheet's link on a phone and taps through the
waybill's stops; the waybill's journey shows the taps and the dispatcher's board follows by itself.
Screenshots of each page go to ``build/screenshots/dispatch-*.png``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlmodel import col

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole
from accounts.users import create_user
from core.db import create_engine, create_session_factory, utcnow
from dispatch.demo_day import demo_day_start, store_day
from dispatch.models import DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchPlan
from dispatch.solver.generator import generate_day
from tests.conftest import settings_for
from tests.e2e.test_document_page import CHROMIUM, CHROMIUM_ARGS
from tests.factories import new_uscc, waybill_body, with_carrier
from tests.live import LiveServer
from waybill.document import DISPLAY_ZONE

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PASSWORD = "dispatch-2026"
CARRIER_NAME = "东莞虎门甩挂运输有限公司"


@dataclass(frozen=True)
class Yard:
    """What the dispatcher starts with: a small generated day, a waybill of ours, a CSV of moves."""

    username: str
    carrier_key: str
    carrier_id: Any
    waybill: str
    day_start: datetime
    csv: bytes
    hazmat_tractors: frozenset[int]


@pytest.fixture(scope="module")
def live_server(migrated: dict[str, str]) -> Iterator[LiveServer]:
    with LiveServer(migrated["postgresql"]) as server:
        yield server


def _local(moment: datetime) -> str:
    return moment.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M")


async def _carrier_day(database_url: str) -> dict[str, Any]:
    """A carrier with an API key, a dispatcher and a generated day; a shipper's key to issue the waybill."""
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            carrier = await accounts.create_organisation(
                session,
                data=OrganisationCreate(name=CARRIER_NAME, role=OrganisationRole.CARRIER, uscc=new_uscc("441900")),
            )
            shipper = await accounts.create_organisation(
                session,
                data=OrganisationCreate(
                    name="东莞长安精密五金有限公司", role=OrganisationRole.SHIPPER, uscc=new_uscc("441900")
                ),
            )
            keys = {
                "carrier": (await accounts.issue_api_key(session, organisation_id=carrier.id, label="e2e")).key,
                "shipper": (await accounts.issue_api_key(session, organisation_id=shipper.id, label="e2e")).key,
            }
            username = f"dispatcher-{secrets.token_hex(3)}"
            await create_user(
                session, organisation_id=carrier.id, username=username, display_name="调度 黄晓明", password=PASSWORD
            )
            start = demo_day_start(utcnow())
            problem = generate_day(tractors=5, moves=6, seed=11, hazmat_share=0.5, start=start)
            await store_day(session, carrier_id=carrier.id, problem=problem)
            await session.commit()
            return {"keys": keys, "username": username, "carrier": carrier, "start": start}
    finally:
        await engine.dispose()


async def _fleet_facts(database_url: str, carrier_id: Any) -> dict[str, Any]:
    """Place codes, free trailers and the hazmat tractors, to write the CSV and choose the tractor to break."""
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            places = list(
                await session.scalars(sa.select(DispatchPlace).where(col(DispatchPlace.carrier_id) == carrier_id))
            )
            used = set(
                await session.scalars(
                    sa.select(col(DispatchMove.trailer_id)).where(col(DispatchMove.carrier_id) == carrier_id)
                )
            )
            trailers = [
                t
                for t in await session.scalars(
                    sa.select(DispatchTrailer).where(col(DispatchTrailer.carrier_id) == carrier_id)
                )
                if t.id not in used and not t.out_of_service
            ]
            tractors = list(
                await session.scalars(sa.select(DispatchTractor).where(col(DispatchTractor.carrier_id) == carrier_id))
            )
            return {"places": places, "free_trailers": trailers, "tractors": tractors}
    finally:
        await engine.dispose()


def _csv(facts: dict[str, Any], start: datetime, waybill: str) -> bytes:
    """Three hauls in the CSV a dispatcher would keep: one for the waybill, one of dangerous goods in a tank."""
    trailers = sorted(facts["free_trailers"], key=lambda t: (not t.hazmat_approved, t.plate))
    places = {p.id: p for p in facts["places"]}
    ordinary = [t for t in trailers if not t.hazmat_approved and t.type in {"box", "curtain"}] or trailers
    first, tank = ordinary[0], next(t for t in trailers if t.hazmat_approved and t.type == "tank")
    terminal = next(p for p in facts["places"] if p.id not in {first.place_id, tank.place_id})
    rows = [
        "类型,挂车,起点,终点,可提时间,送达时间,危险品,运单号,运单段",
        f"haul,{first.plate},{places[first.place_id].code},{terminal.code},"
        f"{_local(start + timedelta(hours=3))},{_local(start + timedelta(hours=9))},否,{waybill},1",
        f"haul,{tank.plate},{places[tank.place_id].code},{terminal.code},"
        f"{_local(start + timedelta(hours=4))},{_local(start + timedelta(hours=11))},是,,",
    ]
    return ("\n".join(rows) + "\n").encode("utf-8-sig")


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


@pytest.fixture(scope="module")
def yard(live_server: LiveServer, migrated: dict[str, str]) -> Yard:
    database_url = migrated["postgresql"]
    made = asyncio.run(_carrier_day(database_url))
    carrier = made["carrier"]
    body = with_carrier(waybill_body(), 1, carrier.uscc, name=CARRIER_NAME)
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        waybill = _ok(
            http.post("/v1/waybills", json=body, headers={"Authorization": f"Bearer {made['keys']['shipper']}"})
        )["number"]
    facts = asyncio.run(_fleet_facts(database_url, carrier.id))
    return Yard(
        username=made["username"],
        carrier_key=made["keys"]["carrier"],
        carrier_id=carrier.id,
        waybill=waybill,
        day_start=made["start"],
        csv=_csv(facts, made["start"], waybill),
        hazmat_tractors=frozenset(int(t.id) for t in facts["tractors"] if t.hazmat_approved),
    )


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def _context(browser: Browser, width: int, height: int) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    tab = await context.new_page()
    requested: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))
    return context, tab, requested


async def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for weight in ("400", "700"):  # glyphs first met late (plates, badges) load before the picture
        await page.evaluate(f"document.fonts.load('{weight} 16px \"Freight CJK\"', '粤危第段挂车')")
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=str(SHOTS / f"dispatch-{name}.png"), full_page=True)


async def _sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{base}/carrier")


async def _plan_row(database_url: str, carrier_id: Any, status: str) -> DispatchPlan:
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            row = await session.scalar(
                sa.select(DispatchPlan)
                .where(col(DispatchPlan.carrier_id) == carrier_id, col(DispatchPlan.status) == status)
                .order_by(col(DispatchPlan.created_at).desc())
            )
            assert row is not None
            return row
    finally:
        await engine.dispose()


async def _assignment_of_waybill(database_url: str, carrier_id: Any, number: str) -> DispatchAssignment:
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            row = await session.scalar(
                sa.select(DispatchAssignment)
                .join(DispatchPlan, col(DispatchPlan.id) == col(DispatchAssignment.plan_id))
                .where(
                    col(DispatchAssignment.carrier_id) == carrier_id,
                    col(DispatchAssignment.waybill_number) == number,
                    col(DispatchPlan.status) == "accepted",
                )
            )
            assert row is not None, "the waybill's move is not in the accepted plan"
            return row
    finally:
        await engine.dispose()


async def _plates(database_url: str, assignment: DispatchAssignment) -> tuple[str | None, str | None]:
    """The tractor's and trailer's plates of an assignment."""
    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            tractor = await session.get(DispatchTractor, assignment.tractor_id)
            trailer = await session.get(DispatchTrailer, assignment.trailer_id) if assignment.trailer_id else None
            return (tractor.plate if tractor else None, trailer.plate if trailer else None)
    finally:
        await engine.dispose()


async def _press_plan(tab: Page, base: str, start: datetime, seconds: int) -> None:
    await tab.goto(f"{base}/carrier/plans")
    await tab.locator("input[name=start]").fill(start.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%dT%H:%M"))
    await tab.locator("input[name=time_limit_s]").fill(str(seconds))
    await tab.get_by_role("button", name="生成计划").click()
    await _watch_progress(tab)


async def _watch_progress(tab: Page) -> None:
    """The progress page fills its bar and figures, then opens the plan by itself."""
    await expect(tab.locator("#progress")).to_be_visible()
    await expect(tab.locator("#p-tractors")).not_to_have_text("—", timeout=20_000)
    await _shot(tab, "4-planning")
    await expect(tab.locator("#gantt svg.gantt")).to_be_visible(timeout=60_000)


async def test_a_dispatcher_plans_the_day_and_a_driver_reports_delivery(
    live_server: LiveServer, yard: Yard, browser: Browser, migrated: dict[str, str]
) -> None:
    base, database_url = live_server.url, migrated["postgresql"]
    context, tab, requested = await _context(browser, 1440, 1000)
    await _sign_in(tab, base, yard.username)

    # The fleet board: tractors, crews, trailers and the yard inventory.
    await expect(tab.locator("h1")).to_have_text("车队看板")
    assert await tab.locator("#tractors tbody tr").count() == 5
    assert await tab.locator("#inventory tbody tr").count() >= 1
    await _shot(tab, "1-fleet")

    # Import the morning's moves from CSV: a file with a bad row is refused row by row, the good one lands.
    await tab.get_by_role("link", name="调度任务").click()
    opened_before = int(await tab.locator("#tab-open b").inner_text())
    bad = yard.csv.decode("utf-8-sig").replace(",是,,", ",是,,\nhaul,NO-SUCH,XX,YY,明天,,,,")
    await tab.set_input_files(
        "input[name=file]", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    await tab.get_by_role("button", name="导入").click()
    await expect(tab.locator("#import-errors tbody tr")).not_to_have_count(0)
    await expect(tab.locator("#import-errors tbody tr td:first-child").first).to_have_text("4")  # its sheet row
    await _shot(tab, "2-import-errors")
    await tab.goto(f"{base}/carrier/moves")
    await tab.set_input_files(
        "input[name=file]", files=[{"name": "moves.csv", "mimeType": "text/csv", "buffer": yard.csv}]
    )
    await tab.get_by_role("button", name="导入").click()
    await expect(tab.locator("#tab-open b")).to_have_text(str(opened_before + 2))
    await expect(tab.locator("#moves")).to_contain_text(yard.waybill)
    await _shot(tab, "3-moves")

    # Plan: the progress bar, then the Gantt chart and the routes on the map.
    await _press_plan(tab, base, yard.day_start, 6)
    assert await tab.locator("#gantt rect.g-hook").count() >= 1
    assert await tab.locator("#gantt rect.g-drop").count() >= 1
    assert await tab.locator("#gantt rect.g-drive").count() >= 1
    assert await tab.locator(".map svg .route.run").count() >= 1
    assert await tab.locator(".map svg path.city").count() >= 1
    await expect(tab.locator("#feasible")).to_be_visible()
    await _shot(tab, "5-plan")

    # Adjust: a dangerous-goods move to a tractor without a dangerous-goods crew breaks the plan, and says so.
    plan = await _plan_row(database_url, yard.carrier_id, "done")
    hazmat_move = next((m for run in plan.plan["runs"] for m in run["moves"] if _is_hazmat(plan.problem, m)), None)
    ordinary = sorted(int(t["id"]) for t in plan.problem["tractors"] if int(t["id"]) not in yard.hazmat_tractors)
    assert hazmat_move is not None, "the generated day has a planned dangerous-goods move"
    assert ordinary, "the generated day has a tractor without dangerous-goods approval"
    await tab.locator(f'#gantt rect[data-move="{hazmat_move}"]').first.click()  # picks the move in the form
    await expect(tab.locator("#adjust-move")).to_have_value(hazmat_move)
    await tab.select_option("#adjust-tractor", str(ordinary[0]))
    await tab.get_by_role("button", name="调整并检查").click()
    await expect(tab.locator("#moved")).to_be_visible()
    await expect(tab.locator("#violations li").first).to_be_visible()
    assert await tab.locator("#accept-form button").is_disabled()
    await _shot(tab, "6-adjusted")

    # Pin the runs that do not carry the broken move and re-plan the rest: feasible again, then accept.
    for box in await tab.locator("#plan-runs tbody input[name=pinned]").all():
        tractor = int(await box.get_attribute("value") or 0)
        if tractor != ordinary[0] and tractor not in yard.hazmat_tractors:
            await box.check()
    await tab.get_by_role("button", name="保留锁定路线，重新安排其余任务").click()
    await _watch_progress(tab)
    await expect(tab.locator("#feasible")).to_be_visible()
    await tab.get_by_role("button", name="接受计划").click()
    await expect(tab.locator("#plan-status")).to_have_text("已接受")
    await expect(tab.locator("#accepted-runs tbody tr")).not_to_have_count(0)
    await _shot(tab, "7-accepted")

    # The run sheet of the tractor that carries the waybill: stops, trailer, QR codes, the driver's link.
    assignment = await _assignment_of_waybill(database_url, yard.carrier_id, yard.waybill)
    plates = await _plates(database_url, assignment)
    await tab.goto(f"{base}/carrier/runs/{assignment.plan_id}/{assignment.tractor_id}")
    await expect(tab.locator("body")).to_contain_text(yard.waybill)
    assert await tab.locator("svg").count() >= 2  # the driver's link and the waybill's QR codes
    pdf = await tab.request.get(f"{base}/carrier/runs/{assignment.plan_id}/{assignment.tractor_id}/pdf")
    assert pdf.status == 200
    assert (await pdf.body()).startswith(b"%PDF")
    driver_link = await tab.locator("figcaption a").first.get_attribute("href")
    assert driver_link
    await _shot(tab, "8-run-sheet")

    # The dispatcher keeps the moves board open; the driver reports from a phone.
    await tab.goto(f"{base}/carrier/moves?status=done")
    done_before = int(await tab.locator("#tab-done b").inner_text())
    phone_context, phone, phone_requests = await _context(browser, 390, 844)
    await phone.goto(base + urlsplit(driver_link).path)  # the sheet prints the deployment's public address
    move = assignment.move_id
    hook, drop = phone.locator(f"#move-{move}-hook"), phone.locator(f"#move-{move}-drop")
    for card, taps in ((hook, 3), (drop, 2)):
        for _ in range(taps):
            await card.locator("form.tap-form button").first.click()
            await expect(phone.locator(".saved")).to_be_visible()
    await drop.locator("input[name=receiver_name]").fill("王建国")
    await drop.locator("form.tap-form button").first.click()
    await expect(drop.locator(".tap.done")).to_have_count(3)
    await _shot(phone, "9-driver-phone")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # The waybill's journey has the taps, and the dispatcher's board moved the move to done by itself.
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.get(
            f"/v1/waybills/{yard.waybill}/events", headers={"Authorization": f"Bearer {yard.carrier_key}"}
        )
        timeline = _ok(
            await http.get(
                f"/v1/waybills/{yard.waybill}/timeline", headers={"Authorization": f"Bearer {yard.carrier_key}"}
            )
        )
    events = _ok(response)
    kinds = [event["event_type"] for event in events["events"]]
    # Leg 1 of 2: the receiver at its end takes the cargo over (handover); "delivered" is for the last leg.
    assert kinds == ["gate_in", "picked_up", "departed", "arrived", "dropped", "handover"]
    assert [event["event_type"] for event in timeline["events"]] == kinds
    leg = timeline["legs"][0]
    assert leg["actual_departure"] is not None
    assert leg["actual_arrival"] is not None
    assert leg["handed_over_at"] is not None
    assert leg["status"] == "completed"
    assert (leg["equipment"]["vehicle_plate"], leg["equipment"]["trailer_plate"]) == plates  # put there by accepting
    assert (timeline["status"], timeline["current_leg"]) == ("in_transit", 2)
    await expect(tab.locator("#tab-done b")).to_have_text(str(done_before + 1), timeout=20_000)
    await expect(tab.locator(f'#moves tr[data-move="{move}"]')).to_be_visible()

    # English at phone width.
    await tab.goto(f"{base}/carrier")
    await tab.get_by_role("link", name="English").click()
    await expect(tab.locator("h1")).to_have_text("Fleet board")
    await tab.set_viewport_size({"width": 390, "height": 844})
    await _shot(tab, "10-english-phone")
    assert await tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    everything = requested + phone_requests
    assert all(url.startswith((base, "data:")) for url in everything), [u for u in everything if not u.startswith(base)]
    await phone_context.close()
    await context.close()


def _is_hazmat(problem: dict[str, Any], move_id: str) -> bool:
    return any(m["id"] == move_id and m.get("hazmat") for m in problem["moves"])


def test_the_csv_names_the_waybill_leg(yard: Yard) -> None:
    text = yard.csv.decode("utf-8-sig")
    assert re.search(rf",{yard.waybill},1$", text, re.MULTILINE)
