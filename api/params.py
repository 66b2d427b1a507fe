"""Parameters and helpers shared by the controllers that address one waybill."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import PathParameter, QueryParameter

from core.errors import NotFoundError
from core.identifiers import normalise_waybill_number
from core.types import LINE_PATTERN

__all__ = ("AccessReason", "NumberParam", "request_line", "waybill_number")

NumberParam = Annotated[
    str,
    PathParameter(
        description="Waybill number, e.g. EW2612-7K3M9Q2X-T (case and hyphens are not significant)",
        max_length=40,
    ),
]
AccessReason = Annotated[
    str | None,
    QueryParameter(
        description="Why an authority reads this waybill; recorded in the access log",
        max_length=500,
        pattern=LINE_PATTERN,
        required=False,
    ),
]


def waybill_number(raw: str) -> str:
    """The canonical waybill number of a path parameter; a malformed one is simply not found."""
    try:
        return normalise_waybill_number(raw)
    except ValueError as exc:
        raise NotFoundError(f"waybill {raw!r} not found: {exc}") from None


def request_line(request: Request[Any, Any, Any]) -> str:
    """``METHOD /path?query`` of a request, as recorded in the access log."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{request.method} {request.url.path}" + (f"?{query}" if query else "")
