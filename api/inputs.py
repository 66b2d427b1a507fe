"""Strict reading of request input, where Litestar's own parsing is lenient.

Litestar converts bodies and query strings with msgspec's lax rules (``"96"`` becomes 96, ``0`` a
date in 1970) and ignores unknown query parameters. A transport document deserves better: bodies
are converted strictly, times must be RFC 3339 with an offset, and a misspelt filter is an error
rather than a silently unfiltered list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import msgspec
from litestar import Litestar, Request
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Parameter

__all__ = ("parse_query_time", "record_query_parameters", "reject_unknown_query_parameters", "strict_body")

T = TypeVar("T")


def _invalid(key: str, message: str, source: str) -> ValidationException:
    return ValidationException(detail="Validation failed", extra=[{"key": key, "message": message, "source": source}])


def strict_body(raw: Any, struct_type: type[T]) -> T:
    """Convert a decoded JSON body to ``struct_type`` without type coercion."""
    try:
        return msgspec.convert(raw, struct_type, strict=True)
    except msgspec.ValidationError as exc:
        raise _invalid("data", str(exc), "body") from None


def parse_query_time(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 date-time with a UTC offset from a query parameter, or ``None``."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(name, "expected an RFC 3339 date-time, e.g. 2026-12-01T00:00:00+08:00", "query") from None
    if parsed.tzinfo is None:
        raise _invalid(name, "needs a UTC offset, e.g. 2026-12-01T00:00:00+08:00", "query")
    return parsed


def record_query_parameters(app: Litestar) -> None:
    """Remember, per operation, the query parameters its OpenAPI description declares."""
    allowed: dict[str, frozenset[str]] = {}
    for path in (app.openapi_schema.paths or {}).values():
        for operation in (path.get, path.post, path.put, path.patch, path.delete):
            if operation is None or operation.operation_id is None:
                continue
            names = {p.name for p in operation.parameters or [] if isinstance(p, Parameter) and p.param_in == "query"}
            allowed[operation.operation_id] = frozenset(names)
    app.state.query_parameters = allowed


async def reject_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """Before each request: refuse query parameters the operation does not declare."""
    operation_id = request.route_handler.operation_id
    if not isinstance(operation_id, str) or not request.scope.get("query_string"):
        return
    allowed = request.app.state.query_parameters.get(operation_id)
    if allowed is None:
        return
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise ValidationException(
            detail="Validation failed",
            extra=[
                {
                    "key": name,
                    "message": f"unknown query parameter (this operation takes: {expected})",
                    "source": "query",
                }
                for name in unknown
            ],
        )
