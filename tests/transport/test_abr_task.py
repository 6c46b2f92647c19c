"""FeedbackLog: RTCP events in, one ABR sample per take(); the copies' lag; the pacing rate."""

from __future__ import annotations

import pytest

from rtc_interact.transport.abr_task import FeedbackLog, copy_lag_s, pacing_kbps
from rtc_interact.transport.receive_buffer import ReceiveConfig


def test_a_sample_carries_only_what_arrived_since_the_previous_one() -> None:
    log = FeedbackLog()
    log.on_report(0.1, 0.2, 0.25)
    log.on_remb(300_000)
    log.on_nack(3)
    first = log.take(now=1.0, sent_bytes=1000)
    assert (first.loss, first.rtt_ms, first.rtt_raw_ms, first.remb_kbps, first.nacks) == \
        (0.1, 200.0, 250.0, 300.0, 3)
    log.on_nack(2)
    second = log.take(now=2.0, sent_bytes=500)
    assert (second.loss, second.rtt_ms, second.rtt_raw_ms, second.remb_kbps, second.nacks) == \
        (None, None, None, None, 2)
    assert log.nacks == 5 and second.sent_bytes == 500


def test_loss_is_smoothed_for_the_grade() -> None:
    log = FeedbackLog()
    log.on_report(0.0, 0.1, now=0.5)
    log.take(now=1.0, sent_bytes=0)
    log.on_report(0.2, 0.1, now=1.5)  # one unlucky report at a low packet rate
    log.take(now=2.0, sent_bytes=0)
    assert log.loss == 0.2
    assert log.loss_avg is not None and abs(log.loss_avg - 0.06) < 1e-9


def test_a_samples_loss_counts_every_report_since_the_previous_sample() -> None:
    """libwebrtc reports with every NACK: a block over 2 packets says 50%."""
    log = FeedbackLog()
    log.on_report(0.0, 0.3, counts=(1000, 5), now=0.5)
    assert log.take(now=1.0, sent_bytes=0).loss == 0.0  # nothing to count against yet
    log.on_report(0.5, 0.3, counts=(1002, 6), now=1.5)
    log.on_report(0.0, 0.3, counts=(1100, 6), now=1.6)
    assert log.take(now=2.0, sent_bytes=0).loss == 0.01  # 1 of 100, not the newest 0%
    log.on_report(0.5, 0.3, counts=(1102, 7), now=2.5)  # nor the 50% of a lone short report
    log.on_report(0.0, 0.3, counts=(1200, 5), now=2.6)  # duplicates lower the total: no gain
    assert log.take(now=3.0, sent_bytes=0).loss == 0.01
    assert log.loss_avg is not None and abs(log.loss_avg - 0.0051) < 1e-9


def test_loss_and_raw_round_trip_wait_for_reports_that_span_long_enough() -> None:
    """libwebrtc reports with every NACK and REMB: one loss in three packets is no 33%, and
    one report delayed by jitter is no queue."""
    log = FeedbackLog()
    log.on_report(0.0, 0.2, 0.20, counts=(1000, 0), now=10.0)
    assert log.take(now=10.0, sent_bytes=0).rtt_raw_ms == 200.0  # the first report: alone
    log.on_report(0.33, 0.2, 0.29, counts=(1003, 1), now=10.1)
    early = log.take(now=10.25, sent_bytes=0)
    assert (early.loss, early.rtt_raw_ms, early.rtt_ms) == (None, None, 200.0)
    log.on_report(0.0, 0.2, 0.21, counts=(1050, 1), now=10.3)
    log.on_report(0.0, 0.2, 0.30, counts=(1100, 1), now=10.5)  # 0.5 s after the first
    sample = log.take(now=10.5, sent_bytes=0)
    assert (sample.loss, sample.lost, sample.rtt_raw_ms) == (0.01, 1, 210.0)
    log.on_report(0.0, 0.2, 0.30, counts=(1110, 1), now=10.6)  # a new span has begun
    assert log.take(now=10.75, sent_bytes=0).rtt_raw_ms is None


def test_a_samples_ping_is_the_lowest_of_the_window_and_only_when_a_ping_came() -> None:
    log = FeedbackLog()
    assert log.take(now=1.0, sent_bytes=0).ping_rtt_ms is None
    log.on_ping(0.160, now=1.1)
    log.on_ping(0.240, now=1.6)
    assert log.take(now=1.75, sent_bytes=0).ping_rtt_ms == pytest.approx(160.0)
    assert log.take(now=2.0, sent_bytes=0).ping_rtt_ms is None  # nothing new
    log.on_ping(0.250, now=2.2)  # the 160 ms one is over a window old
    assert log.take(now=2.25, sent_bytes=0).ping_rtt_ms == pytest.approx(240.0)


def test_a_samples_newest_ping_is_the_lowest_of_those_answered_since_the_previous_one() -> None:
    """``Feedback.ping_new_ms``: a queue shows in it before the window's lowest moves."""
    log = FeedbackLog()
    log.on_ping(0.160, now=1.1)
    first = log.take(now=1.25, sent_bytes=0)
    assert first.ping_new_ms == first.ping_rtt_ms == pytest.approx(160.0)
    log.on_ping(0.420, now=1.4)
    log.on_ping(0.380, now=1.45)
    queued = log.take(now=1.5, sent_bytes=0)
    assert (queued.ping_rtt_ms, queued.ping_new_ms) == (pytest.approx(160.0), pytest.approx(380.0))
    assert log.take(now=1.75, sent_bytes=0).ping_new_ms is None  # none answered since


@pytest.mark.parametrize("rtt_ms", [120, 150, 180, 200, 220, 250, 320, 400])
def test_a_copy_lags_its_original_by_most_of_what_the_viewers_playout_delay_holds(
        rtt_ms: float) -> None:
    """Far behind its original, so that one burst of loss rarely takes both, but within the
    delay our viewer plays out at while packets go missing."""
    config = ReceiveConfig()
    playout_ms = min(config.playout_max_ms,
                     config.playout_rtt_factor * rtt_ms - config.playout_margin_ms)
    lag_ms = copy_lag_s(rtt_ms / 1000) * 1000
    assert 0.75 * playout_ms <= lag_ms <= playout_ms


@pytest.mark.parametrize(("knee", "expected"), [
    (None, 525.0),  # 2.5 x the rung and its copies
    (300.0, 300.0),  # a thin path: no faster than it last carried
    (200.0, 252.0),  # never under 1.2 x what is sent
    (2000.0, 525.0),
])
def test_the_pacer_paces_at_the_knee_but_never_under_what_is_sent(
        knee: float | None, expected: float) -> None:
    assert pacing_kbps(210.0, 2.5, knee) == pytest.approx(expected)
