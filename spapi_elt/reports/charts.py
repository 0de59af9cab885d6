"""Charts as inline SVG, drawn in Python: no JavaScript library, no CDN, nothing to download, so the page
works offline and in a locked-down browser.

Two shapes cover the report: vertical columns in groups (a value per date or month, one column per series)
and horizontal bars made of segments (one segment per finding, stacked per kind; or one bar per SKU).
Every mark carries a <title> (the browser's tooltip) and may link to an anchor of the page (its
settlement). Values arrive as the marts hold them; Python only turns them into pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

Number = float | int | Decimal
Formatter = Callable[[float], str]
SERIES = 8  # colours in the page's stylesheet: .s0 .. .s7


@dataclass(frozen=True)
class Mark:
    """One column or bar segment: its value, tooltip, optional link, colour (series) and style."""

    value: Number
    title: str
    href: str | None = None
    series: int = 0
    hollow: bool = False  # expected but not (yet) there: an outline, not a fill


@dataclass(frozen=True)
class Group:
    """A labelled slot: columns side by side (column chart) or segments end to end (bar chart)."""

    label: str
    marks: Sequence[Mark]
    note: str = ""  # printed after a bar (bar chart only)


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [i * step for i in range(first, last + 1)]


def _rect(attributes: str, mark: Mark) -> str:
    """A mark as an SVG rect with its tooltip, wrapped in a link when it has one."""
    css = f"mark s{mark.series % SERIES}" + (" hollow" if mark.hollow else "")
    element = f'<rect class="{css}" {attributes}><title>{escape(mark.title)}</title></rect>'
    return f'<a href="{escape(mark.href)}">{element}</a>' if mark.href else element


def _svg(chart_id: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


LEGEND_STEP = 170  # room for a marketplace id or a currency beside its swatch


def _legend(names: Sequence[str], x: int, y: int) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        left = x + index * LEGEND_STEP
        parts.append(f'<rect class="s{index % SERIES}" x="{left}" y="{y - 9}" width="10" height="10"></rect>'
                     f'<text class="legend" x="{left + 14}" y="{y}">{escape(name)}</text>')
    return parts


def column_chart(chart_id: str, title: str, groups: Sequence[Group], fmt: Formatter,
                 legend: Sequence[str] = (), height: int = 260) -> str:
    """Columns per group along the x axis (dates, months), a zero line, y ticks formatted by `fmt`."""
    per_group = max((len(g.marks) for g in groups), default=1)
    column, gap = 20, 16
    left, right, top, bottom = 80, 16, 24 if legend else 12, 56
    width = max(320, left + right + len(groups) * (per_group * column + gap), left + LEGEND_STEP * len(legend))
    values = [float(m.value) for g in groups for m in g.marks]
    scale = ticks(min([0.0, *values]), max([0.0, *values]))
    low, high = scale[0], scale[-1]
    plot = height - top - bottom

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * plot

    body = _legend(legend, left, 14)
    for tick in scale:
        body.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}">'
                    f'</line><text class="tick" x="{left - 6}" y="{y(tick) + 4:.1f}">{escape(fmt(tick))}</text>')
    for index, group in enumerate(groups):
        x0 = left + gap / 2 + index * (per_group * column + gap)
        for offset, mark in enumerate(group.marks):
            value = float(mark.value)
            top_y, bottom_y = sorted((y(value), y(0.0)))
            body.append(_rect(f'x="{x0 + offset * column:.1f}" y="{top_y:.1f}" width="{column - 2}" '
                              f'height="{max(bottom_y - top_y, 1.0):.1f}"', mark))
        label_x = x0 + per_group * column / 2
        label_y = height - bottom + 14
        body.append(f'<text class="label" x="{label_x:.1f}" y="{label_y}" '
                    f'transform="rotate(-40 {label_x:.1f} {label_y})">{escape(group.label)}</text>')
    body.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y(0.0):.1f}" y2="{y(0.0):.1f}"></line>')
    return _svg(chart_id, title, width, height, body)


def bar_chart(chart_id: str, title: str, groups: Sequence[Group], fmt: Formatter, width: int = 760) -> str:
    """One horizontal bar per group, its marks as segments end to end from zero (negatives to the left)."""
    row, left, right, top, bottom = 26, 230, 150, 8, 28
    height = top + bottom + row * len(groups)
    extents = [0.0]
    for group in groups:
        extents.append(sum(float(m.value) for m in group.marks if m.value > 0))
        extents.append(sum(float(m.value) for m in group.marks if m.value < 0))
    scale = ticks(min(extents), max(extents))
    low, high = scale[0], scale[-1]
    plot = width - left - right

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * plot

    body = []
    for tick in scale:
        body.append(f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{height - bottom}">'
                    f'</line><text class="tick middle" x="{x(tick):.1f}" y="{height - bottom + 16}">'
                    f"{escape(fmt(tick))}</text>")
    for index, group in enumerate(groups):
        y0 = top + index * row
        body.append(f'<text class="label" x="{left - 8}" y="{y0 + row / 2 + 4:.1f}">{escape(group.label)}</text>')
        positive, negative = 0.0, 0.0
        for mark in group.marks:
            value = float(mark.value)
            if value >= 0:
                start, positive = positive, positive + value
            else:
                start, negative = negative + value, negative + value
            x1, x2 = x(start), x(start + abs(value))
            body.append(_rect(f'x="{x1:.1f}" y="{y0 + 4}" width="{max(x2 - x1, 1.0):.1f}" '
                              f'height="{row - 8}"', mark))
        if group.note:
            body.append(f'<text class="note" x="{x(max(positive, 0.0)) + 6:.1f}" y="{y0 + row / 2 + 4:.1f}">'
                        f"{escape(group.note)}</text>")
    body.append(f'<line class="axis" x1="{x(0.0):.1f}" x2="{x(0.0):.1f}" y1="{top}" y2="{height - bottom}"></line>')
    return _svg(chart_id, title, width, height, body)
