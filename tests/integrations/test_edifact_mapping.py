"""Mapping of EDIFACT messages to journey events: one test per sample, plus the COPARN writer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.edifact import EdiParseResult, coparn_preadvice, map_interchange, parse_events, read_interchange
from waybill.event_schemas import EventClassifier, EventType

DATA = Path(__file__).parent / "data" / "edifact"


def parse(name: str) -> EdiParseResult:
    return parse_events((DATA / name).read_bytes())


def warning_codes(result: EdiParseResult) -> list[str]:
    return [w.code for w in result.warnings]


def test_codeco_gate_in_at_huelva_in_madrid_time() -> None:
    result = parse("codeco_d95b_smdg16_huelva_gate-in.edi")
    [event] = result.events
    assert (event.event_type, event.classifier) == (EventType.GATE_IN, EventClassifier.ACTUAL)
    assert event.event_time == datetime(2023, 8, 11, 12, 47, tzinfo=UTC)  # 14:47 CEST
    assert (event.locode, event.place_name, event.time_zone) == ("ESHUV", "CONCHUV", "Europe/Madrid")
    assert event.container_number is None  # TESI1120274 fails its check digit
    assert event.equipment_ref == "TESI1120274"
    assert [w.code for w in event.warnings] == ["invalid_container"]
    assert (event.equipment_type, event.full, event.direction) == ("4EG1", True, "export")
    assert event.vehicle_plate == "993NGR"
    assert event.references["booking"] == "FUE110823"
    assert event.seal == "88200"
    assert event.external_ref == "ESHUV:174749339:92218:0"
    assert warning_codes(result) == []


def test_coarri_two_messages_discharge_then_load_at_genoa() -> None:
    result = parse("coarri_d95b_itg13_genoa-vte_cosco.edi")
    assert [m.event_count for m in result.messages] == [2, 19]
    assert [e.event_type for e in result.events] == [EventType.DISCHARGED] * 2 + [EventType.LOADED] * 19
    first = result.events[0]
    assert first.event_time == datetime(2016, 2, 3, 8, 13, tzinfo=UTC)  # 09:13 in Genoa
    assert (first.locode, first.container_number, first.direction) == ("ITGOA", "FCIU9908030", "import")
    assert (first.vessel_name, first.voyage) == ("COSCO AFRICA", "031W")
    loaded = result.events[2]
    assert (loaded.locode, loaded.container_number, loaded.voyage) == ("ITGOA", "CBHU6192031", "032E")
    assert loaded.references["booking"] == "9000157890"
    assert loaded.external_ref == "ITGOAVTE:1452515554132:1452515553819:0"
    assert [e.dangerous_goods for e in result.events if e.dangerous_goods] == [("8/UN2735",)]
    assert warning_codes(result) == []


def test_coparn_empty_release_is_a_planned_pick_up_at_riga() -> None:
    result = parse("coparn_d95b_maeu_riga.edi")
    [event] = result.events
    assert (event.event_type, event.classifier) == (EventType.PICKED_UP, EventClassifier.PLANNED)
    assert event.event_time == datetime(2020, 8, 12, 21, 0, tzinfo=UTC)  # midnight in Riga (EEST)
    assert (event.locode, event.place_name) == ("LVRIX", "RIGA TERMINAL")
    assert (event.container_number, event.equipment_ref, event.equipment_type) == (None, None, "45G1")
    assert event.full is False
    assert event.references["booking"] == "204549739"
    assert warning_codes(result) == ["decimal_comma"]


def test_coprar_load_order_gives_planned_loads_and_envelope_warnings() -> None:
    result = parse("coprar_d95b_msk_load-order.edi")
    assert [(e.event_type, e.classifier) for e in result.events] == [(EventType.LOADED, EventClassifier.PLANNED)] * 2
    first = result.events[0]
    assert (first.locode, first.event_time, first.vessel_name, first.voyage) == ("AEJEA", None, "HELLO WORLD", "123W")
    assert (first.container_number, first.equipment_ref) == (None, "MSTI6415664")  # bad check digit
    assert first.direction == "transhipment"
    assert first.references["booking"] == "2GO2005174"
    assert first.external_ref == "::638:0"
    assert warning_codes(result) == ["no_unb", "no_unz", "unt_count"]


def test_baplie_lbct_one_loaded_event_per_container() -> None:
    result = parse("baplie_d95b_smdg20_lbct_oocl-beijing.edi")
    assert [e.container_number for e in result.events] == ["OOLU4293959", "MOEU0710945", "OOLU8757889"]
    first = result.events[0]
    assert (first.event_type, first.classifier, first.event_time) == (EventType.LOADED, EventClassifier.ACTUAL, None)
    assert (first.locode, first.vessel_name, first.voyage, first.full) == ("USLGB", "OOCL BEIJING", "042", False)
    assert first.references == {"bill_of_lading": "1"}
    assert result.events[2].full is True
    assert warning_codes(result) == []


def test_baplie_del_monte_rose_maps_every_unit_on_board() -> None:
    result = parse("baplie_d95b_smdg22_apmt-moin_del-monte-rose.edi")
    assert len(result.events) == 642
    assert {e.event_type for e in result.events} == {EventType.LOADED}
    first = result.events[0]
    assert (first.container_number, first.equipment_type, first.locode) == ("OTPU6302502", "45R1", "CRMOB")
    assert (first.vessel_name, first.references["booking"]) == ("DEL MONTE ROSE", "DMG509102BAN")
    assert len({e.external_ref for e in result.events}) == 642
    assert warning_codes(result) == []


def test_baplie_31_reads_the_one_stowed_container() -> None:
    result = parse("baplie_d13b_smdg31_edifabric.edi")
    [event] = result.events
    assert (event.container_number, event.equipment_type, event.full) == ("SUDU1234569", "42U0", True)
    assert (event.locode, event.voyage) == ("BEANR", "123W45")
    assert warning_codes(result) == ["bom", "crlf", "unt_count"]


def test_iftsta_rail_departed_read_from_the_status_text_at_syracuse() -> None:
    result = parse("iftsta_d00b_carrier_rail-status.edi")
    [event] = result.events
    assert (event.event_type, event.classifier) == (EventType.DEPARTED, EventClassifier.ACTUAL)
    assert event.event_time == datetime(2022, 11, 19, 12, 10, tzinfo=UTC)  # 07:10 EST
    assert (event.locode, event.place_name, event.time_zone) == ("USSYR", "SYRACUSE", "America/New_York")
    assert event.equipment_ref == "TRHU4561222"
    assert event.references["bill_of_lading"] == "ABCD224O4023815X"
    assert event.references["equipment"] == "TRHU4561222"  # the status's own reference wins
    assert warning_codes(result) == ["unz_reference", "status_from_text"]


def test_iftsta_eancom_maps_delivered_statuses_and_warns_about_the_others() -> None:
    result = parse("iftsta_d96a_ean004.edi")
    assert [e.event_type for e in result.events] == [EventType.DELIVERED] * 3
    first = result.events[0]
    assert first.event_time == datetime(2002, 2, 1, 14, 50, tzinfo=UTC)
    assert (first.locode, first.time_zone) == (None, "UTC")
    assert [w.code for w in first.warnings] == ["assumed_timezone"]
    assert first.references == {"DQ": "5/2334"}
    assert result.events[1].event_time is None  # 20020148 is no date
    assert [w.code for w in result.events[1].warnings] == ["bad_date"]
    assert warning_codes(result) == ["bom", "crlf", "unknown_status", "unknown_status", "unknown_status"]


def test_iftmin_gives_a_planned_pick_up_and_delivery() -> None:
    result = parse("iftmin_d96a_ean004.edi")
    assert [(e.event_type, e.classifier) for e in result.events] == [
        (EventType.PICKED_UP, EventClassifier.PLANNED),
        (EventType.DELIVERED, EventClassifier.PLANNED),
    ]
    pick_up, delivery = result.events
    assert pick_up.event_time == datetime(2002, 3, 5, 11, 0, tzinfo=UTC)
    assert (pick_up.locode, pick_up.place_name) == (None, "5412345678908")  # a GLN, not a LOCODE
    assert delivery.event_time == datetime(2002, 3, 8, 11, 0, tzinfo=UTC)
    assert pick_up.references == {"consignor_reference": "TI1284"}
    assert warning_codes(result) == ["bom", "crlf"]


def test_synthetic_cusres_gives_release_and_hold() -> None:
    result = parse("cusres_d96b_synthetic_release-hold.edi")
    assert [e.event_type for e in result.events] == [EventType.CUSTOMS_RELEASED, EventType.CUSTOMS_HELD]
    released = result.events[0]
    assert released.event_time == datetime(2025, 3, 1, 1, 10, tzinfo=UTC)  # 09:10 in Shenzhen
    assert (released.locode, released.container_number) == ("CNYTN", "MSKU1234565")
    assert released.references == {"waybill": "FW2025000017"}
    assert result.events[1].container_number == "TGHU1234567"
    assert warning_codes(result) == []


def test_unknown_message_type_and_document_code_give_warnings_not_events() -> None:
    text = "UNH+1+INVOIC:D:96A:UN'BGM+380'UNT+3+1'UNH+2+CODECO:D:95B:UN'BGM+99'EQD+CN+MSKU1234565'UNT+4+2'"
    result = parse_events(text)
    assert result.events == []
    assert warning_codes(result) == ["no_unb", "no_unz", "unsupported_message", "unknown_document"]


def test_us_place_without_known_locode_uses_los_angeles_with_a_warning() -> None:
    text = "UNH+1+CODECO:D:95B:UN'BGM+36'EQD+CN+MSKU1234565'DTM+7:202501011200:203'LOC+165+USXYZ:139:6'UNT+6+1'"
    [event] = parse_events(text).events
    assert event.event_type is EventType.GATE_OUT
    assert event.event_time == datetime(2025, 1, 1, 20, 0, tzinfo=UTC)
    assert [w.code for w in event.warnings] == ["approximate_timezone"]


def test_map_interchange_gives_the_same_events_as_parse_events() -> None:
    data = (DATA / "coarri_d95b_itg13_genoa-vte_cosco.edi").read_bytes()
    assert map_interchange(read_interchange(data)) == parse_events(data).events


def preadvice(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "sender": "FREIGHT",
        "recipient": "YICT",
        "interchange_ref": "250301001",
        "message_ref": "4201",
        "terminal_locode": "CNYTN",
        "expected_arrival": datetime(2025, 3, 1, 6, 30, tzinfo=UTC),
        "size_type": "45G1",
        "full": True,
        "truck_plate": "粤B12345",
        "container_number": "MSKU1234565",
        "booking": "YTN250301",
        "waybill": "FW2025000017",
        "prepared_at": datetime(2025, 2, 28, 12, 0, tzinfo=UTC),
    }
    arguments.update(overrides)
    return coparn_preadvice(**arguments)  # type: ignore[arg-type]


def test_coparn_preadvice_round_trips_to_one_planned_gate_in_without_warnings() -> None:
    text = preadvice()
    assert "DTM+132:202503011430:203'" in text  # Shenzhen local time
    result = parse_events(text)
    assert result.warnings == []
    [event] = result.events
    assert (event.event_type, event.classifier) == (EventType.GATE_IN, EventClassifier.PLANNED)
    assert event.event_time == datetime(2025, 3, 1, 6, 30, tzinfo=UTC)
    assert (event.locode, event.container_number, event.equipment_type, event.full) == (
        "CNYTN",
        "MSKU1234565",
        "45G1",
        True,
    )
    assert event.vehicle_plate == "粤B12345"
    assert event.references == {"booking": "YTN250301", "waybill": "FW2025000017"}
    assert event.warnings == ()
    assert event.external_ref == "FREIGHT:250301001:4201:0"


def test_coparn_preadvice_for_a_trailer_escapes_separators() -> None:
    text = preadvice(container_number=None, trailer_plate="TR+1:2", size_type="TRLR", full=False)
    [event] = parse_events(text).events
    assert (event.container_number, event.equipment_ref, event.full) == (None, "TR+1:2", False)
    assert event.warnings == ()


@pytest.mark.parametrize(
    "overrides",
    [
        {"container_number": None},
        {"trailer_plate": "TR1"},
        {"expected_arrival": datetime(2025, 3, 1, 6, 30)},
        {"terminal_locode": "USXYZ"},
    ],
)
def test_coparn_preadvice_refuses_incomplete_or_ambiguous_input(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        preadvice(**overrides)
