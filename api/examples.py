"""Realistic request examples shown in the OpenAPI document (and tested to work as shown)."""

from __future__ import annotations

from typing import Any

__all__ = (
    "AMEND_WAYBILL_EXAMPLE",
    "CANCEL_WAYBILL_EXAMPLE",
    "CREATE_DISPATCH_DRIVER_EXAMPLE",
    "CREATE_DISPATCH_MOVE_EXAMPLE",
    "CREATE_DISPATCH_PLACE_EXAMPLES",
    "CREATE_DISPATCH_TRACTOR_EXAMPLE",
    "CREATE_DISPATCH_TRAILER_EXAMPLE",
    "CREATE_ORGANISATION_EXAMPLE",
    "CREATE_WAYBILL_EXAMPLE",
    "UPDATE_DISPATCH_DRIVER_EXAMPLE",
    "UPDATE_DISPATCH_MOVE_EXAMPLE",
    "UPDATE_DISPATCH_PLACE_EXAMPLE",
    "UPDATE_DISPATCH_TRACTOR_EXAMPLE",
    "UPDATE_DISPATCH_TRAILER_EXAMPLE",
    "UPDATE_LEG_EXAMPLE",
)

SHUNDE_FACTORY: dict[str, Any] = {
    "name": "顺德北滘家电制造基地 3号仓",
    "address": "广东省佛山市顺德区北滘镇工业大道 18 号",
    "division_code": "440606",
    "latitude": 22.9265,
    "longitude": 113.2092,
}
BEIJIAO_TERMINAL: dict[str, Any] = {
    "name": "佛山北滘港集装箱码头",
    "address": "广东省佛山市顺德区北滘镇港前路 1 号",
    "division_code": "440606",
    "latitude": 22.9402,
    "longitude": 113.2381,
    "locode": "CNFOS",
}
SHEKOU_TERMINAL: dict[str, Any] = {
    "name": "蛇口集装箱码头",
    "address": "广东省深圳市南山区蛇口港湾大道 1 号",
    "division_code": "440305",
    "latitude": 22.4751,
    "longitude": 113.8965,
    "locode": "CNSHK",
}

CREATE_WAYBILL_EXAMPLE: dict[str, Any] = {
    "shipper_reference": "PO-2026-118734",
    "consignor": {
        "name": "佛山顺德华美电器有限公司",
        "uscc": "91440606MA4W8K2L7M",
        "contact_name": "陈志强",
        "phone": "+86 757 2283 6610",
        "address": "广东省佛山市顺德区北滘镇工业大道 18 号",
    },
    "consignee": {
        "name": "Nordic Home Appliances AB",
        "contact_name": "Anna Lindqvist",
        "phone": "+46 31 704 1200",
        "address": "Lindholmspiren 7, 417 56 Göteborg, Sweden",
    },
    "notify_party": {
        "name": "深圳前海远航国际货运代理有限公司",
        "uscc": "91440300MA5FQ3T98C",
        "phone": "+86 755 8663 2200",
    },
    "pickup": SHUNDE_FACTORY,
    "delivery": SHEKOU_TERMINAL,
    "pickup_window": {"start": "2026-12-03T08:00:00+08:00", "end": "2026-12-03T12:00:00+08:00"},
    "delivery_window": {"start": "2026-12-04T06:00:00+08:00", "end": "2026-12-04T18:00:00+08:00"},
    "cargo": [
        {
            "description": "家用冰箱 BCD-520 (双门, 纸箱包装)",
            "hs_code": "8418102000",
            "package_count": 96,
            "package_type": "CT",
            "gross_weight_kg": 8160.0,
            "volume_m3": 52.8,
            "declared_value": 268800.0,
            "currency": "CNY",
        },
        {
            "description": "冰箱配件: 搁架与抽屉",
            "hs_code": "8418991000",
            "package_count": 12,
            "package_type": "PX",
            "gross_weight_kg": 640.0,
            "volume_m3": 6.5,
        },
    ],
    "references": {"order_number": "SO-NHA-2026-0419", "customs_declarations": ["531620261000123456"]},
    "instructions": "40尺高柜, 装柜前拍照; 到港后交蛇口码头 3 号闸口。",
    "legs": [
        {
            "sequence": 1,
            "mode": "road",
            "carrier": {"uscc": "91440604MA51L2K4U9", "name": "佛山顺通甩挂运输有限公司"},
            "from_place": SHUNDE_FACTORY,
            "to_place": BEIJIAO_TERMINAL,
            "planned_departure": "2026-12-03T13:00:00+08:00",
            "planned_arrival": "2026-12-03T14:00:00+08:00",
            "equipment": {"vehicle_plate": "粤E3K721", "trailer_plate": "粤E2386挂", "container_number": "CSQU3054383"},
        },
        {
            "sequence": 2,
            "mode": "inland_water",
            "carrier": {"uscc": "91440101MA59X8Q2EU", "name": "珠江驳运物流有限公司"},
            "from_place": BEIJIAO_TERMINAL,
            "to_place": SHEKOU_TERMINAL,
            "planned_departure": "2026-12-03T20:00:00+08:00",
            "planned_arrival": "2026-12-04T08:00:00+08:00",
            "equipment": {"container_number": "CSQU3054383"},
        },
    ],
}

