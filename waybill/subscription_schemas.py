"""msgspec schemas of event subscriptions (signed callbacks) and their deliveries.

A subscription's secret leaves the API twice at most: when the subscription is made and when the
secret is rotated. Every other view leaves it out.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from core.types import InputStruct, OutputStruct, check_field

__all__ = (
    "DeliveryPage",
    "DeliveryRead",
    "DeliveryReport",
    "DeliveryStatus",
    "SecretRotated",
    "SubscriptionCreate",
    "SubscriptionCreated",
    "SubscriptionList",
    "SubscriptionRead",
    "validate_callback_url",
)

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

CallbackUrl = Annotated[
    str,
    Meta(
        min_length=10,
        max_length=500,
        pattern=r"^[hH][tT][tT][pP][sS]?://[^\s\x00-\x1f\x7f]+$",
        description="Where deliveries are POSTed: https, or http only to localhost or 127.0.0.1",
        examples=["https://tms.shunde-appliances.example/freight/callbacks"],
    ),
]
EventTypeName = Annotated[
    str,
    Meta(
        pattern=r"^[a-z][a-z0-9_]{0,23}$",
        description="A transport event type, e.g. departed, arrived, gate_in",
        examples=["departed"],
    ),
]


def validate_callback_url(url: str) -> str:
    """Return ``url`` if deliveries may go there, else raise ``ValueError``.

    https to a public host, or plain http to this machine (tests, the demo). Addresses in private,
    loopback or link-local ranges are refused over https, so that a subscription cannot make the
    platform call into its own network.
    """
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not host:
        raise ValueError("callback URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("callback URL must not carry credentials; verify deliveries by their signature")
    if parts.fragment:
        raise ValueError("callback URL must not have a fragment")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("callback URL has an invalid port") from None
    if scheme == "http":
        if host not in _LOCAL_HOSTS:
            raise ValueError("callback URL must use https (plain http only to localhost or 127.0.0.1)")
        return url
    if scheme != "https":
        raise ValueError("callback URL must use https")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise ValueError("callback URL must not point to a private, loopback or reserved address over https")
    return url


class DeliveryStatus(StrEnum):
    """Outcome of one delivery."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SubscriptionCreate(InputStruct, frozen=True):
    """A callback for a waybill's events."""

    callback_url: CallbackUrl
    event_types: Annotated[list[EventTypeName], Meta(max_length=30)] = msgspec.field(default_factory=list)
    """Only these event types; empty (the default) means every event."""

    def __post_init__(self) -> None:
        check_field("callback_url", validate_callback_url, self.callback_url)
        if len(set(self.event_types)) != len(self.event_types):
            raise ValueError("event_types: event type repeated")


class SubscriptionRead(OutputStruct, frozen=True):
    """A subscription, without its secret."""

    id: uuid.UUID
    callback_url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None
    """While set and in the future, deliveries are signed with the previous secret too."""


class SubscriptionCreated(OutputStruct, frozen=True):
    """A new subscription and its signing secret (shown this once)."""

    subscription: SubscriptionRead
    secret: str
    """HMAC-SHA256 key of the ``X-Freight-Signature`` header; store it now, it is not shown again."""


class SecretRotated(OutputStruct, frozen=True):
    """A subscription's new signing secret (shown this once)."""

    subscription: SubscriptionRead
    secret: str
    """The new secret; the previous one keeps signing until ``previous_secret_expires_at``."""


class SubscriptionList(OutputStruct, frozen=True):
    """The subscriptions of a waybill, oldest first."""

    number: str
    subscriptions: list[SubscriptionRead]


class DeliveryRead(OutputStruct, frozen=True):
    """One event delivered (or being delivered) to one subscription."""

    id: int
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    """When the next attempt is due (pending deliveries only)."""
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(OutputStruct, frozen=True):
    """Deliveries of a subscription, newest first; pass ``next_before`` as ``before`` for more."""

    items: list[DeliveryRead]
    next_before: int | None


class DeliveryReport(msgspec.Struct, kw_only=True, frozen=True):
    """What one run of the sender did."""

    attempted: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
