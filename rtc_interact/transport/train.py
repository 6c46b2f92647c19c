"""Packet trains: whether the path carries the next rung, learnt in a fraction of a second
(sans-IO, both ends).

A probe above the knee (``transport.abr``: the rate at which the path last showed a queue)
ramps slowly, to keep a thin link's queue short, and on congested-evening's step from 600 to
2500 kbps that ramp and the up-switch's hold took ~7 s from the first padding
(``benchmarks/RESULTS.md`` §44.3). A train learns the same sooner: the host sends a short burst
at a set rate, and the path's bottleneck spreads its packets to its own rate. If they arrive as
fast as they left, the path carries that rate; in the link model a 100 ms train told the
2500 kbps phase from the 600 kbps one in 72% against 3% of single trains (§44.5).

* **Host** (:class:`TrainProbe`): while a probe runs above the knee, the controller asks for a
  train (``Decision.train_kbps``): padding-only RTX packets for ``TRAIN_S`` (the ABR task sends
  them unpaced, each stamped with a fresh ``abs-send-time``), at a rate that brings what is sent
  to ``TRAIN_FACTOR`` times the next rung's target. Each report of a train that arrived at
  ``TRAIN_MARGIN`` times that target or faster (the path carried it) asks for the next, up to
  ``TRAINS_NEEDED``: then the knee is refuted and the viewer switches up at once. A train
  that arrived slower ends the probe, as
  does a sign of a queue while its report is awaited (most likely the train's own), and the next
  probe comes ``TRAIN_BACKOFF_S`` later, not after the probe's back-off. A train not answered
  within ``ANSWER_S`` (a browser viewer sends no reports) leaves the probe to its ramp. No
  train leaves while the pings show a queue, or within ``QUEUED_S`` of the viewer's report of
  one.
* **Viewer** (:class:`TrainMeter`): every RTP packet of the video, media and RTX, passes with
  its arrival, ``abs-send-time`` and size. A run of padding-only packets, each sent within
  ``gap_ms`` of the one before, is a train; once a packet sent later closes it, the bytes of
  every packet sent within the run's span (the media between them too: the bottleneck served
  them all) over the send span and over the arrival span are the rates it was sent at and
  arrived at. The viewer sends them back in an RTCP application-layer feedback message (as the
  queue report, ``transport.queue_report``): FCI ``b"RTCT"``, then the two rates in kbps.
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from dataclasses import dataclass

from ..errors import ConfigurationError
from .queue_report import STALE_MS, FeedbackFciError, SendClock

TRAIN_FCI_ID = b"RTCT"
"""The first four bytes of a train report's FCI."""
TRAIN_S = 0.1
"""How long a train lasts: long enough that the emulator's jitter (held ~50 ms) and the
event loop's timing blur its spread little, short enough that on a path that cannot carry it
the queue it adds is ~50 ms (§44.5)."""
TRAIN_FACTOR = 1.5
"""A train brings what is sent to this many times the next rung's target."""
TRAIN_MARGIN = 1.2
"""A train that arrived at this many times the next rung's target or faster was carried: sent
above the bottleneck's rate, a train arrives at that rate. Up to §45's T3 a train had to arrive
at 0.9 of the rate it was sent at: 20 of 25 trains after congested-evening's step up did, and
23 arrived at 1.2 x the 530 kbps rung's target (731 kbps) or faster; in the 600 kbps phase
none of 28 did the former, and one (906 kbps) the latter. Over T2, T3 and T4: 36 of 40 after
the step up, 4 of 47 before it (§45.4)."""
TRAINS_NEEDED = 2
"""Carried trains in a row that refute the knee: in congested-evening's 600 kbps phase 4 of 47
single trains were carried (§45.4), and in the link model no two in a row of 29 pairs
(``tests/transport/test_train.py``)."""
TRAIN_BACKOFF_S = 2.0
"""The wait for the next probe after one that a train ended: on a path that does not carry it, a
train queues ~50 ms where a probe's ramp queues 100 ms or more before it ends, so it is tried
again soon (the probe's back-off, 4-8 s, had held the climb after congested-evening's step up:
§45)."""
QUEUED_S = 1.0
"""No train this long after the viewer reported a queue (``transport.queue_report``), nor while
the pings show one (the controller's call): a path that queues what it is sent does not carry
more, and a train on top of its queue deepens it (in congested-evening's 600 kbps phase, one
on a standing queue of 60-80 ms took it to 215 ms; the estimate fell, and the knee it left,
under the next rung's reach, held the climb after the step up: §45)."""
ANSWER_S = 1.0
"""A train's report that has not come this long after it will not come."""
UNANSWERED_MAX = 2
"""A viewer that has never answered this many trains sends no reports: no more trains."""
TRAIN_PACKETS = 10
"""No train of fewer packets (of ``PADDING_BYTES`` each) is sent: the viewer takes a run of 8
or more for a train (``TrainMeterConfig.min_packets``), and a lossy path drops some. On
mobile-3g-weak a train for the climb from 80 to 190 kbps came to ~6 packets: never measured,
never answered (§45)."""
PADDING_BYTES = 255 + 24
"""A train packet's size as sent: 255 bytes of padding, the RTP header and its extensions."""
PACKET_OVERHEAD = 62
"""Bytes a packet takes on the wire beyond its payload and padding, as the viewer counts it:
the RTP header with its extensions (~24), SRTP's tag (10), UDP and IPv4 (28)."""
HISTORY_MS = 1000.0
"""Packets the meter keeps, by send time before the newest."""


