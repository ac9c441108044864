"""Charts as SVG geometry (pure): bars, meters and lines; the templates draw them."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int | float
    label: str


def bars(values: list[int] | list[float], labels: list[str], width: float = 600, height: float = 120,
         gap: float = 2) -> list[Bar]:
    """Bars scaled so the tallest fills the height; a zero value gets no height."""
    if not values:
        return []
    top = max(values) or 1
    step = width / len(values)
    out = []
    for i, (v, label) in enumerate(zip(values, labels)):
        h = round(height * v / top, 1)
        out.append(Bar(round(i * step + gap / 2, 1), round(height - h, 1), round(max(1.0, step - gap), 1), h, v,
                       label))
    return out


def meter(value: float, limit: float, width: float = 500) -> float:
    """The length of a horizontal bar for value out of limit, clipped to the width."""
    if limit <= 0:
        return 0.0
    return round(min(width, max(0.0, width * value / limit)), 1)


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # l0 .. l5: the line's colour
    paths: list[str]  # SVG polyline points; a missing value splits the line
    last: float | None
    peak: float | None


@dataclass(frozen=True)
class LineChart:
    lines: list[Line]
    top: float  # the value at the top edge
    width: float
    height: float
    ticks: list[tuple[float, str]]  # (y, label) of the horizontal grid lines
    guide: float | None  # y of a reference line (a quota), if any


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above value (pure)."""
    if value <= 0:
        return 1.0
    k = 10 ** math.floor(math.log10(value))
    return next(m * k for m in (1, 2, 2.5, 5, 10) if m * k >= value)


def _dot(point: str) -> str:
    """A lone point as a short flat segment, so that it shows."""
    x, y = point.split(",")
    return f"{point} {round(float(x) + 4, 1)},{y}"


def line_chart(series: list[tuple[str, list[float | None]]], width: float = 800, height: float = 140,
               guide: float | None = None) -> LineChart:
    """Polylines for series of equal length over the width, scaled to a round top (pure)."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = nice_top(max(values + ([guide] if guide else []), default=0))
    n = max((len(vs) for _, vs in series), default=0)
    step = width / max(1, n - 1)

    def y(v: float) -> float:
        return round(height - height * v / top, 1)

    lines = []
    for i, (name, vs) in enumerate(series):
        paths: list[str] = []
        current: list[str] = []
        for j, v in enumerate(vs):
            if v is None:
                if current:
                    paths.append(" ".join(current))
                current = []
                continue
            current.append(f"{round(j * step, 1)},{y(v)}")
        if current:
            paths.append(" ".join(current))
        # one point alone draws nothing: give it a short flat segment
        paths = [p if " " in p else _dot(p) for p in paths]
        present = [v for v in vs if v is not None]
        lines.append(Line(name, f"l{i % 6}", paths, present[-1] if present else None, max(present, default=None)))
    ticks = [(y(top * f), f"{top * f:g}") for f in (0.5, 1.0)]
    return LineChart(lines, top, width, height, ticks, y(guide) if guide else None)