AMEND_WAYBILL_EXAMPLE: dict[str, Any] = {
    "reason": "收货人要求推迟交付一天",
    "delivery_window": {"start": "2026-12-05T06:00:00+08:00", "end": "2026-12-05T18:00:00+08:00"},
}

CANCEL_WAYBILL_EXAMPLE: dict[str, Any] = {"reason_code": "goods_not_ready", "note": "生产线延误, 订单改期"}

UPDATE_LEG_EXAMPLE: dict[str, Any] = {
    "equipment": {"vehicle_plate": "粤E5N930", "trailer_plate": "粤E2386挂", "container_number": "CSQU3054383"},
    "note": "原牵引车故障, 换车",
}

CREATE_ORGANISATION_EXAMPLE: dict[str, Any] = {
    "name": "东莞虎门港物流有限公司",
    "role": "carrier",
    "uscc": "91441900MA4UJ1C8Y7",
}

# --- drop-and-hook fleet (ids refer to objects the carrier made before) -------------------------

CREATE_DISPATCH_PLACE_EXAMPLES: dict[str, dict[str, Any]] = {
    "Dongguan yard": {
        "code": "DG-SHATIAN",
        "name": "东莞沙田甩挂中心堆场",
        "kind": "yard",
        "latitude": 22.9186,
        "longitude": 113.6124,
        "locode": "CNDGG",
    },
    "Foshan Shunde factory": {
        "code": "SD-BEIJIAO-3",
        "name": "顺德北滘家电制造基地 3号仓",
        "kind": "shipper",
        "latitude": 22.9265,
        "longitude": 113.2092,
        "opening_hours": [{"open": "07:30", "close": "12:00"}, {"open": "13:00", "close": "21:00"}],
    },
    "Nansha port terminal": {
        "code": "NANSHA-T2",
        "name": "广州南沙港区二期集装箱码头 (南沙港)",
        "kind": "port_terminal",
        "latitude": 22.6727,
        "longitude": 113.6640,
        "locode": "CNNSA",
        "opening_hours": [{"open": "00:00", "close": "24:00"}],
        "cutoff_times": ["11:00", "17:00"],
    },
}
UPDATE_DISPATCH_PLACE_EXAMPLE: dict[str, Any] = {"opening_hours": [{"open": "06:00", "close": "23:00"}]}

CREATE_DISPATCH_DRIVER_EXAMPLE: dict[str, Any] = {
    "name": "黄志明",
    "phone": "+86 138 2299 4410",
    "shift_start": "2026-12-03T06:00:00+08:00",
    "shift_end": "2026-12-03T18:00:00+08:00",
    "qualifications": [{"qualification": "hazmat_driver", "certificate_number": "441900198507121234"}],
    "driven_minutes_last_24h": 95,
}
UPDATE_DISPATCH_DRIVER_EXAMPLE: dict[str, Any] = {"shift_end": "2026-12-03T20:00:00+08:00"}

CREATE_DISPATCH_TRACTOR_EXAMPLE: dict[str, Any] = {
    "plate": "粤S12345",
    "home_place_id": 1,
    "available_from": "2026-12-03T06:00:00+08:00",
    "available_until": "2026-12-03T22:00:00+08:00",
    "hazmat_approved": True,
    "driver_id": 1,
}
UPDATE_DISPATCH_TRACTOR_EXAMPLE: dict[str, Any] = {"current_place_id": 3, "out_of_service": False}

CREATE_DISPATCH_TRAILER_EXAMPLE: dict[str, Any] = {
    "plate": "粤S1234挂",
    "type": "reefer",
    "place_id": 1,
    "loaded": False,
}
UPDATE_DISPATCH_TRAILER_EXAMPLE: dict[str, Any] = {"place_id": 3, "loaded": True}

CREATE_DISPATCH_MOVE_EXAMPLE: dict[str, Any] = {
    "kind": "haul",
    "trailer_id": 1,
    "origin_id": 2,
    "destination_id": 3,
    "ready_at": "2026-12-03T13:00:00+08:00",
    "deliver_by": "2026-12-03T16:00:00+08:00",
    "cutoff": "2026-12-03T17:00:00+08:00",
}
UPDATE_DISPATCH_MOVE_EXAMPLE: dict[str, Any] = {"deliver_by": "2026-12-03T16:30:00+08:00", "status": "open"}
