"""What the ICE pings say about a viewer's queue, as the ABR controller and the estimator read
them (sans-IO), each with its own :class:`PingWatch`.

Each feedback sample carries the lowest ping answered in the last ``PING_WINDOW_S``
(``Feedback.ping_rtt_ms``). Its excess over the smallest ever seen is the queue, late by up to a
window while the queue grows (the window's oldest ping must see it) and on time while it drains
(the newest ping is then the lowest). The thresholds are shares of ``AbrConfig.ping_queue_ms``:

* a *sign* of a queue beginning: up by more than two thirds (``sign``);
* *calm*: a ping came within ``PING_STALE_S`` (``fresh``) and showed no sign (``calm``);
* *filling*: a ping came within ``PING_STALE_S`` and showed a sign (``filling``).

The newest ping alone, far above the path's, thins the video (:class:`Thinning`).
"""

from __future__ import annotations

PING_WINDOW_S = 1.0
"""A sample's ping round trip (``Feedback.ping_rtt_ms``) is the lowest of the ICE pings
answered within this long (``abr_task.FeedbackLog``): a queue raises them all, the path's jitter
only some (with exponential jitter of 15 ms mean each way, one ping in 11 is over 60 ms above
the path's round trip; all four of a window, about one window in 7,000)."""
PING_STALE_S = 2.0
"""Pings answered within this long stand for the path's queue (``PingWatch.fresh``)."""


STANDING_SIGNS = 4
"""Samples in a row that are signs of a queue (a second of them) make a standing queue
(``PingWatch.standing``): the controller halves the copies on it, and again after as many more
(``benchmarks/RESULTS.md`` §31.3, §32.2: on mobile-3g-weak the 190 kbps rung's copies kept a
standing queue of 100-280 ms; with this rule, freezes a minute over seeds 1-10 went from a median
of 1.67 to 0.67)."""


THIN_FRAMES_FACTOR = 2.0
"""The newest pings up by this many times ``AbrConfig.thin_ping_ms`` thin the frames too (a
shallower queue was the copies' own: ``benchmarks/RESULTS.md`` §36.2)."""


class Floor:
    """The smallest of a series of round trips so far, and how far each new one is above it
    (a queue's length, when the smallest is the path's own)."""

    __slots__ = ("smallest",)

    def __init__(self) -> None:
        self.smallest = float("inf")
        """The smallest noted (infinite before the first)."""

    def excess(self, value: float) -> float:
        """Note ``value``; how far it is above the smallest so far (itself included)."""
        self.smallest = min(self.smallest, value)
        return value - self.smallest


class PingWatch:
    """The newest ping sample against the smallest, and the states read from it."""

    __slots__ = ("_calm_until", "_queue_ms", "at", "excess", "floor", "streak")

    def __init__(self, queue_ms: float) -> None:
        self._queue_ms = queue_ms
        self.floor = Floor()
        """The smallest ping round trip: the path's own."""
        self.excess = 0.0
        """How far the newest sample is above the smallest (ms)."""
        self.at = float("-inf")
        """When the newest sample came."""
        self._calm_until = float("-inf")
        self.streak = 0
        """Samples in a row whose ping was a sign (0 after one that was not)."""

    def sign(self, ping_ms: float | None, now: float) -> bool:
        """Note a sample's ping (None: none in it); whether it is up by two thirds of
        ``ping_queue_ms``: enough for the controller to end a probe (its padding builds the
        queue; the estimate backs off only at the full ``ping_queue_ms``, a window later, by
        which time a probe had queued 250 ms on abr-300-loss3). Not a sign for the copies: on
        jittery paths it comes too often."""
        if ping_ms is None:
            return False
        self.excess, self.at = self.floor.excess(ping_ms), now
        sign = self._signed()
        self.streak = self.streak + 1 if sign else 0
        self._calm_until = float("-inf") if sign else now + PING_STALE_S
        return sign

    def calm(self, now: float) -> bool:
        """Whether a ping came within ``PING_STALE_S`` and the newest showed no sign. Then the
        pings alone tell a queue, as in the estimator: the controller takes loss, a REMB that
        falls and the reports' round trips for no sign (on congested-evening, 15 ms of jitter
        and loss in bursts of 2 ended probe after probe and halved the copies, with nothing
        queued). Up to ``benchmarks/RESULTS.md`` §29 the pings were calm only up by a third of
        ``ping_queue_ms``: on congested-evening's jitter the window's lowest ping was above
        that in 12-20% of the samples taken with under 15 ms queued, and a report with the
        2500 kbps phase's 2% of bursty loss then ended probe after probe after the step up
        (§30)."""
        return now < self._calm_until

    def fresh(self, now: float) -> bool:
        """Whether a ping came within ``PING_STALE_S``: then the pings stand for the queue."""
        return now - self.at <= PING_STALE_S

    def filling(self, now: float) -> bool:
        """Whether a fresh ping showed a sign: a queue beginning."""
        return self.fresh(now) and self._signed()

    def standing(self) -> bool:
        """Whether the streak of signs has just reached a multiple of ``STANDING_SIGNS`` (it
        stays so over samples with no ping)."""
        return self.streak > 0 and self.streak % STANDING_SIGNS == 0

    def _signed(self) -> bool:
        return self.excess > self._queue_ms * 2 / 3

    def lag_s(self) -> float:
        """How long after we send at a rate the pings show what it does: a window and the
        path's round trip."""
        floor = self.floor.smallest
        return PING_WINDOW_S + (floor / 1000 if floor < float("inf") else 0.0)


class Thinning:
    """How deep a viewer's video is thinned (``AbrConfig.thin_ping_ms``): a newest ping up by
    ``limit_ms`` stops the copies and padding (depth 1), up by ``THIN_FRAMES_FACTOR`` times
    that also the droppable frames (depth 2). Each such ping holds its depth for ``hold_s``,
    while the viewer stays on the rung where the thinning began."""

    __slots__ = ("_frames_until", "_hold_s", "_limit_ms", "_quiet_until", "_rung", "_until")

    def __init__(self, limit_ms: float, hold_s: float) -> None:
        self._limit_ms, self._hold_s = limit_ms, hold_s
        self._until = self._frames_until = float("-inf")
        self._rung = 0
        self._quiet_until = float("-inf")

    def clear(self, until: float) -> None:
        """End the thinning now and take no sign before ``until`` (after a switch down that
        the queue asked for: the lower rung drains it with its copies on)."""
        self._until = self._frames_until = float("-inf")
        self._quiet_until = until

    def depth_of(self, excess: float) -> int:
        """The depth a ping ``excess`` ms above the path's asks for (0 with ``limit_ms`` 0)."""
        if not self._limit_ms:
            return 0
        return int(excess > self._limit_ms) + int(excess > THIN_FRAMES_FACTOR * self._limit_ms)

    def note(self, excess: float, now: float, rung: int) -> None:
        """A newest ping ``excess`` ms above the path's, with the viewer on ``rung``."""
        depth = self.depth_of(excess)
        if not depth or now < self._quiet_until:
            return
        if now >= self._until:
            self._rung = rung
        elif rung != self._rung:
            return
        self._until = now + self._hold_s
        if depth > 1:
            self._frames_until = self._until

    def depth(self, at: float | None) -> int:
        """The depth in force at ``at`` (None: no sample yet, 0)."""
        if at is None:
            return 0
        return 2 if at < self._frames_until else int(at < self._until)
