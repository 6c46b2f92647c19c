"""Whether a viewer's path is long (sans-IO): so long that a retransmission cannot land within
the receiver's playout delay, and only a redundant copy covers a loss
(``AbrConfig.copy_long_rtt_ms``, ``AbrConfig.copy_first_long``; the controller is
``transport.abr``).

A path is long while the smallest round trip seen, of the receiver reports and of the ICE checks
(made before any media, so with no queue of ours in them), is at least ``copy_long_rtt_ms``.
Once long, it stays long until that smallest, the ICE pings' included, is ``LONG_EXIT_MS``
under the threshold. Before the first report, only ICE checks of ``START_LONG_FACTOR`` times
the threshold make a path long.
"""

from __future__ import annotations

from .pings import Floor

__all__ = ["LONG_EXIT_MS", "START_LONG_FACTOR", "PathLength"]

LONG_EXIT_MS = 12.0
"""A path once taken for long (``AbrConfig.copy_long_rtt_ms``) stays long until its smallest
round trip, the ICE pings' included, is this much under that. The smallest only falls: on
mobile-3g-weak (180 ms and 20 ms of jitter each way) the ICE checks' fell under 190 ms 1-66 s
into 9 of 29 runs; the copies then shrank to what the room left beside the rung, and 7 of those
9 runs froze 2.7-9.3 times a minute, against at most 2.0 in the other 20. Its pings' smallest
stayed at 183 ms or more in every run, while congested-evening's (170 ms, 15 ms each way) fell
under 178 ms within 40 s, most within 10 (``benchmarks/RESULTS.md`` §46)."""
START_LONG_FACTOR = 1.2
"""Before any report, a path is taken as long when its ICE checks took this many times
``AbrConfig.copy_long_rtt_ms``: a check or two carry the path's jitter, which only adds (on
cn-eu, 220 ms with 8 ms of jitter each way, about one check in ten took over 250 ms when that
was the threshold), and no report is there yet to correct them."""


class PathLength:
    """A path's length from its round trips (see the module docstring)."""

    __slots__ = ("_ice_ms", "_long_seen", "_pings", "_reports", "_threshold_ms")

    def __init__(self, threshold_ms: float, reports: Floor, pings: Floor) -> None:
        self._threshold_ms = threshold_ms
        self._reports, self._pings = reports, pings
        """The smallest round trips of the receiver reports and of the ICE pings (kept by
        their owners, read here)."""
        self._ice_ms = float("inf")
        self._long_seen = False
        """Whether the path has been taken for long."""

    @property
    def ice_ms(self) -> float:
        """The smallest ICE check round trip (infinite before the first)."""
        return self._ice_ms

    def note(self, ice_rtt_ms: float | None) -> None:
        """Note an ICE check's round trip (None: none yet), and whether the path is long now."""
        if ice_rtt_ms is not None:
            self._ice_ms = min(self._ice_ms, ice_rtt_ms)
        self._long_seen = self._long_seen or self.long

    @property
    def long(self) -> bool:
        """Whether the path is long now."""
        smallest = min(self._reports.smallest, self._ice_ms)
        if not self._long_seen:
            return self._threshold_ms <= smallest < float("inf")
        smallest = min(smallest, self._pings.smallest)
        return self._threshold_ms - LONG_EXIT_MS <= smallest < float("inf")

    @property
    def long_at_start(self) -> bool:
        """Whether the ICE checks alone, before any report, show the path long."""
        return START_LONG_FACTOR * self._threshold_ms <= self._ice_ms < float("inf")
