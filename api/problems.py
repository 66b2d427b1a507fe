"""RFC 9457 problem details: the one error format of the API.

Every error leaves the API as ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and, for invalid input, ``errors``: a list naming each offending field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.errors import DomainError

__all__ = ("PROBLEM_MEDIA_TYPE", "FieldError", "Problem", "exception_handlers", "problem_responses")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = structlog.get_logger("api.problems")


class FieldError(msgspec.Struct, kw_only=True, frozen=True):
    """One invalid input: where it is and what is wrong with it."""

    field: str
    message: str
    source: str = "body"


class Problem(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)
    existing_waybill: str | None = None
    current_version: int | None = None
    request_id: str | None = None


_TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Business rule violated",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_type(slug: str) -> str:
    """The ``type`` URI of a problem kind; documented in docs/problems.md."""
    return f"/problems/{slug}"


def _slug_for(status: int) -> str:
    return _TITLES.get(status, "error").lower().replace(" ", "-")


def problem_response(
    request: Request[Any, Any, Any], problem: Problem, headers: dict[str, str] | None = None
) -> Response[Any]:
    """Serialise a problem with the right media type and status."""
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id is not None:
        problem = msgspec.structs.replace(problem, request_id=request_id)
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


# Header parameters are reported under their Python names; show the header as the client sent it.
_HEADER_NAMES = {"idempotency_key": "Idempotency-Key"}
_NAMED_FIELD = re.compile(r"^(?P<name>[a-z_][a-z_.]*): (?P<message>.*)$", re.DOTALL)
_MSGSPEC_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _field_errors(extra: Any) -> list[FieldError]:
    """Turn Litestar's validation details (msgspec messages, parameter keys) into named fields."""
    errors: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        raw_source = item.get("source", "body")
        source = str(getattr(raw_source, "value", raw_source))
        field = str(item.get("key", ""))
        match = _MSGSPEC_PATH.match(message)
        if match is not None:
            message = match.group("message")
            if match.group("path") is not None:
                field = match.group("path").lstrip(".")
        if source == "body" and field == "data":  # Litestar's name for the whole body
            field = ""
        field = _HEADER_NAMES.get(field, field) if source == "header" else field
        named = _NAMED_FIELD.match(message)
        if named is not None:  # raised by check_field() in a __post_init__
            field = f"{field}.{named.group('name')}" if field else named.group("name")
            message = named.group("message")
        errors.append(FieldError(field=field or "(body)", message=message, source=source))
    return errors


def _on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = _field_errors(exc.extra)
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
    return problem_response(
        request,
        Problem(
            type=problem_type("invalid-request"), title="Invalid request", status=400, detail=detail, errors=errors
        ),
    )


def _on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    errors = [FieldError(field=exc.field, message=exc.detail, source="body")] if exc.field else []
    return problem_response(
        request,
        Problem(
            type=problem_type(exc.slug),
            title=exc.title,
            status=exc.status_code,
            detail=exc.detail,
            instance=request.url.path,
            errors=errors,
            existing_waybill=exc.extra.get("existing_waybill"),
            current_version=exc.extra.get("current_version"),
        ),
    )


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException) or status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="freight"')
    title = _TITLES.get(status, "Error")
    detail = str(exc.detail) if exc.detail else title
    if status == 400 and detail.startswith("Bad Request"):
        detail = "the request could not be read; check its syntax and content type"
    return problem_response(
        request,
        Problem(
            type=problem_type(_slug_for(status)), title=title, status=status, detail=detail, instance=request.url.path
        ),
        headers=headers or None,
    )


def _on_undecodable(request: Request[Any, Any, Any], exc: UnicodeDecodeError | RecursionError) -> Response[Any]:
    # Litestar lets these escape from decoding the body; both are the client's fault.
    detail = (
        "the request body is not valid UTF-8"
        if isinstance(exc, UnicodeDecodeError)
        else "the request body is nested too deeply"
    )
    return problem_response(
        request,
        Problem(
            type=problem_type("invalid-request"),
            title="Invalid request",
            status=400,
            detail=detail,
            instance=request.url.path,
        ),
    )


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    _log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        request,
        Problem(
            type=problem_type("internal-error"),
            title="Internal server error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="an unexpected error occurred; it has been logged",
        ),
    )


exception_handlers: dict[type[Exception] | int, Any] = {
    ValidationException: _on_validation,
    DomainError: _on_domain_error,
    HTTPException: _on_http_exception,
    UnicodeDecodeError: _on_undecodable,
    RecursionError: _on_undecodable,
    Exception: _on_unexpected,
}

_DESCRIPTIONS = {
    400: "Invalid request: the body, a parameter or a header does not match the schema",
    401: "Missing, unknown or revoked API key",
    403: "The caller may see the object but not do this",
    404: "No such object, or the caller may not see it",
    409: "Conflict with the current state (duplicate reference, stale version, state does not allow it)",
    413: "Request body larger than the limit",
    422: "Well-formed request that breaks a business rule",
    503: "Not ready: the database cannot be reached",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries for the given error statuses, all in the problem format."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }
