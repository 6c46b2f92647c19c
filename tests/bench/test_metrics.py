from __future__ import annotations

from rtc_interact.bench.metrics import (
    FrameLog,
    FrameRecord,
    count_freezes,
    fps_per_second,
    freeze_gaps,
    summarise,
)
from rtc_interact.media.stamp import FrameStamp


def test_steady_frames_have_no_freeze() -> None:
    assert count_freezes([i / 30 for i in range(300)]) == (0, 0.0)


def test_a_long_gap_is_one_freeze_by_the_w3c_rule() -> None:
    times = [i / 30 for i in range(60)] + [2.0 + 0.5 + i / 30 for i in range(30)]
    freezes, frozen = count_freezes(times)
    assert freezes == 1
    assert abs(frozen - (2.5 - 59 / 30)) < 1e-9
    assert freeze_gaps(times) == [(59 / 30, 2.5)]  # the frames on either side of it


def test_a_gap_under_mean_plus_150ms_is_not_a_freeze() -> None:
    # 3 x 33 ms = 100 ms, but mean + 150 ms = 183 ms is the larger threshold
    times = [i / 30 for i in range(60)] + [59 / 30 + 0.17 + i / 30 for i in range(30)]
    assert count_freezes(times)[0] == 0


def test_fps_per_second_buckets_by_whole_seconds() -> None:
    assert fps_per_second([0.1, 0.2, 1.5, 2.9, 3.5], start_s=0.0, seconds=3) == [2, 1, 1]


def test_summary_counts_corrupt_frames_and_latency() -> None:
    log = FrameLog([FrameRecord(i / 30, FrameStamp(i, 0) if i % 10 else None,
                                40.0 if i % 10 else None) for i in range(60)])
    summary = summarise(log, 0.0, 2)
    assert summary.frames == 60 and summary.corrupt_frames == 6
    assert summary.g2g_ms is not None and summary.g2g_ms.p50 == 40.0
    assert summary.fps == [30, 30]


def test_summary_places_each_freeze_from_the_start() -> None:
    times = [10 + i / 30 for i in range(60)] + [10 + 2.5 + i / 30 for i in range(30)]
    summary = summarise(FrameLog([FrameRecord(t, None, None) for t in times]), 10.0, 4)
    assert summary.freezes == 1
    [(at, gap)] = summary.freezes_at
    assert abs(at - 59 / 30) < 1e-9 and abs(gap - (2.5 - 59 / 30)) < 1e-9
