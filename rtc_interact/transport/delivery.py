"""What a viewer received, counted from its receiver reports (sans-IO; a per-viewer stat).

Each receiver report block carries the extended highest sequence number received and the packets
lost so far, and the host notes, for each media packet it sends, how many bytes it had sent in
all (media, retransmissions, copies and padding) once that packet left. Between two reports, the
bytes sent between their highest packets, less the share lost, arrived in the time between the
reports: no transport-wide feedback is needed. ``abr_task.LinkStats.received_kbps`` shows it.
It counts RTP as sent (before SRTP, UDP and IP headers): on congested-evening it read ~7% under
the link emulator's count of delivered bytes, and lags it by a report interval or two.

The reports' arrival times carry the reverse path's jitter, and libwebrtc sends a report with
every NACK and REMB (several a second, each over a few packets), so the rate is taken over the
reports of at least ``DELIVERY_SPAN_S``. As the estimator's cut after a queue (0.85 x this
instead of 0.85 x the rate sent, as GCC cuts to the acknowledged rate) it did not help: at a
capacity step down the queue filled before any report told (``benchmarks/RESULTS.md`` §23).
"""

from __future__ import annotations

from collections import deque

DELIVERY_SPAN_S = 1.0
"""The received rate covers the reports of at least this long (by arrival)."""
DELIVERY_STALE_S = 4.0
"""... and at most this long: older reports tell nothing of the path now."""
SENT_KEPT = 4096
"""Media packets whose running byte count is kept (16 s at 250 packets a second)."""
REPORTS_KEPT = 32
"""Receiver report blocks kept (libwebrtc sends up to ~10 a second when it NACKs)."""


def remember(log: dict[int, int], sequence: int, value: int) -> None:
    """Note ``value`` for the media packet ``sequence`` (16 bits) in a log of the newest
    ``SENT_KEPT`` packets (the oldest goes)."""
    log[sequence & 0xFFFF] = value
    if len(log) > SENT_KEPT:
        log.pop(next(iter(log)))


def counted(old: tuple[int, int], new: tuple[int, int]) -> tuple[int, int] | None:
    """Packets expected and lost between two report blocks' (extended highest sequence number,
    cumulative lost); None on a restart or a wild value, which tell nothing."""
    expected = new[0] - old[0]
    if not 0 < expected < 1 << 15:
        return None
    return expected, min(max(new[1] - old[1], 0), expected)


class DeliveryMeter:
    """The rate one viewer received, from our send log and its receiver reports."""

    def __init__(self) -> None:
        self._sent: dict[int, int] = {}
        """Sequence number (16 bits) -> bytes sent in all once that media packet left."""
        self._reports: deque[tuple[float, int, int, int]] = deque(maxlen=REPORTS_KEPT)
        """(arrival, extended highest sequence, cumulative lost, bytes sent up to it)."""

    def sent(self, sequence: int, total_bytes: int) -> None:
        """A media packet left, with ``total_bytes`` sent in all on the stream so far."""
        remember(self._sent, sequence, total_bytes)

    def report(self, now: float, highest: int, lost: int) -> None:
        """A receiver report block arrived at ``now``: ``highest`` extended sequence number
        received, ``lost`` packets lost so far. A packet we no longer know is skipped."""
        total = self._sent.get(highest & 0xFFFF)
        if total is not None:
            self._reports.append((now, highest, lost, total))

    def kbps(self) -> float | None:
        """What arrived between the newest report and the newest one at least
        ``DELIVERY_SPAN_S`` before it (within ``DELIVERY_STALE_S``), in kbps; None when no
        pair of reports tells (too few, too close, a restart, or the send log moved on)."""
        if not self._reports:
            return None
        now, highest, lost, total = self._reports[-1]
        for then, old_highest, old_lost, old_total in reversed(self._reports):
            span = now - then
            if span > DELIVERY_STALE_S:
                return None
            if span >= DELIVERY_SPAN_S:
                packets = counted((old_highest, old_lost), (highest, lost))
                if packets is None or total < old_total:
                    return None
                share = 1 - packets[1] / packets[0]
                return (total - old_total) * share * 8 / 1000 / span
        return None
