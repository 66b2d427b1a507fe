"""``freight edi``: reading EDIFACT files into journey events."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import msgspec

from integrations.edifact.mapping import EdiEvent, EdiParseResult, parse_events
from integrations.edifact.reader import EdiUnreadable

__all__ = ("edi",)

UNREADABLE_EXIT_CODE = 2


@click.group()
def edi() -> None:
    """Read UN/EDIFACT files (CODECO, COARRI, COPARN, COPRAR, BAPLIE, IFTSTA, IFTMIN, CUSRES)."""


@edi.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (messages, events, warnings).")
def parse(file: Path, as_json: bool) -> None:
    """Print the journey events FILE maps to, then the warnings."""
    try:
        result = parse_events(file.read_bytes())
    except EdiUnreadable as error:
        click.echo(f"{file}: unreadable EDIFACT: {error.reason}", err=True)
        sys.exit(UNREADABLE_EXIT_CODE)
    if as_json:
        click.echo(msgspec.json.encode(result).decode())
        return
    _print_table(result)


def _print_table(result: EdiParseResult) -> None:
    header = ("type", "classifier", "time (UTC)", "local time", "locode", "equipment", "references")
    rows = [header, *(_row(event) for event in result.events)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        click.echo(
            "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        )
    click.echo(f"{len(result.events)} events in {len(result.messages)} messages")
    for warning in [*result.warnings, *(w for event in result.events for w in event.warnings)]:
        click.echo(f"warning {warning.code}: {warning.message}")


def _row(event: EdiEvent) -> tuple[str, ...]:
    references = ", ".join(f"{name}={value}" for name, value in event.references.items())
    return (
        event.event_type.value,
        event.classifier.value,
        _utc(event.event_time),
        _local(event.event_time, event.time_zone),
        event.locode or "-",
        event.container_number or event.equipment_ref or "-",
        references or "-",
    )


def _utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}Z" if moment else "-"


def _local(moment: datetime | None, zone: str | None) -> str:
    if moment is None or zone is None:
        return "-"
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"
