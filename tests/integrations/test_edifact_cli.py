"""``freight edi parse``: table, JSON and the exit code of unreadable files."""

from __future__ import annotations

from pathlib import Path

import msgspec
from click.testing import CliRunner

from integrations.edifact.cli import edi

DATA = Path(__file__).parent / "data" / "edifact"


def test_parse_prints_a_table_of_events_then_warnings() -> None:
    result = CliRunner().invoke(edi, ["parse", str(DATA / "codeco_d95b_smdg16_huelva_gate-in.edi")])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["type", "classifier", "time"]
    assert "gate_in" in lines[1]
    assert "2023-08-11 12:47Z" in lines[1]
    assert "2023-08-11 14:47 Europe/Madrid" in lines[1]
    assert "ESHUV" in lines[1]
    assert "booking=FUE110823" in lines[1]
    assert "1 events in 1 messages" in result.output
    assert lines[-1].startswith("warning invalid_container:")


def test_parse_json_gives_messages_events_and_warnings() -> None:
    result = CliRunner().invoke(edi, ["parse", "--json", str(DATA / "coprar_d95b_msk_load-order.edi")])
    assert result.exit_code == 0
    document = msgspec.json.decode(result.output)
    assert set(document) == {"messages", "events", "warnings"}
    assert document["messages"][0]["message_type"] == "COPRAR"
    assert [e["event_type"] for e in document["events"]] == ["loaded", "loaded"]
    assert document["events"][0]["classifier"] == "planned"
    assert [w["code"] for w in document["warnings"]] == ["no_unb", "no_unz", "unt_count"]


def test_unreadable_file_exits_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.edi"
    garbage.write_bytes(b"%PDF-1.7 not edifact")
    result = CliRunner().invoke(edi, ["parse", str(garbage)])
    assert result.exit_code == 2
    assert "unreadable EDIFACT" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
