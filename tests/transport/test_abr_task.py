"""FeedbackLog: RTCP events in, one ABR feedback sample per take()."""

from __future__ import annotations

from rtc_interact.transport.abr_task import FeedbackLog


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
    log.on_report(0.0, 0.1)
    log.on_report(0.2, 0.1)  # one unlucky report at a low packet rate
    assert log.loss == 0.2
    assert log.loss_avg is not None and abs(log.loss_avg - 0.06) < 1e-9
