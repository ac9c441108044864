"""Line charts as SVG geometry (pure)."""
from __future__ import annotations

from hoist.dashboard.chart import line_chart, nice_top


def test_nice_top() -> None:
    assert [nice_top(v) for v in (0, 0.7, 3, 7, 12, 512, 600)] == [1.0, 1.0, 5, 10, 20, 1000, 1000]


def test_lines_scale_split_at_gaps_and_mark_a_guide() -> None:
    c = line_chart([("p50", [10.0, None, 5.0, 20.0]), ("none", [None, None, None, None])], width=300, height=100,
                   guide=40.0)
    assert c.top == 50 and c.guide == 20.0
    first, empty = c.lines
    assert first.paths == ["0.0,80.0 4.0,80.0", "200.0,90.0 300.0,60.0"]  # a lone point gets a short segment
    assert (first.peak, first.last, first.css) == (20.0, 20.0, "l0")
    assert empty.paths == [] and empty.peak is None
    assert c.ticks == [(50.0, "25"), (0.0, "50")]
