"""Per-giveaway analytics and the PNG chart."""

from __future__ import annotations

import json
from pathlib import Path

from rtc_interact.giveaway.analytics import (
    CommentRecord,
    PresenceSpan,
    Report,
    build,
    plot_png,
)
from rtc_interact.giveaway.entry import make_entry
from rtc_interact.giveaway.fairness import Window

W = Window(10_000, 70_000)


def _report() -> Report:
    entries = [make_entry("g", i + 1, f"u{i}", "v", "DE", None, 10_000 + 500 * i)
               for i in range(5)]  # arrivals at +0, +0.5, +1.0, +1.5, +2.0 s
    presence = [PresenceSpan(f"u{i}", 0, 100_000) for i in range(5)]  # 100 s each
    presence += [PresenceSpan("lurker", 50_000, 60_000), PresenceSpan("late", 80_000, None),
                 PresenceSpan("u0", 110_000, 120_000)]  # u0 came back for 10 s
    comments = [CommentRecord("u1", 20_000), CommentRecord("u2", 30_000),
                CommentRecord("lurker", 90_000)]
    return build("g", W, entries, presence, comments, end_ms=130_000)


def test_report_numbers() -> None:
    r = _report()
    assert (r.entries, r.unique_entrants, r.viewers_present) == (5, 5, 6)
    assert r.entries_per_second == [2, 2, 1]
    assert r.mean_watch_s_entrants == 102.0  # (110 + 4 * 100) / 5
    assert r.mean_watch_s_non_entrants == 30.0  # lurker 10 s, late 50 s
    assert r.comments_per_min_inside == 2.0  # 2 comments in 60 s
    assert r.comments_per_min_outside == round(60_000 / 70_000, 3)  # 1 in 130 - 60 s
    assert json.loads(r.to_json())["span_ms"] == [0, 130_000]


def test_png_chart_is_written(tmp_path: Path) -> None:
    path = plot_png(_report(), tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
