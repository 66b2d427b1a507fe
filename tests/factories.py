"""Realistic test data: valid Chinese identifiers and Pearl River Delta waybills."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from stdnum.cn import uscc

from api.examples import CREATE_WAYBILL_EXAMPLE

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def new_uscc(region: str = "440606") -> str:
    """A fresh, valid unified social credit code of a company registered in ``region``."""
    body = "91" + region + "".join(secrets.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def waybill_body(**overrides: Any) -> dict[str, Any]:
    """The documented example with a fresh shipper reference, changed by ``overrides``."""
    body = copy.deepcopy(CREATE_WAYBILL_EXAMPLE)
    body["shipper_reference"] = f"PO-{secrets.token_hex(5).upper()}"
    body.update(overrides)
    return body


def with_carrier(
    body: dict[str, Any], sequence: int, carrier_uscc: str, name: str = "测试承运人有限公司"
) -> dict[str, Any]:
    """``body`` with the carrier of leg ``sequence`` replaced."""
    body = copy.deepcopy(body)
    body["legs"][sequence - 1]["carrier"] = {"uscc": carrier_uscc, "name": name}
    return body