class Verdict(enum.Enum):
    """What a train's report says of the running probe (:meth:`TrainProbe.heard`)."""

    PENDING = "pending"
    """Nothing yet: not a report the probe awaits, or the next train is due."""
    REFUTED = "refuted"
    """The ``TRAINS_NEEDED``-th train in a row was carried: the knee is refuted."""
    FAILED = "failed"
    """The train was not carried: the probe ends (``TRAIN_BACKOFF_S``)."""


class TrainFciError(FeedbackFciError):
    """An FCI that is not a train report (another application's, or malformed)."""


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What the viewer measured of one train."""

    sent_kbps: float
    """Bytes sent within the train's span over its send span."""
    arrived_kbps: float
    """The same bytes over their arrival span."""

    def carries(self, kbps: float) -> bool:
        """Whether the train arrived at ``kbps`` or faster (the bottleneck ran that fast)."""
        return self.arrived_kbps >= kbps


def pack_train_fci(report: TrainReport) -> bytes:
    """The FCI of a train report (rates rounded to kbps, capped at 65535)."""
    return TRAIN_FCI_ID + struct.pack("!HH", *(min(0xFFFF, max(0, round(kbps))) for kbps in (
        report.sent_kbps, report.arrived_kbps)))


def unpack_train_fci(fci: bytes) -> TrainReport:
    """The report a train report's FCI says; :class:`TrainFciError` if it is not one."""
    if len(fci) != 8 or fci[:4] != TRAIN_FCI_ID:
        raise TrainFciError("not a train report")
    sent, arrived = struct.unpack_from("!HH", fci, 4)
    if not sent:
        raise TrainFciError("a train report with no rate sent")
    return TrainReport(float(sent), float(arrived))


@dataclass(frozen=True, slots=True)
class TrainMeterConfig:
    """What the viewer takes for a train (see the module docstring)."""

    min_packets: int = 8
    """A run of fewer padding-only packets is no train (0: trains are not measured)."""
    gap_ms: float = 20.0
    """Padding-only packets sent this far apart or more belong to different runs."""

    def __post_init__(self) -> None:
        if self.min_packets < 0 or self.gap_ms <= 0:
            raise ConfigurationError("TrainMeterConfig: min_packets >= 0, gap_ms > 0")


@dataclass(slots=True)
class _Run:
    first_ms: float
    last_ms: float
    packets: int = 1


