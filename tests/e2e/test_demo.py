"""The README's demo: `freight demo` on SQLite serves the API, and the demo shipper's key works.

With RabbitMQ on the machine (as in CI) the demo also runs its simulated partners, and its live
waybill gains the terminal's events and the node's acknowledgement.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.examples import CREATE_WAYBILL_EXAMPLE

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], str | None]]:
    """`freight demo` running in a fresh directory (default database: ./freight.db there)."""
    workdir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREIGHT_")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "demo", "--port", str(port)],
        cwd=workdir,
        env={**env, "FREIGHT_LOG_JSON": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    keys: dict[str, str] = {}
    live: str | None = None
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while True:
            line = process.stdout.readline()
            assert line or time.monotonic() < deadline, "demo ended before printing its keys"
            match = re.match(r"^\s+(\w+)\s+(fk_\S+)\s", line)
            if match:
                keys.setdefault(match.group(1), match.group(2))
            if line.startswith("Partner exchange off"):
                break
            if line.startswith("Live waybill "):
                live = line.split()[2].rstrip(":")
                break
        # Keep reading the server's log lines, or a full pipe would stall it.
        drain = threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True)  # type: ignore[union-attr]
        drain.start()
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo server did not become ready"
            time.sleep(0.2)
        assert (workdir / "freight.db").exists()
        yield base, keys, live
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def test_demo_shipper_creates_and_reads_a_waybill(demo: tuple[str, dict[str, str], str | None]) -> None:
    base, keys, live = demo
    headers = {"Authorization": f"Bearer {keys['shipper']}"}
    created = httpx.post(f"{base}/v1/waybills", json=CREATE_WAYBILL_EXAMPLE, headers=headers)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    read = httpx.get(f"{base}/v1/waybills/{number}", headers=headers)
    assert read.status_code == 200
    assert read.json()["shipper_reference"] == CREATE_WAYBILL_EXAMPLE["shipper_reference"]
    listing = httpx.get(f"{base}/v1/waybills", params={"limit": 100}, headers=headers).json()
    assert len(listing["items"]) == (14 if live else 13)


def test_demo_regulator_reads_all_and_the_port_only_what_passes_shekou(
    demo: tuple[str, dict[str, str], str | None],
) -> None:
    base, keys, _ = demo
    shipper = {"Authorization": f"Bearer {keys['shipper']}"}

    def first(place: str) -> str:
        items = httpx.get(f"{base}/v1/waybills", params={"place": place, "status": "issued"}, headers=shipper).json()
        return str(items["items"][0]["number"])

    at_shekou, at_nansha = first("CNSHK"), first("CNNSA")
    for number in (at_shekou, at_nansha):
        regulator = httpx.get(f"{base}/v1/waybills/{number}", headers={"Authorization": f"Bearer {keys['regulator']}"})
        assert regulator.status_code == 200
    port = {"Authorization": f"Bearer {keys['port']}"}
    assert httpx.get(f"{base}/v1/waybills/{at_shekou}", headers=port).status_code == 200
    assert httpx.get(f"{base}/v1/waybills/{at_nansha}", headers=port).status_code == 404


def test_demo_serves_swagger_ui_offline(demo: tuple[str, dict[str, str], str | None]) -> None:
    base, _, _ = demo
    page = httpx.get(f"{base}/schema/")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()


def test_demo_live_waybill_is_gated_in_loaded_and_accepted_by_the_node(
    demo: tuple[str, dict[str, str], str | None],
) -> None:
    base, keys, live = demo
    if live is None:
        pytest.skip("no RabbitMQ: the demo runs without its partner exchange")
    headers = {"Authorization": f"Bearer {keys['shipper']}"}
    deadline = time.monotonic() + 60
    while True:
        events = httpx.get(f"{base}/v1/waybills/{live}/timeline", headers=headers).json()["events"]
        actions = [
            c["action"] for c in httpx.get(f"{base}/v1/waybills/{live}/changes", headers=headers).json()["changes"]
        ]
        seen = {(e["event_type"], e["leg"], e["source"]) for e in events}
        if {("gate_in", 1, "edi"), ("loaded", 2, "edi")} <= seen and "node_accepted" in actions:
            break
        assert time.monotonic() < deadline, (seen, actions)
        time.sleep(0.5)


def test_demo_regulator_sees_dangerous_goods_alerts_of_every_kind(demo: tuple[str, dict[str, str], str | None]) -> None:
    base, keys, _ = demo
    regulator = {"Authorization": f"Bearer {keys['regulator']}"}
    listing = httpx.get(f"{base}/v1/alerts", params={"limit": 200}, headers=regulator)
    assert listing.status_code == 200, listing.text
    kinds = {item["kind"] for item in listing.json()["items"]}
    assert kinds >= {"speeding", "stationary", "off_corridor", "restricted_zone", "no_signal", "no_waybill"}


def test_demo_carrier_plans_its_day_in_the_dispatch_app(demo: tuple[str, dict[str, str], str | None]) -> None:
    base, _, _ = demo
    with httpx.Client(base_url=base, timeout=30) as browser:
        browser.get("/login")
        signed_in = browser.post(
            "/login",
            data={"username": "carrier", "password": "freight-demo", "_csrf_token": browser.cookies["freight_csrf"]},
        )
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/carrier"
        fleet = browser.get("/carrier").text
        assert len(re.findall(r'<tr class="state-', fleet.split('id="trailers"')[0])) >= 40  # tractors
        assert len(re.findall(r'<tr class="state-', fleet.split('id="trailers"')[1].split('id="crews"')[0])) >= 100
        moves = browser.get("/carrier/moves").text
        counts = [int(n) for n in re.findall(r'id="tab-\w+"[^>]*>[^<]*<b>(\d+)</b>', moves)]
        assert sum(counts) >= 150
        start = re.search(r'name="start" value="([^"]+)"', browser.get("/carrier/plans").text)
        assert start is not None
        form = {"horizon_hours": "24", "time_limit_s": "10", "_csrf_token": browser.cookies["freight_csrf"]}
        created = browser.post("/carrier/plans", data={**form, "start": start.group(1)})
        assert created.status_code == 303, created.text
        plan = created.headers["location"]
        deadline = time.monotonic() + 90
        while (progress := browser.get(f"{plan}/progress").json())["status"] not in {"done", "failed"}:
            assert time.monotonic() < deadline, progress
            time.sleep(1)
        assert progress["status"] == "done", progress["error"]
        page = browser.get(plan).text
    assert 'id="feasible"' in page
    assert page.count("g-row") >= 20  # tractors at work on the Gantt chart
    planned = re.search(r'data-key="moves_unassigned">.*?<b>(\d+)</b>', page, re.S)
    assert planned is not None
    assert int(planned.group(1)) <= 75, "most of the day's open moves are planned"
