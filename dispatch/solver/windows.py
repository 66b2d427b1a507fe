"""Time arithmetic of a plan: seconds since the problem's start, opening hours and the night as intervals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.solver.problem import OpeningHours, Problem

__all__ = (
    "Interval",
    "at",
    "intersect",
    "local_windows",
    "merge",
    "offset_s",
    "opening_intervals",
    "shift",
)

Interval = tuple[int, int]
"""``[start, end]`` in whole seconds since the problem's start."""


def offset_s(problem: Problem, moment: datetime | None, default: int) -> int:
    """Whole seconds from the problem's start to ``moment`` (``default`` when None)."""
    if moment is None:
        return default
    return int((moment - problem.start).total_seconds() // 1)


def at(problem: Problem, seconds: float) -> datetime:
    """The instant ``seconds`` after the problem's start."""
    return problem.start + timedelta(seconds=seconds)


def local_windows(problem: Problem, daily: Sequence[tuple[str, str]]) -> list[Interval]:
    """Daily local ``(from, to)`` windows (``to <= from`` runs past midnight) over the horizon."""
    zone = ZoneInfo(problem.policy.timezone)
    horizon = int(problem.horizon_hours * 3600)
    first = problem.start.astimezone(zone).date() - timedelta(days=1)
    last = (problem.start + timedelta(seconds=horizon)).astimezone(zone).date()
    windows: list[Interval] = []
    day = first
    while day <= last:
        for start_text, end_text in daily:
            opens = _local(day, start_text, zone)
            closes = _local(day, end_text, zone)
            if closes <= opens:
                closes = _local(day + timedelta(days=1), end_text, zone)
            windows.append((offset_s(problem, opens, 0), offset_s(problem, closes, 0)))
        day += timedelta(days=1)
    return merge(clip(windows, 0, horizon))


def opening_intervals(problem: Problem, hours: Sequence[OpeningHours]) -> list[Interval]:
    """When a place is open over the horizon; always when it has no opening hours."""
    if not hours:
        return [(0, int(problem.horizon_hours * 3600))]
    return local_windows(problem, [(window.open, window.close) for window in hours])


def _local(day: date, text: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24:
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return datetime.combine(day, time(hours, minutes), tzinfo=zone)


def clip(intervals: Iterable[Interval], low: int, high: int) -> list[Interval]:
    """The parts of the intervals within ``[low, high]``."""
    return [(max(a, low), min(b, high)) for a, b in intervals if min(b, high) >= max(a, low)]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, overlapping or touching intervals joined."""
    merged: list[Interval] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    """The intersection of two sorted interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if a <= b:
            result.append((a, b))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def shift(intervals: Iterable[Interval], by: int, *, shrink_end: int = 0) -> list[Interval]:
    """Each interval moved by ``by`` seconds, its end pulled in by ``shrink_end``; empty ones dropped."""
    return [(a + by, b + by - shrink_end) for a, b in intervals if b - shrink_end >= a]
