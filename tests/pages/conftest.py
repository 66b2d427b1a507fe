"""Page tests share the session-wide client: each starts and ends with no cookies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
async def fresh_cookies(client: Any) -> AsyncIterator[None]:
    """Forget the session and language cookies of the previous test."""
    client.cookies.clear()
    yield
    client.cookies.clear()
