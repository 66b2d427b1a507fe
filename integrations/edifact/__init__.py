"""Tolerant UN/EDIFACT reading, mapping to journey events, and writers (COPARN, CODECO, COARRI)."""

from integrations.edifact.mapping import EdiEvent, EdiParseResult, MessageSummary, map_interchange, parse_events
from integrations.edifact.reader import (
    EdiInterchange,
    EdiMessage,
    EdiSegment,
    EdiUnreadable,
    EdiWarning,
    read_interchange,
)
from integrations.edifact.writer import coarri_vessel_report, codeco_gate_report, coparn_preadvice

__all__ = (
    "EdiEvent",
    "EdiInterchange",
    "EdiMessage",
    "EdiParseResult",
    "EdiSegment",
    "EdiUnreadable",
    "EdiWarning",
    "MessageSummary",
    "coarri_vessel_report",
    "codeco_gate_report",
    "coparn_preadvice",
    "map_interchange",
    "parse_events",
    "read_interchange",
)
