"""Tolerant reading of EDIFACT interchanges: samples and synthetic dirty inputs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from integrations.edifact import EdiInterchange, EdiUnreadable, read_interchange

DATA = Path(__file__).parent / "data" / "edifact"


def read(name: str) -> EdiInterchange:
    return read_interchange((DATA / name).read_bytes())


def codes(interchange: EdiInterchange) -> list[str]:
    return [w.code for w in interchange.warnings]


def message_codes(interchange: EdiInterchange) -> list[str]:
    return [w.code for m in interchange.messages for w in m.warnings]


CLEAN_MESSAGE = "UNH+1+CODECO:D:95B:UN:SMDG16'BGM+34+1+9'UNT+3+1'"


def test_edifabric_file_with_bom_and_crlf_is_read_with_both_warnings() -> None:
    interchange = read("iftmin_d96a_ean004.edi")
    assert codes(interchange) == ["bom", "crlf"]
    assert (interchange.sender, interchange.recipient, interchange.control_reference) == ("SID", "RID", "I-EX1/1")
    assert interchange.prepared_at == datetime(2013, 4, 30, 11, 59)
    [message] = interchange.messages
    assert (message.message_type, message.version, message.release, message.agency) == ("IFTMIN", "D", "96A", "UN")
    assert message.association_code == "EAN004"
    assert message.reference == "ME000001"
    assert message.segments[0].tag == "BGM"
    assert message.segments[0].qualifier == "610"
    assert message.warnings == ()


def test_codeco_single_line_with_zero_padded_unt_count_is_clean() -> None:
    interchange = read("codeco_d95b_smdg16_huelva_gate-in.edi")
    assert codes(interchange) == []
    assert interchange.syntax == "UNOA:1"
    [message] = interchange.messages
    assert (message.message_type, message.association_code, message.reference) == ("CODECO", "SMDG16", "92218")
    assert len(message.segments) == 20
    assert message.warnings == ()


def test_coparn_with_una_comma_decimal_mark_warns_decimal_comma() -> None:
    interchange = read("coparn_d95b_maeu_riga.edi")
    assert codes(interchange) == ["decimal_comma"]
    assert interchange.decimal_mark == ","
    assert interchange.messages[0].association_code is None


def test_coprar_without_envelope_and_abridged_body_warns_no_unb_no_unz_and_unt_count() -> None:
    interchange = read("coprar_d95b_msk_load-order.edi")
    assert codes(interchange) == ["no_unb", "no_unz"]
    assert message_codes(interchange) == ["unt_count"]
    assert interchange.sender is None
    assert interchange.prepared_at is None
    assert "56" in interchange.messages[0].warnings[0].message


def test_release_character_keeps_the_escaped_colon_in_the_value() -> None:
    interchange = read("coprar_d95b_msk_load-order.edi")
    ftx = next(s for s in interchange.messages[0].segments if s.tag == "FTX" and s.qualifier == "AAA")
    assert ftx.component(3) == "PLASTICS:ARTICLES"


def test_baplie_31_warns_bom_crlf_and_unt_count() -> None:
    interchange = read("baplie_d13b_smdg31_edifabric.edi")
    assert codes(interchange) == ["bom", "crlf"]
    assert message_codes(interchange) == ["unt_count"]


def test_coarri_holds_two_messages_and_no_warnings() -> None:
    interchange = read("coarri_d95b_itg13_genoa-vte_cosco.edi")
    assert [m.reference for m in interchange.messages] == ["1452515553811", "1452515553819"]
    assert codes(interchange) == []
    assert message_codes(interchange) == []


def test_iftsta_d00b_unz_reference_differing_from_unb_is_reported() -> None:
    interchange = read("iftsta_d00b_carrier_rail-status.edi")
    assert codes(interchange) == ["unz_reference"]
    assert interchange.syntax == "UNOC:2"


def test_large_baplie_is_read_completely() -> None:
    interchange = read("baplie_d95b_smdg22_apmt-moin_del-monte-rose.edi")
    [message] = interchange.messages
    assert len(message.segments) == 7954
    assert message.warnings == ()
    assert interchange.recipient is None


def test_functional_groups_are_read_through_with_a_warning() -> None:
    text = f"UNB+UNOA:2+A+B+250101:1200+9'UNG+CODECO+A+B+250101:1200+77+UN+D:95B'{CLEAN_MESSAGE}UNE+1+77'UNZ+1+9'"
    interchange = read_interchange(text)
    assert codes(interchange) == ["ung_group"]
    assert [m.message_type for m in interchange.messages] == ["CODECO"]


def test_missing_unz_is_reported() -> None:
    interchange = read_interchange(f"UNB+UNOA:2+A+B+250101:1200+9'{CLEAN_MESSAGE}")
    assert codes(interchange) == ["no_unz"]
    assert len(interchange.messages) == 1


def test_wrong_unz_count_is_reported() -> None:
    interchange = read_interchange(f"UNB+UNOA:2+A+B+250101:1200+9'{CLEAN_MESSAGE}UNZ+3+9'")
    assert codes(interchange) == ["unz_count"]


def test_unt_reference_differing_from_unh_is_reported() -> None:
    interchange = read_interchange("UNB+UNOA:2+A+B+250101:1200+9'UNH+1+CODECO:D:95B:UN'BGM+34'UNT+3+2'UNZ+1+9'")
    assert message_codes(interchange) == ["unt_reference"]


def test_message_without_unt_is_closed_with_a_warning() -> None:
    text = "UNB+UNOA:2+A+B+250101:1200+9'UNH+1+CODECO:D:95B:UN'BGM+34'UNH+2+CODECO:D:95B:UN'BGM+36'UNT+3+2'UNZ+2+9'"
    interchange = read_interchange(text)
    assert [m.reference for m in interchange.messages] == ["1", "2"]
    assert [w.code for w in interchange.messages[0].warnings] == ["no_unt"]


def test_bom_in_a_str_is_reported() -> None:
    assert codes(read_interchange("\ufeff" + CLEAN_MESSAGE)) == ["bom", "no_unb", "no_unz"]


def test_latin1_bytes_are_read_with_an_encoding_warning() -> None:
    interchange = read_interchange("UNH+1+IFTSTA:D:00B:UN'FTX+AAA+++Müller'UNT+3+1'".encode("iso-8859-1"))
    assert "encoding" in codes(interchange)
    assert interchange.messages[0].segments[0].component(3) == "Müller"


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"   \r\n",
        b"hello world",
        b"<?xml version='1.0'?><a/>",
        b"%PDF-1.7\x00\x01\x02",
        b"UNB+UNOA:2+A+B+250101:1200+9'UNZ+0+9'",
        b"abc'def'",
    ],
)
def test_input_without_any_message_is_unreadable(garbage: bytes) -> None:
    with pytest.raises(EdiUnreadable) as raised:
        read_interchange(garbage)
    assert raised.value.reason