class TrainMeter:
    """The viewer's measure of the host's packet trains (see the module docstring)."""

    __slots__ = ("_clock", "_config", "_packets", "_run", "reports")

    def __init__(self, config: TrainMeterConfig | None = None) -> None:
        self._config = config or TrainMeterConfig()
        self._clock = SendClock()
        self._packets: deque[tuple[float, float, int]] = deque()
        """(send ms, arrival ms, bytes) of the packets sent lately, in arrival order."""
        self._run: _Run | None = None
        self.reports = 0
        """Trains measured."""

    def on_packet(self, arrival_ms: float, abs_send_time: int, size: int,
                  padding_only: bool) -> TrainReport | None:
        """A packet of the video arrived (``size``: its payload and padding); the report of the
        train it closes, or None. Retransmissions (sent ``STALE_MS`` before the newest) are
        left out, as the queue watch leaves them out."""
        if not self._config.min_packets:
            return None
        sent, newest = self._clock.ms(abs_send_time)
        if newest - sent >= STALE_MS:
            return None
        packets, run, report = self._packets, self._run, None
        packets.append((sent, arrival_ms, size + PACKET_OVERHEAD))
        while packets[0][0] < newest - HISTORY_MS:
            packets.popleft()
        if run is not None and sent - run.last_ms >= self._config.gap_ms:
            self._run, report = None, self._measure(run)
        if padding_only:
            if self._run is None:
                self._run = _Run(sent, sent)
            else:
                self._run.last_ms, self._run.packets = sent, self._run.packets + 1
        return report

    def _measure(self, run: _Run) -> TrainReport | None:
        """The rates of the packets sent within ``run``'s span, if it is a train."""
        if run.packets < self._config.min_packets or run.last_ms <= run.first_ms:
            return None
        within = [p for p in self._packets if run.first_ms <= p[0] <= run.last_ms]
        arrivals = [arrival for _, arrival, _ in within]
        span_ms = max(arrivals) - min(arrivals)
        if span_ms <= 0:
            return None
        size = sum(p[2] for p in within) - within[-1][2]  # (the span ends as the last begins)
        self.reports += 1
        return TrainReport(size * 8 / (run.last_ms - run.first_ms), size * 8 / span_ms)


class TrainProbe:
    """The host's side: when a probe asks for a train, and what the viewer's reports of trains
    say (see the module docstring). One per viewer; :meth:`reset` at each probe's end."""

    __slots__ = ("_answered", "_asked_at", "_carried", "_done", "_queued_at", "_sent",
                 "_unanswered", "trains")

    def __init__(self) -> None:
        self._sent = self._carried = 0
        self._asked_at: float | None = None
        self._done = False
        self._answered = False
        """Whether the viewer has ever answered a train."""
        self._unanswered = 0
        self._queued_at = float("-inf")
        self.trains = 0
        """Trains asked for since the start."""

    def reset(self) -> None:
        """A probe ended: the next one starts its trains afresh."""
        self._sent = self._carried = 0
        self._asked_at, self._done = None, False

    def queued(self, now: float) -> None:
        """The viewer reported a queue: no train for ``QUEUED_S``."""
        self._queued_at = now

    def due(self, now: float, sending_kbps: float, target_kbps: float) -> float:
        """The rate of the train to send now beside ``sending_kbps`` (0: none), for a probe
        towards ``target_kbps``."""
        if self._done or (self._unanswered >= UNANSWERED_MAX and not self._answered) \
                or now - self._queued_at < QUEUED_S:
            return 0.0
        if self._asked_at is not None:
            if now - self._asked_at < ANSWER_S:
                return 0.0  # waiting for its report
            self._unanswered += 1
            self._done = True
            return 0.0
        rate = max(TRAIN_FACTOR * target_kbps - sending_kbps, target_kbps / 2)
        if self._sent >= TRAINS_NEEDED or rate * TRAIN_S * 125 < TRAIN_PACKETS * PADDING_BYTES:
            return 0.0
        self._sent += 1
        self._asked_at = now
        self.trains += 1
        return rate

    def awaiting(self, now: float) -> bool:
        """Whether a train's report is awaited (its queue may be on the path)."""
        return self._asked_at is not None and now - self._asked_at < ANSWER_S

    def heard(self, report: TrainReport, target_kbps: float) -> Verdict:
        """A train's report, for a probe towards ``target_kbps`` (see :class:`Verdict`)."""
        if self._asked_at is None:
            return Verdict.PENDING  # not ours (a padding run at the start), or after the probe
        self._asked_at, self._answered = None, True
        if not report.carries(TRAIN_MARGIN * target_kbps):
            self._done = True
            return Verdict.FAILED
        self._carried += 1
        if self._carried < TRAINS_NEEDED:
            return Verdict.PENDING
        self._done = True
        return Verdict.REFUTED
