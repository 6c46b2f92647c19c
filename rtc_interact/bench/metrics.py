"""Sans-IO measurement of received video: per-frame records in, fps, freezes and latency out."""

from __future__ import annotations

import itertools
import statistics
from collections import deque
from dataclasses import dataclass, field

import av

from ..media.stamp import FrameStamp, latency_ms, luma_of, read_stamp
from ..stats import Percentiles


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One decoded frame as the viewer saw it."""

    at_s: float
    """Viewer monotonic clock (perf_counter) when decoded."""
    stamp: FrameStamp | None
    """Burned-in stamp, None if unreadable (a damaged frame when the source is the pattern)."""
    g2g_ms: float | None
    """Glass-to-glass latency from the stamp (host and viewer share a wall clock here)."""
    width: int = 0
    """Frame width (tells the ladder rung the viewer was on)."""


@dataclass(slots=True)
class FrameLog:
    """Every frame a viewer decoded, for the video benchmark."""

    records: list[FrameRecord] = field(default_factory=list)
    """Frames in decode order."""

    def add(self, frame: av.VideoFrame, at_s: float, wall_ms: int,
            stamp: FrameStamp | None = None) -> None:
        """Record ``frame``; reads its stamp unless the caller already did."""
        if stamp is None and frame.format.name == "yuv420p":
            stamp = read_stamp(luma_of(frame))
        self.add_shown(at_s, wall_ms, stamp, frame.width)

    def add_shown(self, at_s: float, wall_ms: int, stamp: FrameStamp | None, width: int) -> None:
        """Record a frame another viewer decoded and read (Chromium's page): shown at ``at_s``
        (perf_counter) and ``wall_ms``; a stamp with no plausible latency counts as unread."""
        g2g = latency_ms(stamp, wall_ms)
        self.records.append(FrameRecord(at_s, stamp if g2g is not None else None, g2g, width))


def freeze_gaps(times_s: list[float]) -> list[tuple[float, float]]:
    """The freezes among frames rendered at ``times_s`` by the W3C webrtc-stats rule, as (last
    frame before, first frame after) pairs.

    A gap between rendered frames is a freeze when it exceeds max(3 x mean, mean + 150 ms), where
    the mean is over the previous 30 inter-frame durations.
    """
    recent: deque[float] = deque(maxlen=30)
    out = []
    for before, after in itertools.pairwise(times_s):
        gap = after - before
        if len(recent) >= 5:
            mean = sum(recent) / len(recent)
            if gap > max(3 * mean, mean + 0.150):
                out.append((before, after))
        recent.append(gap)
    return out


def count_freezes(times_s: list[float]) -> tuple[int, float]:
    """Freezes (:func:`freeze_gaps`) and their total duration in seconds."""
    gaps = freeze_gaps(times_s)
    return len(gaps), sum(after - before for before, after in gaps)


def fps_per_second(times_s: list[float], start_s: float, seconds: int) -> list[int]:
    """Frames decoded in each whole second after ``start_s``."""
    counts = [0] * seconds
    for t in times_s:
        index = int(t - start_s)
        if 0 <= index < seconds:
            counts[index] += 1
    return counts


@dataclass(frozen=True, slots=True)
class VideoSummary:
    """What one video run showed."""

    fps: list[int]
    """Frames decoded in each second of the run."""
    freezes: int
    """W3C freezes during the run."""
    freeze_s: float
    """Total frozen time."""
    g2g_ms: Percentiles | None
    """Glass-to-glass latency."""
    g2g_per_s: list[float | None]
    """Median glass-to-glass latency in each second."""
    corrupt_frames: int
    """Frames whose stamp could not be read (damaged by loss or shown half-decoded)."""
    frames: int
    """Frames decoded."""
    width_per_s: list[int | None] = field(default_factory=list)
    """Width of the last frame decoded in each second (None: no frame that second)."""
    freezes_at: list[tuple[float, float]] = field(default_factory=list)
    """Each freeze as (seconds from the start to its last frame before, seconds frozen)."""


def summarise(log: FrameLog, start_s: float, seconds: int) -> VideoSummary:
    """Summarise the frames decoded in [start_s, start_s + seconds)."""
    records = [r for r in log.records if start_s <= r.at_s < start_s + seconds]
    times = [r.at_s for r in records]
    freezes_at = [(before - start_s, after - before) for before, after in freeze_gaps(times)]
    buckets: list[list[float]] = [[] for _ in range(seconds)]
    widths: list[int | None] = [None] * seconds
    for r in records:
        widths[int(r.at_s - start_s)] = r.width
        if r.g2g_ms is not None:
            buckets[int(r.at_s - start_s)].append(r.g2g_ms)
    return VideoSummary(
        fps=fps_per_second(times, start_s, seconds), freezes=len(freezes_at),
        freeze_s=round(sum(gap for _, gap in freezes_at), 3),
        g2g_ms=Percentiles.of([r.g2g_ms for r in records if r.g2g_ms is not None]),
        g2g_per_s=[statistics.median(b) if b else None for b in buckets],
        corrupt_frames=sum(r.stamp is None for r in records), frames=len(records),
        width_per_s=widths,
        freezes_at=freezes_at,
    )
