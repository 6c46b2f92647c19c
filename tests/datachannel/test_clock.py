from __future__ import annotations

import pytest

from rtc_interact.datachannel.clock import ClockSync


def test_symmetric_path_recovers_the_offset_exactly() -> None:
    sync = ClockSync()
    sync.add(sent_ms=1000, received_ms=1150, host_ms=1000 + 75 + 5000)
    estimate = sync.estimate()
    assert estimate is not None
    assert estimate.offset_ms == pytest.approx(5000)
    assert (estimate.rtt_ms, estimate.error_ms) == (150, 75)


def test_least_delayed_sample_wins_and_queueing_is_ignored() -> None:
    sync = ClockSync()
    sync.add(0, 400, 75 + 300 - 2000)  # queued 250 ms on the way back: offset looks off
    sync.add(1000, 1150, 1075 - 2000)
    estimate = sync.estimate()
    assert estimate is not None and estimate.offset_ms == pytest.approx(-2000)
    assert estimate.samples == 2


def test_no_samples_no_estimate_and_window_is_bounded() -> None:
    sync = ClockSync(window=3)
    assert sync.estimate() is None
    for i in range(10):
        sync.add(i * 100, i * 100 + 50 + i, i * 100 + 25)
    estimate = sync.estimate()
    assert estimate is not None and estimate.samples == 3 and estimate.rtt_ms == 57
