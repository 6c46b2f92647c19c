"""The viewer's queue reports (sans-IO): when a queue is reported, and the feedback's FCI; and
how its queue and train reports reach the host through aiortc."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import random
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, pack_remb_fci

from rtc_interact.errors import ConfigurationError
from rtc_interact.transport import aiortc_receiver as rx
from rtc_interact.transport import queue_report as qr
from rtc_interact.transport.abr_task import FeedbackLog
from rtc_interact.transport.aiortc_sender import observe_rtcp
from rtc_interact.transport.peer import new_peer_connection
from rtc_interact.transport.queue_report import (
    ABS_SEND_TIME_PER_MS,
    ABS_SEND_TIME_SPAN,
    QueueFciError,
    QueueWatch,
    QueueWatchConfig,
    pack_queue_fci,
    unpack_queue_fci,
)
from rtc_interact.transport.train import TrainReport

OFFSET_MS = 12_345.0
"""The viewer's clock is not the host's: only differences of one-way delay count."""


def _abs(send_ms: float) -> int:
    return round(send_ms * ABS_SEND_TIME_PER_MS) % ABS_SEND_TIME_SPAN


def _run(watch: QueueWatch, delays: list[float], start_ms: float = 0.0,
         every_ms: float = 10.0) -> list[tuple[float, float, int]]:
    """Packets sent every ``every_ms`` from ``start_ms``, each taking its one-way delay from
    ``delays`` (ms over the path's 85), seen in the order they arrive; the reports, each with
    the arrival and the send time of the packet that gave it."""
    packets = sorted((start_ms + k * every_ms + 85 + delay, start_ms + k * every_ms)
                     for k, delay in enumerate(delays))
    reports = []
    for arrival, sent in packets:
        queue = watch.on_packet(OFFSET_MS + arrival, _abs(sent))
        if queue is not None:
            reports.append((arrival, sent, queue))
    return reports


def test_the_fci_carries_the_queue_and_nothing_else_parses_as_one() -> None:
    assert unpack_queue_fci(pack_queue_fci(123.4)) == 123
    assert unpack_queue_fci(pack_queue_fci(1e9)) == 0xFFFF
    assert unpack_queue_fci(pack_queue_fci(-5)) == 0
    for fci in (pack_remb_fci(300_000, [1234]), b"RTCQ", pack_queue_fci(10) + b"\0\0\0\0"):
        with pytest.raises(QueueFciError):
            unpack_queue_fci(fci)
    assert issubclass(QueueFciError, ValueError)


@pytest.mark.parametrize("stale_ms", [qr.STALE_MS, float("inf")], ids=["left-out", "taken"])
def test_retransmissions_alone_in_a_window_report_no_queue(
        stale_ms: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """cn-brazil (320 ms): a loss burst, then only its retransmissions for a window. Each
    keeps its first send's abs-send-time, so it arrives ~400 ms "late"; counted, they were
    reported as a queue of 382-429 ms where the path had none."""
    monkeypatch.setattr(qr, "STALE_MS", stale_ms)
    watch = QueueWatch()
    reports = _run(watch, [0.0] * 100)  # 1 s, no queue
    for k in range(5):  # packets sent 600-640 ms resent 400 ms later, 20 ms apart
        queue = watch.on_packet(OFFSET_MS + 1_000 + 160 + 20 * k, _abs(600 + 10 * k))
        if queue is not None:
            reports.append((0.0, 0.0, queue))
    if stale_ms == float("inf"):
        assert reports and reports[0][2] > 300
    else:
        assert reports == []
        assert _run(watch, [0.0] * 10, start_ms=1_100) == []  # the stream goes on as before


def test_jitter_alone_is_no_queue_but_a_queue_is_reported_as_it_grows() -> None:
    """15 ms of exponential jitter (congested-evening's) lifts single packets by up to ~100 ms:
    no report. Then a queue grows by 0.8 ms a ms sent (1100 kbps into 600): reported from
    60 ms, within about a window of reaching it, and its size is right within the jitter."""
    rng = random.Random(7)
    watch = QueueWatch()
    jitter = [rng.expovariate(1 / 15) for _ in range(3000)]  # 30 s, a packet every 10 ms
    assert max(jitter) > 80
    assert _run(watch, jitter) == []
    growing = [0.8 * 10 * k + rng.expovariate(1 / 15) for k in range(60)]
    reports = _run(watch, growing, start_ms=30_000)
    assert reports and watch.reports == len(reports)
    _, first_sent, first = reports[0]
    reached = 30_000 + 60 / 0.8  # when the queue reached 60 ms
    assert reached <= first_sent <= reached + 120
    assert 60 <= first <= 110
    for _, sent, queue in reports:
        assert abs(queue - 0.8 * (sent - 30_000)) < 50  # the window's lowest lags a little
    arrivals = [arrival for arrival, _, _ in reports]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 50 and min(gaps) < 60


def test_too_few_packets_in_the_window_say_nothing() -> None:
    """A packet every 100 ms: never 3 in an 80 ms window, however late they come."""
    watch = QueueWatch()
    assert _run(watch, [0.0] * 10 + [200.0] * 20, every_ms=100) == []
    sparse = QueueWatch(QueueWatchConfig(min_packets=1))
    assert _run(sparse, [0.0] * 10 + [200.0] * 20, every_ms=100)


def test_send_times_unwrap_across_abs_send_times_64_s_wrap() -> None:
    """A steady path over 70 s (abs-send-time wraps at 64 s), with packets a little out of
    order: no report; then a queue is still seen."""
    watch = QueueWatch()
    start = 60_000.0
    delays = [(k % 3) * 2.0 for k in range(1000)]
    assert _run(watch, delays, start_ms=start) == []  # 60 to 70 s
    assert _run(watch, [100.0] * 20, start_ms=start + 10_000)


def test_reports_off_and_bad_settings() -> None:
    watch = QueueWatch(QueueWatchConfig(report_ms=0))
    assert _run(watch, [0.0] * 10 + [300.0] * 50) == []
    for bad in ({"report_ms": -1}, {"window_ms": 0}, {"min_packets": 0}, {"gap_ms": -1}):
        with pytest.raises(ConfigurationError):
            QueueWatchConfig(**bad)


@contextlib.asynccontextmanager
async def _viewer_and_host() -> AsyncIterator[tuple[RTCRtpReceiver, RTCRtpSender, list[float],
                                                    list[bytes]]]:
    """A viewer's upgraded receiver (its clock reads ``now[0]``, the RTCP it sends goes into
    ``sent``) and a host's sender whose RTCP goes to a feedback log (``_host_log``)."""
    viewer, host, now, sent = new_peer_connection(), new_peer_connection(), [0.0], []
    try:
        rx.install_robust_receiving(viewer, clock=lambda: now[0])
        receiver = viewer.addTransceiver("video", direction="recvonly").receiver
        receiver._set_rtcp_ssrc(1111)

        async def record(data: bytes) -> None:
            sent.append(data)

        receiver.transport._send_rtp = record
        yield receiver, host.addTransceiver("video", direction="sendonly").sender, now, sent
    finally:
        await viewer.close()
        await host.close()


def _media(receiver: RTCRtpReceiver, sender: RTCRtpSender, seq: int, send_ms: float) -> None:
    """A VP8 keyframe packet of the host's stream, sent at ``send_ms``, into the viewer's
    jitter buffer (as aiortc hands it over, depayloaded)."""
    packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=seq * 900,
                       payload=b"\x90\xe0\x80\x01\x00\x00\x9d\x01\x2a", ssrc=sender._ssrc)
    packet.extensions.abs_send_time = _abs(send_ms)
    packet._data = packet.payload  # type: ignore[attr-defined]
    getattr(receiver, rx.JITTER_BUFFER).add(packet)


