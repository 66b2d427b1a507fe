"""Domain errors. Services raise these; the API turns each into an RFC 9457 problem response."""

from __future__ import annotations

from typing import Any

__all__ = (
    "ConflictError",
    "DomainError",
    "ForbiddenError",
    "InvalidStateError",
    "NotFoundError",
    "RuleViolationError",
)


class DomainError(Exception):
    """Base of the errors a caller can act on.

    Attributes:
        status_code: HTTP status the API answers with.
        slug: last part of the problem ``type`` URI, stable for clients to match on.
        title: short, fixed summary of the problem kind.
    """

    status_code = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFoundError(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    status_code = 404
    slug = "not-found"
    title = "Not found"


class ForbiddenError(DomainError):
    """The caller may see the object but not do this to it."""

    status_code = 403
    slug = "forbidden"
    title = "Forbidden"


class ConflictError(DomainError):
    """The request conflicts with an existing object (a duplicate reference, a stale version)."""

    status_code = 409
    slug = "conflict"
    title = "Conflict"


class InvalidStateError(DomainError):
    """The object's state does not allow this operation (e.g. amending a delivered waybill)."""

    status_code = 409
    slug = "invalid-state"
    title = "Operation not allowed in this state"


class RuleViolationError(DomainError):
    """The request is well-formed but breaks a business rule."""

    status_code = 422
    slug = "rule-violation"
    title = "Business rule violated"
