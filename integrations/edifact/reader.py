"""Tolerant reading of UN/EDIFACT interchanges.

pydifact splits the text into segments (separators, release character ``?``, UNA); the envelope
(UNB/UNG/UNH/UNT/UNE/UNZ) is checked here, because real partners send interchanges that pydifact's
``Interchange`` refuses or silently accepts: byte-order marks, CRLF between segments, missing UNB or
UNZ, functional groups, wrong counts. Whatever can be read is read, and each irregularity becomes an
``EdiWarning``; only input without any message is refused with ``EdiUnreadable``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from pydifact.constants import EDI_DEFAULT_DIRECTORY, EDI_DEFAULT_VERSION, Element
from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.parser import Parser
from pydifact.segments import Segment, SegmentFactory

__all__ = (
    "EdiInterchange",
    "EdiMessage",
    "EdiSegment",
    "EdiUnreadable",
    "EdiWarning",
    "read_interchange",
)

_UTF8_BOM = b"\xef\xbb\xbf"
_ENVELOPE_TAGS = frozenset({"UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})

ElementValue = str | tuple[str, ...]


class EdiUnreadable(Exception):  # noqa: N818 - the name the callers use
    """The input is not EDIFACT, or holds no message at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EdiWarning(msgspec.Struct, frozen=True):
    """An irregularity that was tolerated; ``code`` is stable, ``message`` is for people."""

    code: str
    message: str


class EdiSegment(msgspec.Struct, frozen=True):
    """One segment: its tag and its data elements (a composite element is a tuple of components)."""

    tag: str
    elements: tuple[ElementValue, ...]

    def component(self, element: int, component: int = 0) -> str:
        """The component at ``element``/``component`` (0-based), or ``""`` when absent."""
        if element >= len(self.elements):
            return ""
        value = self.elements[element]
        if isinstance(value, str):
            return value if component == 0 else ""
        return value[component] if component < len(value) else ""

    @property
    def qualifier(self) -> str:
        """The first component of the first element, the qualifier of most segments."""
        return self.component(0)


class EdiMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A UNH..UNT message; ``segments`` excludes UNH and UNT."""

    message_type: str
    version: str
    release: str
    agency: str
    association_code: str | None
    reference: str
    segments: tuple[EdiSegment, ...]
    warnings: tuple[EdiWarning, ...] = ()


class EdiInterchange(msgspec.Struct, frozen=True, kw_only=True):
    """An interchange; sender, recipient, reference and time are None when there is no UNB.

    ``prepared_at`` is the UNB date and time as written: EDIFACT gives no time zone for it.
    """

    sender: str | None
    recipient: str | None
    control_reference: str | None
    prepared_at: datetime | None
    syntax: str | None
    decimal_mark: str
    messages: tuple[EdiMessage, ...]
    warnings: tuple[EdiWarning, ...] = ()


class _UncheckedSegmentFactory(SegmentFactory):
    """Builds plain segments without pydifact's directory validation (which warns or refuses)."""

    @staticmethod
    def create_segment(
        name: str,
        *elements: Element,
        validate: bool = True,
        version: str = EDI_DEFAULT_VERSION,
        directory: str = EDI_DEFAULT_DIRECTORY,
    ) -> Segment:
        if not name or not isinstance(name, str) or not name.isalnum():
            raise EDISyntaxError(f"invalid segment tag {name!r}")
        # An empty segment makes pydifact warn; it carries nothing, so give it one empty element.
        return Segment(name, *(elements or ("",)))


def read_interchange(data: bytes | str) -> EdiInterchange:
    """Read an interchange (or bare UNH..UNT messages), recording every tolerated irregularity.

    Raises:
        EdiUnreadable: the input is not EDIFACT or holds no UNH message.
    """
    warnings: list[EdiWarning] = []
    text = _decoded_text(data, warnings)
    if "\r\n" in text:
        warnings.append(EdiWarning("crlf", "segments are separated by CRLF line ends"))
    text = text.strip()
    if not text:
        raise EdiUnreadable("the input is empty")
    segments, characters = _parsed_segments(text)
    if characters.decimal_point == ",":
        warnings.append(EdiWarning("decimal_comma", "UNA declares a comma as decimal mark"))
    return _Envelope(warnings).read(segments, decimal_mark=characters.decimal_point)