def _host_log(sender: RTCRtpSender) -> FeedbackLog:
    """The host's feedback log for ``sender``, which aiortc's router reaches by its SSRC."""
    log = FeedbackLog()
    observe_rtcp(sender, log)
    sender.transport._rtp_router.register_sender(sender, sender._ssrc)
    return log


async def test_a_viewers_report_reaches_the_hosts_feedback_log_through_aiortcs_rtcp() -> None:
    """The viewer's receiver sends a report once its packets' one-way delay is up by 100 ms;
    the bytes it gives its transport, handed to the host's DTLS transport, are parsed and
    routed by aiortc to the sender of the SSRC named, where ``observe_rtcp`` passes the queue
    to the feedback log (and so to the ABR task). A REMB still reaches it as before, and a
    queue report cut short is counted, not raised."""
    async with _viewer_and_host() as (receiver, sender, now, sent):
        for seq in range(40):  # a packet every 10 ms, the last 20 queued 100 ms more
            now[0] = seq * 10.0 + (100.0 if seq >= 20 else 0.0)
            _media(receiver, sender, seq, seq * 10.0)
        await asyncio.sleep(0)
        assert sent and viewer_stats(receiver) == len(sent)

        log = _host_log(sender)
        queues: list[int] = []
        log.on_queue_report = queues.append
        dtls = sender.transport
        for data in sent:
            await dtls._handle_rtcp_data(data)
        assert queues and all(95 <= q <= 105 for q in queues) and log.queue_reports == len(sent)
        remb = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1111, media_ssrc=0,
                              fci=pack_remb_fci(250_000, [sender._ssrc]))
        short = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1111, media_ssrc=sender._ssrc,
                               fci=b"RTCQ")
        await dtls._handle_rtcp_data(bytes(remb) + bytes(short))
        assert log.remb_bps == 250_000 and log.malformed == 1 and len(queues) == len(sent)


