"""The carrier's dispatch pages: fleet and moves boards, moves by hand, the Plan button, the plan page.

Run sheets and the driver's page are tested in test_run_pages.py.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from dispatch.plan_models import DispatchPlan
from tests.conftest import Org
from tests.dispatch import test_plans_api
from tests.dispatch.test_fleet_api import Fleet
from tests.dispatch.test_plans_api import DAY_START
from tests.pages.helpers import add_page_user, csrf_token, sign_in

carrier = test_plans_api.carrier
day = test_plans_api.day
"""The carrier and its day of the planning API's tests: the example fleet and two hauls to the terminal."""


@pytest.fixture
async def dispatcher(client: Any, carrier: Org, session_factory: Any) -> str:
    """A signed-in dispatcher of the carrier; returns the CSRF token for forms."""
    username = await add_page_user(session_factory, carrier, name="调度员")
    response = await sign_in(client, username)
    assert response.headers["location"] == "/carrier"
    return await csrf_token(client)


async def plan_from_the_page(client: Any, token: str) -> str:
    """Press Plan; follow the progress until the plan is done; returns the plan page's path."""
    form = {"start": DAY_START[:16], "horizon_hours": "24", "time_limit_s": "2", "_csrf_token": token}
    response = await client.post("/carrier/plans", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    path = str(response.headers["location"])
    for _ in range(240):
        progress = (await client.get(f"{path}/progress")).json()
        if progress["status"] in {"done", "failed"}:
            assert progress["status"] == "done", progress["error"]
            assert progress["tractors"] >= 1
            return path
        await asyncio.sleep(0.25)
    raise AssertionError("the plan did not finish within 60 s")


async def test_the_fleet_board_shows_tractors_crews_trailers_and_the_yard(
    client: Any, day: Fleet, dispatcher: str
) -> None:
    page = await client.get("/carrier")
    assert page.status_code == 200
    text = page.text
    assert "车队看板" in text
    assert day.tractor["plate"] in text
    assert day.driver["name"] in text
    assert "粤S5678挂" in text
    assert 'id="inventory"' in text
    assert "空闲" in text  # every tractor is free before a plan is accepted
    assert (await client.get("/carrier/live")).json()["version"]


async def test_the_moves_board_lists_moves_by_status(client: Any, day: Fleet, dispatcher: str) -> None:
    page = await client.get("/carrier/moves")
    assert page.status_code == 200
    for move in day.moves:
        assert f'data-move="{move["id"]}"' in page.text
    assert re.search(r'id="tab-open"[^>]*>[^<]*<b>2</b>', page.text)
    done = await client.get("/carrier/moves", params={"status": "done"})
    assert 'data-move="' not in done.text
    bad = await client.get("/carrier/moves", params={"status": "lost"})
    assert bad.status_code == 400
    assert "text/html" in bad.headers["content-type"]


async def test_a_move_added_by_hand_appears_among_the_open_moves(client: Any, day: Fleet, dispatcher: str) -> None:
    form = {
        "kind": "position",
        "trailer_type": "box",
        "destination_id": str(day.places["factory"]["id"]),
        "ready_at": "2026-12-03T07:00",
        "deliver_by": "2026-12-03T10:00",
        "_csrf_token": dispatcher,
    }
    response = await client.post("/carrier/moves", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert re.search(r'id="tab-open"[^>]*>[^<]*<b>3</b>', page.text)
    assert "07:00" in page.text  # shown in Beijing time as entered


async def test_a_bad_move_form_is_a_400_page_and_adds_nothing(client: Any, day: Fleet, dispatcher: str) -> None:
    form = {"kind": "haul", "destination_id": str(day.places["terminal"]["id"]), "_csrf_token": dispatcher}
    response = await client.post("/carrier/moves", data=form, follow_redirects=False)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    page = await client.get("/carrier/moves")
    assert re.search(r'id="tab-open"[^>]*>[^<]*<b>2</b>', page.text)


async def test_a_form_without_the_csrf_token_is_refused(client: Any, day: Fleet, dispatcher: str) -> None:
    response = await client.post("/carrier/plans", data={"time_limit_s": "2"}, follow_redirects=False)
    assert response.status_code == 403


async def test_other_roles_may_not_open_the_dispatch_app(client: Any, shipper: Any, session_factory: Any) -> None:
    await sign_in(client, await add_page_user(session_factory, shipper))
    assert (await client.get("/carrier")).status_code == 403
    assert (await client.get("/carrier/plans")).status_code == 403


async def test_the_plan_button_plans_and_the_page_shows_gantt_map_and_figures(
    client: Any, day: Fleet, dispatcher: str
) -> None:
    path = await plan_from_the_page(client, dispatcher)
    page = await client.get(path)
    assert page.status_code == 200
    text = page.text
    assert 'class="gantt"' in text
    assert "g-bar g-hook" in text
    assert "g-bar g-drop" in text
    assert "g-bar g-drive towed" in text
    assert 'class="route run c0"' in text  # the run drawn on the map
    assert 'id="feasible"' in text
    assert day.tractor["plate"] in text
    assert 'id="accept-form"' in text


async def test_another_carriers_plan_is_not_found(
    client: Any, day: Fleet, dispatcher: str, make_org: Any, session_factory: Any
) -> None:
    path = await plan_from_the_page(client, dispatcher)
    other = await make_org("carrier", name="江门另一家物流有限公司")
    client.cookies.clear()
    await sign_in(client, await add_page_user(session_factory, other))
    assert (await client.get(path)).status_code == 404
    assert (await client.get(f"{path}/progress")).status_code == 404


async def test_accepting_from_the_page_puts_the_tractor_on_a_run(client: Any, day: Fleet, dispatcher: str) -> None:
    path = await plan_from_the_page(client, dispatcher)
    accepted = await client.post(f"{path}/accept", data={"_csrf_token": dispatcher}, follow_redirects=False)
    assert accepted.status_code == 303
    page = await client.get(path)
    assert "已接受" in page.text
    assert f"/carrier/runs/{path.rsplit('/', 1)[1]}/{day.tractor['id']}" in page.text
    board = await client.get("/carrier")
    assert "执行中" in board.text
    planned = await client.get("/carrier/moves", params={"status": "planned"})
    assert day.tractor["plate"] in planned.text


async def _plan_id(path: str) -> str:
    return path.rsplit("/", 1)[1]


async def test_a_second_plan_is_compared_with_the_accepted_one(client: Any, day: Fleet, dispatcher: str) -> None:
    first = await plan_from_the_page(client, dispatcher)
    await client.post(f"{first}/accept", data={"_csrf_token": dispatcher})
    await client.post("/v1/dispatch/moves", json=day.move_body(), headers=day.org.headers)
    second = await plan_from_the_page(client, dispatcher)
    page = await client.get(second)
    figures = re.findall(r'data-key="(\w+)">.*?<b>([^<]*)</b>\s*<small>当前计划: ([^<]*)</small>', page.text, re.S)
    assert {key for key, _, _ in figures} == {"tractors_used", "km", "deadhead_km", "late_moves", "moves_unassigned"}


async def test_moving_a_task_shows_the_feasibility_check(client: Any, day: Fleet, dispatcher: str) -> None:
    path = await plan_from_the_page(client, dispatcher)
    first, second = (str(move["id"]) for move in day.moves)
    form = {"move_id": second, "tractor_id": str(day.tractor["id"]), "position": "1", "_csrf_token": dispatcher}
    moved = await client.post(f"{path}/adjust", data=form, follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"].endswith(f"?moved={second}#check")
    page = await client.get(moved.headers["location"].split("#")[0])
    assert 'id="moved"' in page.text
    assert "adjusted" in page.text  # the plan now says it was adjusted by hand
    assert 'id="feasible"' in page.text or 'id="violations"' in page.text
    unknown = await client.post(f"{path}/adjust", data={**form, "move_id": "999999"}, follow_redirects=False)
    assert unknown.status_code == 404
    assert "text/html" in unknown.headers["content-type"]
    empty = await client.post(f"{path}/adjust", data={**form, "move_id": ""}, follow_redirects=False)
    assert empty.status_code == 400
    assert first  # both moves stay in the plan
    assert page.text.count('class="mono move-chip"') == 2


async def test_a_plan_that_breaks_a_rule_cannot_be_accepted(
    client: Any, day: Fleet, dispatcher: str, session_factory: Any
) -> None:
    path = await plan_from_the_page(client, dispatcher)
    async with session_factory() as session:
        row = await session.get(DispatchPlan, uuid.UUID(await _plan_id(path)))  # broken below on purpose
        plan = dict(row.plan)
        runs = [dict(run) for run in plan["runs"]]
        activities = [dict(a) for a in runs[0]["activities"]]
        activities[0]["end"], activities[0]["start"] = activities[0]["start"], activities[0]["end"]  # time runs back
        runs[0]["activities"] = activities
        row.plan = {**plan, "runs": runs}
        await session.commit()
    page = await client.get(path)
    assert 'id="violations"' in page.text
    assert re.search(r'id="accept-form".*?<button[^>]*disabled', page.text, re.S)
    refused = await client.post(f"{path}/accept", data={"_csrf_token": dispatcher}, follow_redirects=False)
    assert refused.status_code == 422
    assert "text/html" in refused.headers["content-type"]


async def test_pinned_runs_are_kept_when_the_rest_is_planned_again(client: Any, day: Fleet, dispatcher: str) -> None:
    path = await plan_from_the_page(client, dispatcher)
    form = {"pinned": str(day.tractor["id"]), "time_limit_s": "2", "_csrf_token": dispatcher}
    replanned = await client.post(f"{path}/replan", data=form, follow_redirects=False)
    assert replanned.status_code == 303
    new_path = str(replanned.headers["location"])
    assert new_path != path
    for _ in range(240):
        if (await client.get(f"{new_path}/progress")).json()["status"] in {"done", "failed"}:
            break
        await asyncio.sleep(0.25)
    page = await client.get(new_path)
    assert page.text.count('<span class="badge pinned">已锁定</span>') == 1  # the pinned run is marked
    assert "g-row pinned" in page.text


async def test_a_csv_with_bad_rows_is_refused_row_by_row_and_a_good_one_imported(
    client: Any, day: Fleet, dispatcher: str
) -> None:
    factory = day.places["factory"]["code"]
    good = (
        f"kind,trailer_type,destination,ready_at,deliver_by\nposition,box,{factory},2026-12-03 07:00,2026-12-03 10:00\n"
    )
    bad = good + "position,box,NOWHERE,tomorrow,\n"
    refused = await client.post(
        "/carrier/moves/import",
        files={"file": ("moves.csv", bad.encode(), "text/csv")},
        data={"_csrf_token": dispatcher},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert re.search(
        r'<td class="mono">3</td><td class="mono">destination</td><td>本公司没有代码为 NOWHERE 的地点', refused.text
    )
    assert "没有这个日期或时间" in refused.text or "不是有效时间" in refused.text  # "tomorrow" in Chinese too
    page = await client.get("/carrier/moves")
    assert re.search(r'id="tab-open"[^>]*>[^<]*<b>2</b>', page.text)  # nothing imported
    accepted = await client.post(
        "/carrier/moves/import",
        files={"file": ("moves.csv", good.encode("gb18030"), "text/csv")},
        data={"_csrf_token": dispatcher},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    page = await client.get(accepted.headers["location"])
    assert re.search(r'id="tab-open"[^>]*>[^<]*<b>3</b>', page.text)
    assert "已导入 1 个任务" in page.text


async def test_an_upload_without_a_file_is_a_400_page(client: Any, day: Fleet, dispatcher: str) -> None:
    response = await client.post(
        "/carrier/moves/import", files={"other": ("x.txt", b"x")}, data={"_csrf_token": dispatcher}
    )
    assert response.status_code == 400


async def test_the_sample_file_names_our_places_and_imports_as_it_is(client: Any, day: Fleet, dispatcher: str) -> None:
    sample = await client.get("/carrier/moves/sample.csv")
    assert sample.status_code == 200
    assert sample.headers["content-type"].startswith("text/csv")
    assert day.places["factory"]["code"] in sample.content.decode("utf-8-sig")
    imported = await client.post(
        "/carrier/moves/import",
        files={"file": ("moves-sample.csv", sample.content, "text/csv")},
        data={"_csrf_token": dispatcher},
        follow_redirects=False,
    )
    assert imported.status_code == 303, imported.text
    assert imported.headers["location"].endswith("imported=1")
