"""Charts drawn on the server as SVG geometry (no JavaScript, no CDN: the bureau's intranet has no internet)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.functional import Promise

PALETTE = ["#4c9f70", "#2f7ebc", "#8e6cbf", "#d1495b", "#b8b8b8", "#e0a030", "#3aa6a6", "#7a8793", "#c76b98"]


@dataclass
class Bar:
    label: str | Promise
    value: float
    colour: str
    start: float = 0.0  # percent of the axis
    width: float = 0.0  # percent of the axis
    row: int = 0


def stacked(parts: list[tuple[str | Promise, float]], colours: list[str] | None = None) -> list[Bar]:
    """One 100 % bar split into `parts` (label, value); empty parts keep their legend entry with width 0."""
    colours = colours or PALETTE
    whole = sum(value for _label, value in parts) or 1
    bars, start = [], 0.0
    for index, (label, value) in enumerate(parts):
        width = 100 * value / whole
        bars.append(Bar(label, value, colours[index % len(colours)], round(start, 2), round(width, 2)))
        start += width
    return bars


def bars(items: list[tuple[str | Promise, float]], colour: str = "#2f7ebc") -> list[Bar]:
    """Horizontal bars, one per row, scaled to the largest value."""
    largest = max((value for _label, value in items), default=0) or 1
    return [
        Bar(label, value, colour, 0, round(100 * value / largest, 2), row) for row, (label, value) in enumerate(items)
    ]


def columns(months: list[dict], series: list[tuple[str, str | Promise, str]], height: int = 120) -> dict:
    """Stacked monthly columns in SVG units: `series` is (key, label, colour); the highest month is `height` tall.
    Each month is 40 units wide, its column 24; the axis sits at y = height + 10."""
    highest = max((sum(month[key] for key, _l, _c in series) for month in months), default=0) or 1
    base = height + 10
    result = []
    for index, month in enumerate(months):
        top, parts = base, []
        for key, label, colour in series:
            size = round(height * month[key] / highest, 2)
            top -= size
            parts.append({"value": month[key], "label": label, "colour": colour, "y": round(top, 2), "height": size})
        result.append(
            {
                "month": month["month"],
                "x": index * 40 + 8,
                "centre": index * 40 + 20,
                "parts": parts,
                "total": sum(part["value"] for part in parts),
                "top": round(top - 4, 2),
            }
        )
    legend = [{"label": label, "colour": colour} for _key, label, colour in series]
    return {"months": result, "legend": legend, "width": 40 * len(months), "height": base + 20, "axis": base}


LANE = 12  # each phase on its own lane of the timeline: phases may overlap (一 and 二 do)


def phase_timeline(today: datetime.date) -> dict:
    """The phases of today's year (the bureau's table, rectification.CampaignPhase) on one axis, one lane each
    (percent positions), with today marked, clamped to the axis. Several phases may be current."""
    from rectification.phases import phases_of_year

    rows = sorted(phases_of_year(today.year), key=lambda phase: phase.number)
    if not rows:
        return {"phases": [], "today": today, "within": False, "missing": True, "height": 44, "axis": 34}
    axis_start = min(phase.starts_on for phase in rows)
    axis_end = max(phase.ends_on for phase in rows)
    span = (axis_end - axis_start).days or 1

    def position(day: datetime.date) -> float:
        return round(100 * min(max((day - axis_start).days, 0), span) / span, 2)

    phases = []
    for index, phase in enumerate(rows):
        first, last = phase.starts_on, phase.ends_on
        phases.append(
            {
                "label": phase.name,
                "first": first,
                "last": last,
                "start": position(first),
                "width": max(position(last) - position(first), 0.5),
                "colour": PALETTE[index % len(PALETTE)],
                "current": phase.is_current(today),
                "y": 4 + index * LANE,
            }
        )
    today_at = position(today)
    anchor = "end" if today_at > 90 else "start" if today_at < 10 else "middle"  # keep the label inside the axis
    return {
        "phases": phases,
        "today": today,
        "today_at": today_at,
        "anchor": anchor,
        "within": axis_start <= today <= axis_end,
        "missing": False,
        "axis": 6 + len(rows) * LANE,
        "height": 16 + len(rows) * LANE,
    }
