"""EDIFACT code tables used by the mapping, as plain dicts.

Only codes whose meaning we are sure of are listed (UN/EDIFACT directories, the SMDG message
implementation guides, and our samples). A code that is not here gives a warning, never a guess.
"""

from __future__ import annotations

from typing import Literal

from waybill.event_schemas import EventType

__all__ = (
    "BAPLIE",
    "COUNTRY_ZONES",
    "CUSTOMS_STATUS",
    "DOCUMENT_EVENTS",
    "DTM_QUALIFIERS",
    "EQUIPMENT_STATUS",
    "FULL_EMPTY",
    "LOCODE_ZONES",
    "MULTI_ZONE_COUNTRIES",
    "REFERENCE_NAMES",
    "STATUS_EVENTS",
    "STATUS_TEXT_EVENTS",
    "Direction",
)

Direction = Literal["import", "export", "transhipment"]

# BGM 1001 document name code, per message type → the event its equipment lines report.
DOCUMENT_EVENTS: dict[str, dict[str, EventType]] = {
    # CODECO (container gate-in/gate-out report), SMDG CODECO MIG.
    "CODECO": {
        "34": EventType.GATE_IN,  # gate-in report
        "36": EventType.GATE_OUT,  # gate-out report
    },
    # COARRI (container discharge/loading report), SMDG COARRI MIG.
    "COARRI": {
        "44": EventType.DISCHARGED,  # discharge report
        "46": EventType.LOADED,  # loading report
    },
    # COPRAR (container discharge/loading order), SMDG COPRAR MIG; the events are planned.
    "COPRAR": {
        "45": EventType.LOADED,  # loading order
        "121": EventType.DISCHARGED,  # discharge order
    },
    # COPARN (container announcement), planned. The MIGs differ between partners; these are the
    # two we exchange: 11 our pre-advice of a unit arriving at a terminal (see writer.py), 12 an
    # empty release order (Maersk → Riga sample: the unit is to be picked up at the depot).
    "COPARN": {
        "11": EventType.GATE_IN,
        "12": EventType.PICKED_UP,
    },
}

# BAPLIE (bayplan/stowage plan occupied and empty locations): every unit on board was loaded.
BAPLIE = EventType.LOADED

# EQD 8169 full/empty indicator code.
FULL_EMPTY: dict[str, bool] = {
    "4": False,  # empty
    "5": True,  # full
}

# EQD 8249 equipment status code.
EQUIPMENT_STATUS: dict[str, Direction] = {
    "2": "export",
    "3": "import",
    "6": "transhipment",
}

# DTM 2005 date/time/period function code qualifier (the ones the mapping reads).
DTM_QUALIFIERS: dict[str, str] = {
    "2": "delivery date/time, requested",
    "7": "effective date/time (actual event time in CODECO)",
    "132": "arrival date/time, estimated",
    "133": "departure date/time, estimated",
    "137": "document/message date/time",
    "178": "arrival date/time, actual",
    "186": "departure date/time, actual",
    "200": "pick-up/collection date/time of cargo",
    "201": "pick-up date/time of equipment",
    "203": "execution date/time (of the handling)",
    "334": "status change date/time",
}

# RFF 1153 reference code qualifier → the name used in EdiEvent.references.
# The waybill is carried as AAS (transport document number): our e-waybill is the transport
# document. Codes not listed keep their qualifier as key.
REFERENCE_NAMES: dict[str, str] = {
    "AAS": "waybill",  # transport document number
    "BM": "bill_of_lading",
    "BN": "booking",
    "CN": "carrier_reference",
    "CU": "consignor_reference",
    "EQ": "equipment",
    "FF": "forwarder_reference",
    "ON": "order",
    "RE": "release",
    "VON": "voyage",
    "AAZ": "scac",  # Standard Carrier Alpha Code
}

# IFTSTA STS 4405 status description code (UN list) → event.
STATUS_EVENTS: dict[str, EventType] = {
    "1": EventType.ARRIVED,  # arrival, completed
    "21": EventType.DELIVERED,  # delivered
}

# Carriers often send their own status codes with a readable text (the D00B sample: code P of
# list HS, "Rail Departed from In-Transit Locat"). When the code is unknown, the first word of the
# text decides, with a warning.
STATUS_TEXT_EVENTS: dict[str, EventType] = {
    "arrived": EventType.ARRIVED,
    "departed": EventType.DEPARTED,
    "delivered": EventType.DELIVERED,
    "loaded": EventType.LOADED,
    "discharged": EventType.DISCHARGED,
    "unloaded": EventType.DISCHARGED,
}

# CUSRES GIS 7365 processing indicator: no public code list is connected yet, so these are the
# codes of our own synthetic CUSRES (tests/integrations/data/edifact/README.md), to be replaced by
# the customs authority's list when a real one is connected.
CUSTOMS_STATUS: dict[str, EventType] = {
    "REL": EventType.CUSTOMS_RELEASED,  # released
    "HLD": EventType.CUSTOMS_HELD,  # held for inspection
    "REF": EventType.CUSTOMS_HELD,  # refused: the goods stay under customs control
}

# UN/LOCODE country → IANA zone, for local EDIFACT times. Countries with several zones take the
# zone of their main container ports (US: the Los Angeles/Long Beach ports) unless the LOCODE is
# in LOCODE_ZONES; such a fallback is reported as ``approximate_timezone``.
COUNTRY_ZONES: dict[str, str] = {
    "AE": "Asia/Dubai",
    "BE": "Europe/Brussels",
    "CN": "Asia/Shanghai",
    "CR": "America/Costa_Rica",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",  # the Canary Islands (one hour behind) are not told apart
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "GR": "Europe/Athens",
    "GT": "America/Guatemala",
    "HK": "Asia/Hong_Kong",
    "IN": "Asia/Kolkata",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "LV": "Europe/Riga",
    "MO": "Asia/Macau",
    "MY": "Asia/Kuala_Lumpur",
    "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw",
    "SG": "Asia/Singapore",
    "TR": "Europe/Istanbul",
    "TW": "Asia/Taipei",
    "US": "America/Los_Angeles",
    "VN": "Asia/Ho_Chi_Minh",
}
MULTI_ZONE_COUNTRIES = frozenset({"US", "CA", "MX", "BR", "RU", "AU", "ID"})

# LOCODEs of multi-zone countries met so far.
LOCODE_ZONES: dict[str, str] = {
    "USCHI": "America/Chicago",  # Chicago
    "USLAX": "America/Los_Angeles",  # Los Angeles
    "USLGB": "America/Los_Angeles",  # Long Beach
    "USNYC": "America/New_York",  # New York
    "USPME": "America/New_York",  # Port Everglades
    "USSYR": "America/New_York",  # Syracuse
    "USWOQ": "America/Chicago",  # Woodridge, Illinois
}
