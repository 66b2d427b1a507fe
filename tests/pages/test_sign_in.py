"""Signing in to the pages: sessions, CSRF-protected forms, roles, and the language switch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.settings import get_settings
from tests.pages.helpers import PASSWORD, add_page_user, csrf_token, sign_in


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(client: Any) -> None:
    response = await client.get("/regulator?class=3", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fregulator%3Fclass%3D3"


async def test_the_sign_in_page_is_chinese_by_default_and_english_on_request(client: Any) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    assert '<html lang="zh-Hans-CN">' in page.text
    assert "登录" in page.text
    switched = await client.get("/language?to=en&next=/login", follow_redirects=False)
    assert switched.status_code in (301, 302, 303, 307)
    assert switched.headers["location"] == "/login"
    assert "Sign in" in (await client.get("/login")).text


async def test_the_language_switch_does_not_redirect_off_site(client: Any) -> None:
    for target in ("https://example.com/", "//example.com/", "/\\example.com"):
        response = await client.get("/language", params={"to": "en", "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


async def test_a_regulator_signs_in_and_lands_on_the_monitoring_view(
    client: Any, make_org: Any, session_factory: Any
) -> None:
    regulator = await make_org("regulator", name="广东省交通运输厅")
    username = await add_page_user(session_factory, regulator)
    response = await sign_in(client, username.upper())  # names are case-insensitive
    assert response.status_code == 303
    assert response.headers["location"] == "/regulator"
    page = await client.get("/regulator")
    assert page.status_code == 200
    assert "危险货物运输监管" in page.text


async def test_sign_in_goes_back_to_the_page_asked_for(client: Any, make_org: Any, session_factory: Any) -> None:
    username = await add_page_user(session_factory, await make_org("regulator"))
    response = await sign_in(client, username, next_path="/regulator?alerts=open")
    assert response.headers["location"] == "/regulator?alerts=open"


async def test_a_wrong_password_is_refused_with_the_form_again(
    client: Any, make_org: Any, session_factory: Any
) -> None:
    username = await add_page_user(session_factory, await make_org("regulator"))
    response = await sign_in(client, username, "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert (await client.get("/regulator", follow_redirects=False)).status_code == 303


async def test_after_five_wrong_passwords_the_name_waits(client: Any, make_org: Any, session_factory: Any) -> None:
    username = await add_page_user(session_factory, await make_org("regulator"))
    for _ in range(5):
        assert (await sign_in(client, username, "wrong password")).status_code == 401
    blocked = await sign_in(client, username)
    assert blocked.status_code == 429
    assert "失败次数过多" in blocked.text


async def test_a_form_without_the_csrf_token_is_refused(client: Any, make_org: Any, session_factory: Any) -> None:
    username = await add_page_user(session_factory, await make_org("regulator"))
    await csrf_token(client)
    response = await client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert (await client.get("/regulator", follow_redirects=False)).status_code == 303


async def test_a_shipper_may_not_see_the_monitoring_view(client: Any, shipper: Any, session_factory: Any) -> None:
    username = await add_page_user(session_factory, shipper)
    response = await sign_in(client, username)
    assert response.headers["location"] == "/account"
    page = await client.get("/regulator")
    assert page.status_code == 403
    assert "无权" in page.text


async def test_signing_out_ends_the_session(client: Any, make_org: Any, session_factory: Any) -> None:
    username = await add_page_user(session_factory, await make_org("regulator"))
    await sign_in(client, username)
    response = await client.post("/logout", data={"_csrf_token": await csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert (await client.get("/regulator", follow_redirects=False)).status_code == 303


async def test_the_api_needs_no_csrf_token(client: Any, shipper: Any) -> None:
    response = await client.post("/v1/dangerous-goods/assess", json={"lines": []}, headers=shipper.headers)
    assert response.status_code != 403


async def test_freight_users_create_makes_a_person_who_signs_in(
    client: Any, make_org: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from api.cli import main

    regulator = await make_org("regulator")
    # The command points this process's settings at the database; they are put back afterwards.
    monkeypatch.setenv("FREIGHT_DATABASE_URL", database_url)

    def create(uscc: str) -> Any:
        arguments = ["users", "create", "--organisation", uscc, "--username", f"ops-{uscc[-6:].lower()}"]
        arguments += ["--name", "值班员", "--password", PASSWORD, "--database-url", database_url]
        return CliRunner().invoke(main, arguments)

    created = await asyncio.to_thread(create, regulator.uscc)
    assert created.exit_code == 0, created.output
    response = await sign_in(client, f"ops-{regulator.uscc[-6:].lower()}")
    assert response.headers["location"] == "/regulator"
    unknown = await asyncio.to_thread(create, "91440606MA4W8K2L7X")
    assert unknown.exit_code != 0
    assert "no organisation" in unknown.output
    monkeypatch.undo()
    get_settings.cache_clear()
