"""A plan as a Gantt chart: one row per tractor, its drives, hooks, drops, waits and breaks as bars.

Drawn on the server as inline SVG (no chart library, nothing to load); the hour axis is Beijing time.
Each bar has a tooltip (``<title>``) and ``data-*`` attributes the page script uses to pick a task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from html import escape

import msgspec
from markupsafe import Markup

from dispatch.solver.problem import Activity, ActivityKind, Run
from waybill.document import DISPLAY_ZONE

__all__ = ("GanttRow", "render_gantt")

_LABEL_W = 150
_ROW_H = 24
_AXIS_H = 26
_CHART_W = 1100


class GanttRow(msgspec.Struct, frozen=True, kw_only=True):
    """One tractor's run and how to name it."""

    label: str
    run: Run
    pinned: bool = False


def _hour_ticks(start: datetime, end: datetime) -> list[datetime]:
    local = start.astimezone(DISPLAY_ZONE)
    tick = local.replace(minute=0, second=0, microsecond=0)
    if tick < local:
        tick += timedelta(hours=1)
    span_h = (end - start).total_seconds() / 3600
    step = 1 if span_h <= 14 else 2 if span_h <= 28 else 4
    ticks = []
    while tick <= end:
        if tick.hour % step == 0:
            ticks.append(tick)
        tick += timedelta(hours=1)
    return ticks


def _bar_class(activity: Activity, late_moves: set[str]) -> str:
    kind = activity.kind.value
    if activity.kind is ActivityKind.DRIVE:
        kind += " towed" if activity.trailer_id else " bobtail"
    if activity.kind is ActivityKind.DROP and activity.move_id in late_moves:
        kind += " late"
    return f"g-bar g-{kind}"


def render_gantt(
    rows: Sequence[GanttRow],
    *,
    describe: Callable[[Activity], str],
    late_moves: Sequence[str] = (),
    title: str = "",
) -> Markup:
    """The runs as an SVG Gantt chart spanning their first start to their last end.

    Args:
        rows: the runs in the order to draw them.
        describe: the tooltip of an activity (kind, times, places, move, trailer in the page's language).
        late_moves: ids of moves dropped after their deliver-by time; their drops are marked.
        title: the chart's accessible name.
    """
    activities = [a for row in rows for a in row.run.activities]
    if not activities:
        return Markup("")
    start = min(a.start for a in activities)
    end = max(a.end for a in activities)
    span = max((end - start).total_seconds(), 3600.0)
    scale = (_CHART_W - _LABEL_W) / span
    height = _AXIS_H + _ROW_H * len(rows) + 4
    late = set(late_moves)

    def x(moment: datetime) -> float:
        return _LABEL_W + (moment - start).total_seconds() * scale

    parts = [
        f'<svg class="gantt" viewBox="0 0 {_CHART_W} {height}" width="{_CHART_W}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in _hour_ticks(start, end):
        tx = x(tick)
        parts.append(
            f'<line class="g-tick" x1="{tx:.1f}" y1="{_AXIS_H - 6}" x2="{tx:.1f}" y2="{height}"/>'
            f'<text class="g-hour" x="{tx:.1f}" y="{_AXIS_H - 10}" text-anchor="middle">{tick:%H:%M}</text>'
        )
    for index, row in enumerate(rows):
        y = _AXIS_H + index * _ROW_H
        pinned = " pinned" if row.pinned else ""
        parts.append(
            f'<g class="g-row{pinned}" data-tractor="{escape(row.run.tractor_id)}">'
            f'<rect class="g-band" x="0" y="{y}" width="{_CHART_W}" height="{_ROW_H}"/>'
            f'<text class="g-label" x="6" y="{y + _ROW_H - 8}">{escape(row.label)}</text>'
        )
        for activity in row.run.activities:
            left, right = x(activity.start), x(activity.end)
            data = f' data-move="{escape(activity.move_id)}"' if activity.move_id else ""
            parts.append(
                f'<rect class="{_bar_class(activity, late)}"{data} x="{left:.1f}" y="{y + 4}" '
                f'width="{max(right - left, 1.5):.1f}" height="{_ROW_H - 8}">'
                f"<title>{escape(describe(activity))}</title></rect>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