def viewer_stats(receiver: RTCRtpReceiver) -> int:
    """The reports the receiver's queue watch asked for."""
    reports: int = getattr(receiver, rx.JITTER_BUFFER).queue_watch.reports
    return reports


def test_the_dtls_transport_hands_every_routed_rtp_packet_to_handle_rtp_packet() -> None:
    """Canary: the train meter sees RTX padding through the receiver's wrapped
    ``_handle_rtp_packet`` (aiortc drops it before the jitter buffer), called by keyword."""
    source = inspect.getsource(RTCDtlsTransport._handle_rtp_data)
    assert "await receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms)" in source


async def test_a_viewers_train_report_reaches_the_hosts_feedback_log() -> None:
    """A train of padding-only RTX packets passes the viewer receiver's ``_handle_rtp_packet``
    (aiortc then drops them), beside media; the first packet sent after it closes it, and the
    report the receiver sends reaches the host's feedback log; a report cut short, or with no
    rate sent, is counted as malformed."""
    async with _viewer_and_host() as (receiver, sender, now, sent):
        _media(receiver, sender, 1, 0.0)  # the media SSRC the report names
        for k in range(21):  # 20 packets 2.5 ms apart through a 400 kbps bottleneck, then one
            packet = RtpPacket(payload_type=97, sequence_number=k, ssrc=sender._rtx_ssrc)
            packet.padding_size = 255 if k < 20 else 1
            packet.payload = b"" if k < 20 else b"\x00\x01media"
            packet.extensions.abs_send_time = _abs(100.0 + 2.5 * k + (30 if k == 20 else 0))
            now[0] = 200.0 + k * (255 + 62) * 8 / 400
            await receiver._handle_rtp_packet(packet, arrival_time_ms=int(now[0]))
        await asyncio.sleep(0)
        assert len(sent) == 1 and rx_trains(receiver) == 1

        log = _host_log(sender)
        trains: list[TrainReport] = []
        log.on_train_report = trains.append
        dtls = sender.transport
        await dtls._handle_rtcp_data(sent[0])
        assert len(trains) == 1 and log.train_reports == 1
        assert trains[0].sent_kbps == pytest.approx(317 * 8 / 2.5, rel=0.05)  # ~1000 kbps
        assert trains[0].arrived_kbps == pytest.approx(400, rel=0.05)
        for fci in (b"RTCT", b"RTCT\x00\x00\x01\x00"):
            bad = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1111, media_ssrc=sender._ssrc, fci=fci)
            await dtls._handle_rtcp_data(bytes(bad))
        assert log.malformed == 2 and len(trains) == 1


def rx_trains(receiver: RTCRtpReceiver) -> int:
    """The trains the receiver's meter measured."""
    reports: int = getattr(receiver, rx.JITTER_BUFFER).train_meter.reports
    return reports
