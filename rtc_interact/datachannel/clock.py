"""NTP-style clock sync over ping/pong, sans-IO.

A ping leaves at viewer time ``t0``; the host stamps ``hts`` when answering; the pong arrives at
``t1``. Assuming symmetric paths, the host's clock reads ``hts`` at viewer time ``(t0 + t1) / 2``,
so ``offset = hts - (t0 + t1) / 2`` and the error is at most half the round trip. Of the recent
samples the one with the smallest round trip is trusted (queueing only ever adds delay).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


def wall_ms() -> int:
    """This machine's wall clock in Unix milliseconds (the protocol's ``hts`` on the host)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """How the host's clock relates to ours."""

    offset_ms: float
    """Add to a viewer wall-clock time (Unix ms) to get host time."""
    rtt_ms: float
    """Round trip of the sample the offset comes from."""
    error_ms: float
    """Bound on the offset's error (half that round trip)."""
    samples: int
    """Samples considered."""


class ClockSync:
    """Keeps the last ``window`` ping samples."""

    def __init__(self, window: int = 16) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=window)

    def add(self, sent_ms: float, received_ms: float, host_ms: float) -> None:
        """One ping: our send and receive times and the host's timestamp, all in ms."""
        rtt = received_ms - sent_ms
        if rtt >= 0:
            self._samples.append((rtt, host_ms - (sent_ms + received_ms) / 2))

    def estimate(self) -> ClockEstimate | None:
        """The best current estimate, None before the first sample."""
        if not self._samples:
            return None
        rtt, offset = min(self._samples)
        return ClockEstimate(offset, rtt, rtt / 2, len(self._samples))
