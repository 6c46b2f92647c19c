"""DeliveryMeter: the rate a viewer received, from our send log and its receiver reports."""

from __future__ import annotations

import pytest

from rtc_interact.transport.abr_task import FeedbackLog
from rtc_interact.transport.delivery import DeliveryMeter


def _sent(meter: DeliveryMeter, first: int, count: int, size: int, total: int = 0) -> int:
    """``count`` media packets of ``size`` bytes from sequence ``first``; the running total."""
    for sequence in range(first, first + count):
        total += size
        meter.sent(sequence, total)
    return total


def test_the_rate_is_what_was_sent_between_two_reports_less_the_share_lost() -> None:
    meter = DeliveryMeter()
    _sent(meter, 0, 200, 1000)
    meter.report(10.0, 99, 0)
    assert meter.kbps() is None  # one report tells nothing
    meter.report(10.5, 149, 0)
    assert meter.kbps() is None  # nor two too close together
    meter.report(11.25, 199, 10)  # 100 packets of 1000 bytes, 10 of them lost, in 1.25 s
    assert meter.kbps() == pytest.approx(100_000 * 0.9 * 8 / 1000 / 1.25)


def test_copies_and_padding_sent_between_media_packets_count() -> None:
    meter = DeliveryMeter()
    total = _sent(meter, 0, 50, 1000)
    total = _sent(meter, 50, 50, 1000, total + 25_000)  # 25 kB of copies before packet 50
    meter.report(0.0, 49, 0)
    meter.report(1.0, 99, 0)
    assert meter.kbps() == pytest.approx(75_000 * 8 / 1000)


def test_sequence_numbers_wrap() -> None:
    meter = DeliveryMeter()
    _sent(meter, 65_500, 100, 1000)  # 65500..65535, then 0..63
    meter.report(0.0, 65_535, 0)
    meter.report(1.0, 65_536 + 63, 0)
    assert meter.kbps() == pytest.approx(64_000 * 8 / 1000)


@pytest.mark.parametrize(("first", "second"), [
    (4_900, (1.0, 4_800)),  # a restart (or a wild value)
    (4_800, (5.0, 4_900)),  # reports too far apart to tell of the path now
    (50, (1.0, 4_900)),  # a packet the send log no longer holds
])
def test_a_restart_a_stale_pair_or_a_packet_no_longer_known_tells_nothing(
        first: int, second: tuple[float, int]) -> None:
    meter = DeliveryMeter()
    _sent(meter, 0, 5000, 100)  # more than SENT_KEPT: the first packets are forgotten
    meter.report(0.0, first, 0)
    meter.report(*second, 0)
    assert meter.kbps() is None


def test_the_feedback_log_tells_the_meter_each_report_blocks_counts() -> None:
    meter = DeliveryMeter()
    log = FeedbackLog(meter)
    _sent(meter, 0, 200, 1000)
    log.on_report(0.0, 0.2, counts=(99, 0), now=1.0)
    log.on_report(0.0, 0.2, now=1.5)  # a block without counts tells the meter nothing
    log.on_report(0.0, 0.2, counts=(199, 0), now=2.0)
    assert meter.kbps() == pytest.approx(800.0)
