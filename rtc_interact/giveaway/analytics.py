"""Per-giveaway analytics from entries, presence spans and comments (sans-IO, plus a PNG chart).

matplotlib is imported only by :func:`plot_png` (it is a ``bench``/``dev`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .entry import Entry
from .fairness import Window


@dataclass(frozen=True, slots=True)
class PresenceSpan:
    """One viewer session: joined, and left (None while still watching)."""

    identity: str
    """Token subject."""
    joined_ms: int
    """Join time (host wall ms)."""
    left_ms: int | None = None
    """Leave time, None if still present at the end of the report."""


@dataclass(frozen=True, slots=True)
class CommentRecord:
    """One comment (the text is not needed)."""

    identity: str
    """Who commented."""
    at_ms: int
    """When it reached the host."""


@dataclass(frozen=True, slots=True)
class Report:
    """Analytics of one giveaway."""

    giveaway_id: str
    """The giveaway."""
    window: Window
    """The entry window."""
    entries: int
    """Number of entries."""
    unique_entrants: int
    """Distinct identities that entered."""
    viewers_present: int
    """Distinct identities present at any time during the window."""
    entries_per_second: list[int]
    """Entries per 1-s bucket, from the window open to the last entry."""
    mean_watch_s_entrants: float | None
    """Mean watch time (whole report span) of entrants, None if none."""
    mean_watch_s_non_entrants: float | None
    """Mean watch time of viewers who did not enter, None if none."""
    comments_per_min_inside: float
    """Comment rate during the window."""
    comments_per_min_outside: float
    """Comment rate in the rest of the report span."""
    span_ms: tuple[int, int]
    """Report span: first presence (or window open) to ``end_ms``."""

    def to_json(self) -> str:
        """JSON text."""
        return json.dumps(asdict(self), indent=1)


def _watch_ms(spans: Sequence[PresenceSpan], end_ms: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in spans:
        left = end_ms if s.left_ms is None else min(s.left_ms, end_ms)
        out[s.identity] = out.get(s.identity, 0) + max(0, left - s.joined_ms)
    return out


def _mean_s(values: list[int]) -> float | None:
    return round(sum(values) / len(values) / 1000, 3) if values else None


def _per_second(entries: Sequence[Entry], open_ms: int) -> list[int]:
    if not entries:
        return []
    last = max(e.arrival_ms for e in entries)
    buckets = [0] * (max(0, last - open_ms) // 1000 + 1)
    for e in entries:
        buckets[max(0, e.arrival_ms - open_ms) // 1000] += 1
    return buckets


def build(giveaway_id: str, window: Window, entries: Sequence[Entry],
          presence: Sequence[PresenceSpan], comments: Sequence[CommentRecord],
          end_ms: int) -> Report:
    """The report for one giveaway, over the span from the first join to ``end_ms``."""
    start = min([window.open_ms, *(s.joined_ms for s in presence)])
    end = max(end_ms, window.close_ms)
    watch = _watch_ms(presence, end)
    entrants = {e.identity for e in entries}
    present = {s.identity for s in presence
               if s.joined_ms <= window.close_ms and (s.left_ms or end) >= window.open_ms}
    inside_ms = window.close_ms - window.open_ms
    outside_ms = (end - start) - inside_ms
    inside = sum(1 for c in comments if window.open_ms <= c.at_ms <= window.close_ms)
    outside = len(comments) - inside
    return Report(
        giveaway_id=giveaway_id, window=window, entries=len(entries),
        unique_entrants=len(entrants), viewers_present=len(present),
        entries_per_second=_per_second(entries, window.open_ms),
        mean_watch_s_entrants=_mean_s([v for k, v in watch.items() if k in entrants]),
        mean_watch_s_non_entrants=_mean_s([v for k, v in watch.items() if k not in entrants]),
        comments_per_min_inside=round(inside * 60_000 / inside_ms, 3) if inside_ms > 0 else 0.0,
        comments_per_min_outside=round(outside * 60_000 / outside_ms, 3) if outside_ms > 0
        else 0.0,
        span_ms=(start, end),
    )


def plot_png(report: Report, path: Path) -> Path:
    """Write a chart (entries per second; comment rates; watch times) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.bar(range(len(report.entries_per_second)), report.entries_per_second, width=1.0)
    ax1.set_xlabel("seconds since entries opened")
    ax1.set_ylabel("entries per second")
    ax1.set_title(f"{report.giveaway_id}: {report.entries} entries, "
                  f"{report.viewers_present} viewers present")
    labels = ["comments/min\ninside window", "comments/min\noutside",
              "watch s\nentrants", "watch s\nnon-entrants"]
    values = [report.comments_per_min_inside, report.comments_per_min_outside,
              report.mean_watch_s_entrants or 0.0, report.mean_watch_s_non_entrants or 0.0]
    ax2.bar(labels, values, color=["C1", "C1", "C2", "C2"])
    ax2.set_title("engagement")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
