"""The latency-fair window rule, with plain numbers for clocks."""

from __future__ import annotations

from rtc_interact.giveaway import Verdict, Window, judge
from rtc_interact.giveaway.fairness import last_arrival_ms

W = Window(10_000, 20_000)
BEHIND = 800  # the viewer's video runs 800 ms behind the host


def test_far_viewer_tap_inside_the_window_as_seen_counts_even_after_host_close() -> None:
    # The viewer sees the last frame of the window at 20_000 + 800 and taps right away.
    d = judge(W, arrival_ms=20_000 + BEHIND + 40, media_ts_ms=19_990)
    assert d.counts and d.verdict is Verdict.INSIDE
    assert d.delay_ms == 850


def test_far_viewer_tap_after_the_window_as_seen_does_not_count() -> None:
    d = judge(W, arrival_ms=20_100 + BEHIND, media_ts_ms=20_100)
    assert not d.counts and d.verdict is Verdict.AFTER_CLOSE


def test_far_viewer_tap_before_the_open_as_seen_does_not_count() -> None:
    # The host opened at 10_000 but this viewer still sees a frame from 9_500.
    d = judge(W, arrival_ms=10_300, media_ts_ms=9_500)
    assert not d.counts and d.verdict is Verdict.BEFORE_OPEN


def test_without_a_media_timestamp_arrival_decides() -> None:
    assert judge(W, arrival_ms=19_999).counts
    assert judge(W, arrival_ms=20_001).verdict is Verdict.AFTER_CLOSE
    assert judge(W, arrival_ms=9_999).verdict is Verdict.BEFORE_OPEN
    assert judge(W, arrival_ms=20_001).delay_ms is None


def test_delay_above_allowance_plus_slack_is_refused() -> None:
    d = judge(W, arrival_ms=15_000 + 1_500 + 251, media_ts_ms=15_000, max_allowance_ms=1_500)
    assert not d.counts and d.verdict is Verdict.TOO_FAR_BEHIND
    assert judge(W, arrival_ms=15_000 + 1_750, media_ts_ms=15_000).counts


def test_measured_uplink_is_not_counted_as_video_delay() -> None:
    late = dict(arrival_ms=15_000 + 2_000, media_ts_ms=15_000)
    assert not judge(W, **late).counts
    assert judge(W, **late, rtt_ms=600).counts  # 300 ms of the 2 s were the tap's own trip


def test_a_frame_from_the_future_is_impossible() -> None:
    d = judge(W, arrival_ms=12_000, media_ts_ms=12_500)
    assert not d.counts and d.verdict is Verdict.IMPOSSIBLE_TIMESTAMP
    assert judge(W, arrival_ms=12_000, media_ts_ms=12_200).counts  # within slack


def test_last_arrival_covers_the_latest_tap_that_can_count() -> None:
    latest = judge(W, arrival_ms=20_000 + 1_500 + 250, media_ts_ms=20_000)
    assert latest.counts
    assert last_arrival_ms(W, 1_500) >= 20_000 + 1_500 + 250
