"""Packet trains (sans-IO): what the viewer measures of a train through a bottleneck, its
report's FCI, and when the host asks for trains and what their reports refute."""

from __future__ import annotations

import random

import pytest
from aiortc.rtp import pack_remb_fci

from rtc_interact.errors import ConfigurationError, RtcInteractError
from rtc_interact.linkemu.model import LinkDirection
from rtc_interact.linkemu.profiles import load_profiles
from rtc_interact.transport import train as tr
from rtc_interact.transport.queue_report import (
    ABS_SEND_TIME_PER_MS,
    ABS_SEND_TIME_SPAN,
    FeedbackFciError,
    QueueFciError,
)
from rtc_interact.transport.train import (
    TrainFciError,
    TrainMeter,
    TrainMeterConfig,
    TrainProbe,
    TrainReport,
    Verdict,
    pack_train_fci,
    unpack_train_fci,
)

MEDIA, PADDING = 1100, 255
"""A media packet's payload, and a train packet's padding (``aiortc_sender.PADDING_MAX``)."""


def _abs(send_ms: float) -> int:
    return round(send_ms * ABS_SEND_TIME_PER_MS) % ABS_SEND_TIME_SPAN


def _packets(start_ms: float, end_ms: float, media_kbps: float,
             train: tuple[float, float] | None) -> list[tuple[float, int, bool]]:
    """(send ms, size, padding-only) of media at ``media_kbps`` from ``start_ms`` to ``end_ms``,
    and a train (send ms, kbps) of ``train.TRAIN_S`` among them, in send order."""
    every = MEDIA * 8 / media_kbps
    packets = [(start_ms + k * every, MEDIA, False)
               for k in range(int((end_ms - start_ms) / every))]
    if train is not None:
        at, kbps = train
        gap = (PADDING + tr.PACKET_OVERHEAD) * 8 / kbps
        packets += [(at + k * gap, PADDING, True) for k in range(int(tr.TRAIN_S * 1000 / gap))]
    return sorted(packets)


def _through(link_kbps: float, packets: list[tuple[float, int, bool]], meter: TrainMeter,
             jitter: random.Random | None = None) -> list[TrainReport]:
    """Each packet through a FIFO bottleneck of ``link_kbps`` (80 ms on, optionally with some
    ms of jitter that keeps the order), seen by ``meter`` at its arrival."""
    free, last, reports = 0.0, 0.0, []
    for sent, size, padding in packets:
        free = max(free, sent) + (size + tr.PACKET_OVERHEAD) * 8 / link_kbps
        arrival = max(last, free + 80 + (jitter.uniform(0, 5) if jitter else 0.0))
        last = arrival
        report = meter.on_packet(5_000 + arrival, _abs(sent), size, padding)
        if report is not None:
            reports.append(report)
    return reports


def test_the_fci_carries_both_rates_and_nothing_else_parses_as_one() -> None:
    report = unpack_train_fci(pack_train_fci(TrainReport(912.4, 880.6)))
    assert report == TrainReport(912.0, 881.0)
    assert unpack_train_fci(pack_train_fci(TrainReport(1e9, -3))) == TrainReport(65535.0, 0.0)
    for fci in (pack_remb_fci(300_000, [1234]), b"RTCT", pack_train_fci(report) + b"\0",
                b"RTCQ\x00\x10\x00\x00", b"RTCT\x00\x00\x01\x00"):
        with pytest.raises(TrainFciError):
            unpack_train_fci(fci)
    assert issubclass(TrainFciError, FeedbackFciError) and issubclass(QueueFciError,
                                                                       FeedbackFciError)
    assert issubclass(FeedbackFciError, RtcInteractError) and issubclass(TrainFciError,
                                                                         ValueError)


@pytest.mark.parametrize("link_kbps", [2500, 1200, 600, 300])
def test_a_train_arrives_at_the_bottlenecks_rate(link_kbps: float) -> None:
    """A 100 ms train at 600 kbps beside 300 kbps of media (900 in all) through a bottleneck:
    sent at ~900 kbps, it arrives at the bottleneck's rate where that is lower, else as sent."""
    meter = TrainMeter()
    reports = _through(link_kbps, _packets(0, 3000, 300, (1500, 600)), meter,
                       random.Random(link_kbps))
    assert len(reports) == 1 and meter.reports == 1
    report = reports[0]
    assert 850 <= report.sent_kbps <= 1000
    assert report.arrived_kbps == pytest.approx(min(link_kbps, report.sent_kbps), rel=0.1)


def test_media_alone_and_short_runs_are_no_train() -> None:
    """Media at 2 Mbps (paced bursts), and padding-only packets sent one at a time (a probe's
    padding before the first media packet) or in a run of fewer than ``min_packets``."""
    meter = TrainMeter()
    padding = [(500 + 30 * k, PADDING, True) for k in range(20)]  # 30 ms apart: no run
    short = [(1500 + 2.5 * k, PADDING, True) for k in range(7)]
    packets = sorted(_packets(0, 3000, 2000, None) + padding + short)
    assert _through(2500, packets, meter) == [] and meter.reports == 0
    assert _through(2500, _packets(3000, 4000, 300, (3400, 600)), meter)  # a train still is
    off = TrainMeter(TrainMeterConfig(min_packets=0))
    assert _through(600, _packets(0, 3000, 300, (1500, 600)), off) == []


