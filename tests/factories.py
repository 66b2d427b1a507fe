"""Realistic test data: valid Chinese identifiers and Pearl River Delta waybills."""

from __future__ import annotations

import copy
import re
import secrets
from datetime import datetime, timedelta
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


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def shifted(body: Any, by: timedelta) -> Any:
    """A copy of ``body`` with every RFC 3339 time in it moved by ``by`` (offsets kept).

    For tests whose outcome depends on today: the documented example's dates are fixed.
    """
    if isinstance(body, dict):
        return {key: shifted(value, by) for key, value in body.items()}
    if isinstance(body, list):
        return [shifted(value, by) for value in body]
    if isinstance(body, str) and _ISO_TIME.match(body):
        return (datetime.fromisoformat(body) + by).isoformat()
    return body


# --- dangerous goods ----------------------------------------------------------------------------

EMERGENCY_CONTACT: dict[str, Any] = {"name": "林国强", "phone": "+86 750 6638 1190"}
"""应急联系人 of the dangerous-goods waybills below: the consignor's duty officer."""
PETROL: dict[str, Any] = {
    "description": "汽油 (桶装)",
    "package_count": 10,
    "package_type": "DR",
    "gross_weight_kg": 1200.0,
    "dangerous_goods": {"un_number": "UN1203", "quantity": 400, "unit": "L", "packing_group": "II"},
}
SULPHURIC_ACID: dict[str, Any] = {
    "description": "硫酸",
    "package_count": 10,
    "package_type": "DR",
    "gross_weight_kg": 1200.0,
    "dangerous_goods": {"un_number": "UN1830", "quantity": 800, "unit": "kg", "packing_group": "II"},
}


def carrier_permit(**changes: Any) -> dict[str, Any]:
    """A carrier's road transport permit (道路运输经营许可证) for classes 2, 3 and 8, valid to 2030."""
    return {
        "permit_number": "粤交运管许可佛字440604000123号",
        "business_scope": "道路危险货物运输 (2类1项, 3类, 8类)",
        "permitted_classes": ["2", "3", "8"],
        "expires_on": "2030-12-31",
        **changes,
    }


def dangerous_waybill_body(cargo: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    """The documented example carrying ``cargo`` (petrol by default), with an emergency contact."""
    return waybill_body(cargo=copy.deepcopy(cargo or [PETROL]), emergency_contact=EMERGENCY_CONTACT, **overrides)


def with_carrier(
    body: dict[str, Any], sequence: int, carrier_uscc: str, name: str = "测试承运人有限公司"
) -> dict[str, Any]:
    """``body`` with the carrier of leg ``sequence`` replaced."""
    body = copy.deepcopy(body)
    body["legs"][sequence - 1]["carrier"] = {"uscc": carrier_uscc, "name": name}
    return body
