"""Tolerant UN/EDIFACT reading, mapping to journey events, and the COPARN pre-advice writer."""

from integrations.edifact.mapping import EdiEvent, EdiParseResult, MessageSummary, map_interchange, parse_events
from integrations.edifact.reader import (
    EdiInterchange,
    EdiMessage,
    EdiSegment,
    EdiUnreadable,
    EdiWarning,
    read_interchange,
)
from integrations.edifact.writer import coparn_preadvice

__all__ = (
    "EdiEvent",
    "EdiInterchange",
    "EdiMessage",
    "EdiParseResult",
    "EdiSegment",
    "EdiUnreadable",
    "EdiWarning",
    "MessageSummary",
    "coparn_preadvice",
    "map_interchange",
    "parse_events",
    "read_interchange",
)
