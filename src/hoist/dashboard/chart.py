"""A bar chart as SVG geometry (pure): the template draws the rectangles."""
from __future__ import annotations

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