def test_retransmissions_inside_a_train_are_left_out() -> None:
    """A retransmission keeps its first send's abs-send-time: sent ``STALE_MS`` or more
    before the newest packet, it is not part of the train's span."""
    meter = TrainMeter()
    packets = _packets(0, 3000, 300, (1500, 600))
    late = [(1450.0 - 400, MEDIA, False)] * 3  # abs-send-time 400 ms old, arriving mid-train
    at = next(k for k, p in enumerate(packets) if p[2]) + 5
    reports = _through(2500, packets[:at] + late + packets[at:], meter)
    assert len(reports) == 1 and reports[0].arrived_kbps >= 0.9 * reports[0].sent_kbps


def test_bad_meter_settings() -> None:
    for bad in ({"min_packets": -1}, {"gap_ms": 0}):
        with pytest.raises(ConfigurationError):
            TrainMeterConfig(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("phase_s", "lowest", "highest"), [(70, 0.45, 1.0), (50, 0.0, 0.05)])
def test_two_trains_in_a_row_tell_congested_evenings_phases_apart(
        phase_s: float, lowest: float, highest: float) -> None:
    """The project's link model of congested-evening (its jitter included): two trains in a
    row that both arrive at ``TRAIN_MARGIN`` x the 530 kbps rung's target (609.5 kbps) or
    faster are common in the 2500 kbps phase and rare in the 600 kbps one
    (``benchmarks/RESULTS.md`` §44.5)."""
    profile, pairs, both = load_profiles()["congested-evening"], 0, 0
    for seed in range(10):
        link, meter = LinkDirection.from_profile(profile, "a_to_b", seed), TrainMeter()
        results = []
        for k in range(6):
            start = phase_s * 1000 + k * 1000
            for sent, size, padding in _packets(start, start + 1000, 400, (start + 500, 500)):
                arrival = link.submit(size + tr.PACKET_OVERHEAD, sent / 1000)
                if arrival is not None:
                    report = meter.on_packet(arrival * 1000, _abs(sent), size, padding)
                    if report is not None:
                        results.append(report.carries(tr.TRAIN_MARGIN * 609.5))
        pairs += len(results) // 2
        both += sum(a and b for a, b in zip(results[::2], results[1::2], strict=False))
    assert pairs >= 25
    assert lowest <= both / pairs <= highest


def test_the_probe_asks_for_two_trains_and_refutes_on_the_second_carried() -> None:
    probe = TrainProbe()
    rate = probe.due(10.0, 450, 609.5)
    assert rate == pytest.approx(1.5 * 609.5 - 450) and probe.trains == 1
    assert probe.due(10.25, 450, 609.5) == 0  # waiting for its report
    assert probe.awaiting(10.25) and not probe.awaiting(11.0)
    assert probe.heard(TrainReport(900, 740), 609.5) is Verdict.PENDING  # 1.2 x 609.5 = 731
    assert not probe.awaiting(10.3)
    assert probe.due(10.5, 450, 609.5) > 0  # the next at once
    assert probe.heard(TrainReport(800, 850), 609.5) is Verdict.REFUTED
    assert probe.due(11.0, 450, 609.5) == 0 and probe.due(13.0, 450, 609.5) == 0
    probe.reset()
    assert probe.due(20.0, 1200, 609.5) == pytest.approx(609.5 / 2)  # at least half the target


@pytest.mark.parametrize("report", [TrainReport(900, 600), TrainReport(900, 720)],
                         ids=["at-the-bottleneck", "under-the-margin"])
def test_a_train_not_carried_fails(report: TrainReport) -> None:
    probe = TrainProbe()
    probe.due(0.0, 450, 609.5)
    assert probe.heard(report, 609.5) is Verdict.FAILED
    assert probe.due(0.5, 450, 609.5) == 0 and probe.due(5.0, 450, 609.5) == 0
    assert probe.heard(TrainReport(900, 900), 609.5) is Verdict.PENDING  # (a late one)
    probe.reset()
    assert probe.due(10.0, 450, 609.5) > 0


def test_a_viewer_that_never_answers_gets_no_more_trains() -> None:
    """A browser viewer sends no reports: after ``UNANSWERED_MAX`` trains, none."""
    probe, now = TrainProbe(), 0.0
    for _ in range(tr.UNANSWERED_MAX):
        assert probe.due(now, 450, 609.5) > 0
        assert probe.due(now + tr.ANSWER_S, 450, 609.5) == 0  # given up on
        probe.reset()
        now += 10
    assert probe.due(now, 450, 609.5) == 0 and probe.trains == tr.UNANSWERED_MAX


def test_no_train_soon_after_the_viewer_reported_a_queue() -> None:
    """A path that queues what it is sent now carries no more (``train.QUEUED_S``)."""
    probe = TrainProbe()
    probe.queued(10.0)
    assert probe.due(10.0 + tr.QUEUED_S / 2, 450, 609.5) == 0 and probe.trains == 0
    assert probe.due(10.0 + tr.QUEUED_S, 450, 609.5) > 0 and probe.trains == 1


def test_no_train_too_short_for_the_viewer_to_measure() -> None:
    """mobile-3g-weak's climb from 80 to 190 kbps (target 218.5 kbps, ~190 sent): a train of
    ~140 kbps would be ~6 packets, under the viewer's 8."""
    probe = TrainProbe()
    assert probe.due(0.0, 190, 218.5) == 0 and probe.trains == 0
    assert probe.due(0.0, 450, 609.5) * tr.TRAIN_S * 125 >= tr.TRAIN_PACKETS * tr.PADDING_BYTES