def _decoded_text(data: bytes | str, warnings: list[EdiWarning]) -> str:
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            warnings.append(EdiWarning("bom", "the text starts with a byte-order mark"))
            return data[1:]
        return data
    if data.startswith(_UTF8_BOM):
        warnings.append(EdiWarning("bom", "the file starts with a UTF-8 byte-order mark"))
        data = data[len(_UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(EdiWarning("encoding", "the file is not UTF-8; read as ISO 8859-1"))
        return data.decode("iso-8859-1")


def _parsed_segments(text: str) -> tuple[list[EdiSegment], Characters]:
    """Split ``text`` with pydifact; the UNA segment, if any, only sets the characters."""
    parser = Parser(factory=_UncheckedSegmentFactory())
    # Without UNA, ISO 9735 takes the full stop as decimal mark (pydifact defaults to a comma).
    characters = Characters.from_str(text[3:9] if text.startswith("UNA") else ":+.? '")
    try:
        parsed = [segment for segment in parser.parse(text) if segment.tag != "UNA"]
    except (EDISyntaxError, ValidationError, ValueError, IndexError) as error:
        raise EdiUnreadable(f"not EDIFACT: {error}") from error
    return [_plain_segment(segment) for segment in parsed], characters


def _plain_segment(segment: Segment) -> EdiSegment:
    elements: list[ElementValue] = []
    for element in segment.elements:
        elements.append(tuple(element) if isinstance(element, list) else str(element or ""))
    return EdiSegment(tag=str(segment.tag), elements=tuple(elements))


@dataclass
class _OpenMessage:
    header: EdiSegment
    segments: list[EdiSegment] = field(default_factory=list)
    warnings: list[EdiWarning] = field(default_factory=list)


class _Envelope:
    """Walks the segments once, collecting messages and checking the envelope around them."""

    def __init__(self, warnings: list[EdiWarning]) -> None:
        self.warnings = warnings
        self.messages: list[EdiMessage] = []
        self.unb: EdiSegment | None = None
        self.unz: EdiSegment | None = None
        self.groups = 0
        self.open: _OpenMessage | None = None
        self.stray: list[str] = []

    def read(self, segments: Iterable[EdiSegment], *, decimal_mark: str) -> EdiInterchange:
        for segment in segments:
            self._take(segment)
        self._close_unfinished()
        if not self.messages:
            raise EdiUnreadable("no UNH message found")
        self._check_trailer()
        if self.stray:
            self._warn("stray_segments", f"segments outside any message ignored: {', '.join(self.stray[:10])}")
        return self._interchange(decimal_mark)

    def _warn(self, code: str, message: str) -> None:
        self.warnings.append(EdiWarning(code, message))

    def _take(self, segment: EdiSegment) -> None:
        if self.unz is not None:
            self.stray.append(segment.tag)
        elif segment.tag == "UNB":
            self._take_unb(segment)
        elif segment.tag == "UNG":
            self.groups += 1
            self._warn("ung_group", f"functional group {segment.component(4)!r} (UNG/UNE) read as plain messages")
        elif segment.tag == "UNH":
            self._close_unfinished()
            self.open = _OpenMessage(header=segment)
        elif segment.tag == "UNT":
            self._close(segment)
        elif segment.tag == "UNZ":
            self._close_unfinished()
            self.unz = segment
        elif segment.tag == "UNE":
            self._close_unfinished()
        elif self.open is not None:
            self.open.segments.append(segment)
        else:
            self.stray.append(segment.tag)

    def _take_unb(self, segment: EdiSegment) -> None:
        if self.unb is not None or self.messages or self.open is not None:
            self.stray.append(segment.tag)
            return
        self.unb = segment

    def _close_unfinished(self) -> None:
        if self.open is not None:
            reference = self.open.header.component(0)
            self.open.warnings.append(EdiWarning("no_unt", f"message {reference} has no UNT trailer"))
            self._finish(self.open)

    def _close(self, unt: EdiSegment) -> None:
        if self.open is None:
            self.stray.append(unt.tag)
            return
        self.open.warnings.extend(_trailer_warnings(self.open, unt))
        self._finish(self.open)

    def _finish(self, message: _OpenMessage) -> None:
        self.messages.append(_message(message))
        self.open = None

    def _check_trailer(self) -> None:
        if self.unb is None:
            self._warn("no_unb", "no UNB interchange header: bare messages")
        if self.unz is None:
            self._warn("no_unz", "no UNZ interchange trailer")
            return
        expected = self.groups or len(self.messages)
        declared = self.unz.component(0)
        if _as_int(declared) != expected:
            what = "groups" if self.groups else "messages"
            self._warn("unz_count", f"UNZ declares {declared} {what}, {expected} present")
        if self.unb is not None and self.unz.component(1) != self.unb.component(4):
            self._warn(
                "unz_reference",
                f"UNZ reference {self.unz.component(1)!r} differs from UNB reference {self.unb.component(4)!r}",
            )

    def _interchange(self, decimal_mark: str) -> EdiInterchange:
        unb = self.unb
        return EdiInterchange(
            sender=unb.component(1) or None if unb else None,
            recipient=unb.component(2) or None if unb else None,
            control_reference=unb.component(4) or None if unb else None,
            prepared_at=_prepared_at(unb, self.warnings) if unb else None,
            syntax=":".join(c for c in (unb.component(0), unb.component(0, 1)) if c) or None if unb else None,
            decimal_mark=decimal_mark,
            messages=tuple(self.messages),
            warnings=tuple(self.warnings),
        )


def _trailer_warnings(message: _OpenMessage, unt: EdiSegment) -> Iterator[EdiWarning]:
    reference = message.header.component(0)
    declared = unt.component(0)
    present = len(message.segments) + 2
    if _as_int(declared) != present:
        yield EdiWarning("unt_count", f"message {reference}: UNT declares {declared} segments, {present} present")
    if unt.component(1) != reference:
        yield EdiWarning("unt_reference", f"message {reference}: UNT reference {unt.component(1)!r} differs from UNH")


def _message(message: _OpenMessage) -> EdiMessage:
    unh = message.header
    return EdiMessage(
        message_type=unh.component(1, 0),
        version=unh.component(1, 1),
        release=unh.component(1, 2),
        agency=unh.component(1, 3),
        association_code=unh.component(1, 4) or None,
        reference=unh.component(0),
        segments=tuple(message.segments),
        warnings=tuple(message.warnings),
    )


def _as_int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _prepared_at(unb: EdiSegment, warnings: list[EdiWarning]) -> datetime | None:
    date, time = unb.component(3, 0), unb.component(3, 1)
    formats = {6: "%y%m%d", 8: "%Y%m%d"}
    if len(date) not in formats or (time and len(time) != 4):
        warnings.append(EdiWarning("bad_date", f"UNB preparation date {date}:{time} not understood"))
        return None
    try:
        return datetime.strptime(date + (time or "0000"), formats[len(date)] + "%H%M")
    except ValueError:
        warnings.append(EdiWarning("bad_date", f"UNB preparation date {date}:{time} is not a date"))
        return None
