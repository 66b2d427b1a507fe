"""Signing in to the pages from tests: page users, the CSRF cookie, the sign-in form."""

from __future__ import annotations

import secrets
from typing import Any

from accounts.users import create_user
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
