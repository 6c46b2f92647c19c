"""The viewer's own sign of a queue on the path from the host, sent back at once (sans-IO).

The host learns of a queue from its ICE pings (``transport.pings``): one every ``interval_s``,
answered a round trip and the queue later, read at the controller's next run. At a capacity
step (congested-evening's 1200 to 600 kbps) the bottleneck's queue grew to 300-500 ms within
that time (``benchmarks/RESULTS.md`` §37.1, §38). Every media packet the viewer receives tells
it the same thing sooner: its one-way delay, its arrival less its ``abs-send-time`` (the header
extension aiortc's sender writes on every packet), grows with the queue at once.

:class:`QueueWatch` keeps the smallest one-way delay seen (the path's own; any clock offset
between the peers cancels) and the smallest of the packets that arrived in the last
``window_ms`` (retransmissions left out: ``STALE_MS``): jitter lifts some packets, a queue
lifts them all. When that is up by ``report_ms`` or more, the viewer sends the excess in an
RTCP application-layer feedback message (RFC 4585 §6.4, payload-specific type 15, like REMB),
at most every ``gap_ms``: its FCI is ``b"RTCQ"`` and the queue in ms (:func:`pack_queue_fci`).
From ``AbrConfig.queue_probe_ms`` the host's controller ends a probe at once, and from
``queue_down_ms`` (in two reports) it switches the viewer down at once
(``abr.AbrController.on_queue``). Stock aiortc and browsers ignore the message (aiortc reads a
type-15 FCI only as REMB); a browser viewer sends none, and its host goes by the pings alone.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from ..errors import ConfigurationError, TransportError
from .pings import Floor

QUEUE_FCI_ID = b"RTCQ"
"""The first four bytes of the feedback's FCI (REMB's are ``b"REMB"``)."""
ABS_SEND_TIME_SPAN = 1 << 24
"""abs-send-time is 6.18 fixed-point seconds: it wraps every 64 s."""
ABS_SEND_TIME_PER_MS = (1 << 18) / 1000
STALE_MS = 50.0
"""A packet sent this long or more before the newest one seen says nothing of the queue now,
and is left out: a retransmission keeps its first send's abs-send-time (aiortc's
``_retransmit`` resends the stored packet), so it arrives a round trip and more "late". When
only retransmissions came in a window, after a loss burst, the viewer reported 382 and 429 ms
on cn-brazil (the first where the path's queue was never over 104 ms that second:
``benchmarks/RESULTS.md`` §40)."""
MAX_REPORT_MS = 0xFFFF


class FeedbackFciError(TransportError, ValueError):
    """An FCI of ours that did not parse: another application's, or malformed."""


class QueueFciError(FeedbackFciError):
    """An FCI that is not a queue report (another application's, or malformed)."""


def pack_queue_fci(queue_ms: float) -> bytes:
    """The FCI of a queue report of ``queue_ms`` (rounded, capped at ``MAX_REPORT_MS``)."""
    return QUEUE_FCI_ID + struct.pack("!HH", min(MAX_REPORT_MS, max(0, round(queue_ms))), 0)


def unpack_queue_fci(fci: bytes) -> int:
    """The queue (ms) a report's FCI says; :class:`QueueFciError` if it is not one."""
    if len(fci) != 8 or fci[:4] != QUEUE_FCI_ID:
        raise QueueFciError("not a queue report")
    return int(struct.unpack_from("!H", fci, 4)[0])


@dataclass(frozen=True, slots=True)
class QueueWatchConfig:
    """When the viewer reports its queue (see the module docstring)."""

    report_ms: float = 60.0
    """Report a queue this long or longer (0: never)."""
    window_ms: float = 80.0
    """The queue is the lowest one-way delay of the packets that arrived this long back."""
    min_packets: int = 3
    """...of at least this many packets (fewer say too little against the path's jitter)."""
    gap_ms: float = 50.0
    """Reports are at least this far apart."""

    def __post_init__(self) -> None:
        if self.report_ms < 0 or self.window_ms <= 0 or self.min_packets < 1 \
                or self.gap_ms < 0:
            raise ConfigurationError(
                "report_ms and gap_ms must be >= 0, window_ms > 0, min_packets >= 1")


class QueueWatch:
    """One media stream's one-way delay against its smallest, and when to report it."""

    __slots__ = ("_arrivals", "_clock", "_config", "_floor", "_last_report", "_lows", "reports")

    def __init__(self, config: QueueWatchConfig | None = None) -> None:
        self._config = config or QueueWatchConfig()
        self._floor = Floor()
        self._clock = SendClock()
        self._arrivals: deque[float] = deque()
        """Arrivals within the window, oldest first."""
        self._lows: deque[tuple[float, float]] = deque()
        """(arrival, one-way delay) of the window's packets that no later one undercuts: the
        first is the window's lowest."""
        self._last_report = float("-inf")
        self.reports = 0
        """Reports asked for."""

    def on_packet(self, arrival_ms: float, abs_send_time: int) -> int | None:
        """A media packet arrived at ``arrival_ms`` carrying ``abs_send_time`` (24 bits); the
        queue to report now (ms), or None. A packet sent ``STALE_MS`` before the newest one
        seen (a retransmission) is left out."""
        sent, newest = self._clock.ms(abs_send_time)
        if newest - sent >= STALE_MS:
            return None
        delay = arrival_ms - sent
        self._floor.excess(delay)
        cfg, arrivals, lows = self._config, self._arrivals, self._lows
        arrivals.append(arrival_ms)
        while lows and lows[-1][1] >= delay:
            lows.pop()
        lows.append((arrival_ms, delay))
        start = arrival_ms - cfg.window_ms
        while arrivals[0] < start:
            arrivals.popleft()
        while lows[0][0] < start:
            lows.popleft()
        if not cfg.report_ms or len(arrivals) < cfg.min_packets \
                or arrival_ms - self._last_report < cfg.gap_ms:
            return None
        queue = lows[0][1] - self._floor.smallest
        if queue < cfg.report_ms:
            return None
        self._last_report, self.reports = arrival_ms, self.reports + 1
        return round(queue)


class SendClock:
    """Send times (ms) from one stream's 24-bit ``abs-send-time``, unwrapped from the newest
    packet's: a packet sent up to 32 s either side of it is placed right."""

    __slots__ = ("_newest",)

    def __init__(self) -> None:
        self._newest: tuple[int, int] | None = None
        """The newest packet's abs-send-time, and its send time unwrapped (in its units)."""

    def ms(self, abs_send_time: int) -> tuple[float, float]:
        """The packet's send time (ms), and the newest packet's, this one included."""
        if self._newest is None:
            self._newest = (abs_send_time, abs_send_time)
        raw, ticks = self._newest
        half = ABS_SEND_TIME_SPAN // 2
        sent = ticks + (abs_send_time - raw + half) % ABS_SEND_TIME_SPAN - half
        if sent > ticks:
            self._newest, ticks = (abs_send_time, sent), sent
        return sent / ABS_SEND_TIME_PER_MS, ticks / ABS_SEND_TIME_PER_MS
