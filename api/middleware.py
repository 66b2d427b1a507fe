"""ASGI middleware: a request id on every request, and one access-log line per response."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("RequestContextMiddleware", "allow_header_fixer")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_log = structlog.get_logger("api.access")


class RequestContextMiddleware:
    """Take the caller's ``X-Request-ID`` (or make one), bind it to the logs, return it in the response."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # type: ignore[typeddict-item]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            if self.access_log:
                state: dict[str, Any] = scope.get("state", {})  # type: ignore[assignment]
                _log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    organisation=state.get("organisation"),
                )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


def allow_header_fixer(app: Litestar) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook that makes ``Allow`` on OPTIONS answers list every method of the path.

    Litestar builds the automatic OPTIONS handler with the first handler registered for a path, so
    ``/v1/waybills`` (GET and POST) would answer ``Allow: OPTIONS, POST``.
    """
    methods = {route.path: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}

    async def fix_allow(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        handler = scope.get("route_handler")
        paths = getattr(handler, "paths", None) or ()
        allow = next((methods[path] for path in paths if path in methods), None)
        if allow is None:
            return
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
        headers.append((b"allow", allow.encode()))
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]

    return fix_allow
