"""Per-viewer bandwidth estimate for the ABR controller (``transport.abr``; sans-IO).

:class:`LossDelayEstimator` is GCC-like, and the controller takes any :class:`Estimator`:

* **Loss** (receiver reports' fraction lost, smoothed with weight ``loss_weight``): above
  ``loss_high`` the estimate drops to the rate we sent times ``1 - loss / 2``; between
  ``loss_low`` and ``loss_high`` it holds; below, it may grow. While pings (below) come and
  show no queue, it may grow up to ``loss_calm``: loss with no queue is the path's own.
* **Delay**: a round trip above the smallest one seen by more than ``queue_ms`` means a
  queue is building on the path (our sender reports travel behind the video): the estimate
  drops to ``0.85`` of the rate sent. Both the smoothed round trip and the reports' raw one
  count: aiortc smooths by 0.85 a report (about one a second), so on abr-300-loss3 the
  smoothed one crossed ``queue_ms`` ~8 s after a 400 ms queue had built and begun to drop
  packets, while the raw one had crossed it 2 s after the queue began. (Only the smoothed one
  confirms a REMB's fall below: the raw one, even over a span, reaches ``queue_ms / 2`` on
  plain jitter.) A REMB more than 10% below both the previous REMB and
  the rate sent means the receiver's delay-based detector saw over-use and answered ``0.85`` x
  what arrived: the estimate drops to what arrived, but only when loss is above
  ``loss_low`` or the round trip is up by ``queue_ms / 2``: aiortc's detector also fires on
  plain jitter (15 ms on congested-evening) with nothing queued. A REMB above the rate sent
  is not a cap: a receiver estimates at most ~1.5x what it receives, and with fixed rungs the
  only way to learn that the next rung fits is to try it.
* **Pings**: the host times an ICE binding request to the viewer every ``interval_s``
  (``aiortc_compat.ice_ping``; any ICE agent answers it, Chromium as well as ours), and a
  sample carries the lowest of those answered in the last ``PING_WINDOW_S``. While pings come,
  they alone tell a queue, a second or more before the reports do: above the smallest by
  ``ping_queue_ms``, the estimate drops to ``0.85`` of the rate sent (again only once pings
  sent after that decrease show the queue grown by half that more: a queue draining asks for no
  second one); above two thirds of it the estimate holds instead of growing into the queue (a
  third until ``benchmarks/RESULTS.md`` §30: congested-evening's jitter alone reached that in
  12-20% of the samples, and the estimate stalled after the step up to 2500 kbps); and a
  falling REMB counts as over-use only with them up by half of it. On abr-300-loss3 the reports'
  raw round trip showed the queue of a probe at 250-400 ms, and a stale one ended the recovery
  after the pings had seen that queue drain. Without pings (none answered for ``PING_STALE_S``)
  the reports' round trips work as described above.
* **Growth**: otherwise the estimate grows by ``increase_per_s`` per second (multiplicative),
  up to 1.5 times what we send or the newest REMB, whichever is higher (an estimate far above
  anything tried tells nothing). At most one decrease per ``decrease_gap_s``. Above the rate we
  sent when a queue last showed (a sample of the path's capacity), and for ``knee_memory_s``
  after, it grows by ``knee_increase_per_s`` of that rate per second instead (additive, as
  GCC near the link's capacity). Without this, on abr-300-loss3 the copies (which fill a share
  of what the estimate leaves) and the estimate climbed past the 300 kbps link together in ~3
  s after each back-off: a sawtooth of 200-400 ms queues every 8-10 s. The controller also
  reads that rate (``knee``): no probe for a rung far above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .pings import PING_STALE_S, PING_WINDOW_S, Floor, PingWatch

__all__ = ["PING_STALE_S", "PING_WINDOW_S", "Estimator", "Floor", "KneeMemory",
           "LossDelayEstimator", "smoothed_kbps"]

if TYPE_CHECKING:
    from .abr_config import AbrConfig
    from .abr_types import Feedback

GROWTH_CAP = 1.5
"""The estimate grows to at most this many times what we send (or the newest REMB)."""
def smoothed_kbps(previous: float, sent_bytes: int, dt: float) -> float:
    """``previous`` moved towards the rate of ``sent_bytes`` over ``dt`` s (~1 s smoothing)."""
    return previous + min(1.0, dt / 1.0) * (sent_bytes * 8 / 1000 / dt - previous)


class KneeMemory:
    """The rate we sent when the path last showed a queue (``Estimator.knee``), as the
    controller keeps it: until an up-switch to a rung above it (``switched_up``), not only
    while the estimator remembers it.

    A probe for a rate above ``factor`` times it is blocked for ``memory_s`` after it was
    noted. Each such probe that fails doubles ``memory_s`` (up to ``memory_max_s``), counted
    from the failure: on abr-300-loss3 a probe for the 530 kbps rung started each time the knee
    was forgotten (every 15-18 s), queued 250-380 ms on the 300 kbps link and froze the picture
    once or twice (``benchmarks/RESULTS.md`` §28). (A probe that ramps slowly above the knee
    ends before its queue is large enough for the estimator to note a new knee, §29.)
    """

    __slots__ = ("_forgotten", "_memory_base_s", "_memory_max_s", "at", "kbps", "memory_s")

    def __init__(self, memory_s: float, memory_max_s: float) -> None:
        self.kbps: float | None = None
        """The rate (None: no queue since the start, the last up-switch above it or the last
        ``forget``)."""
        self.at = float("-inf")
        """When it was noted, or a probe far above it last failed."""
        self.memory_s = self._memory_base_s = memory_s
        self._memory_max_s = max(memory_s, memory_max_s)
        self._forgotten: float | None = None
        """The knee forgotten last: the estimator may still hold it, and it does not return."""

    def note(self, knee: float | None, now: float) -> None:
        """Take the estimator's knee (None: it has forgotten it; ours stays)."""
        if knee is not None and knee != self.kbps and knee != self._forgotten:
            self.kbps, self.at = knee, now

    def forget(self) -> None:
        """The path has since carried more than the knee: it tells nothing now."""
        self._forgotten, self.kbps, self.memory_s = self.kbps, None, self._memory_base_s

    def beyond(self, target: float, factor: float) -> bool:
        """Whether ``target`` is above ``factor`` times the knee (False without one)."""
        return self.kbps is not None and target > factor * self.kbps

    def blocks(self, target: float, factor: float, now: float) -> bool:
        """Whether a probe for ``target`` is far above the knee, within its memory."""
        return self.beyond(target, factor) and now - self.at < self.memory_s

    def failed(self, target: float, factor: float, now: float) -> None:
        """A probe or up-switch for ``target`` failed: if far above the knee, the next such
        waits twice as long, from now."""
        if self.beyond(target, factor):
            self.memory_s = min(2 * self.memory_s, self._memory_max_s)
            self.at = now

    def switched_up(self, target: float) -> None:
        """The viewer switched up to a rung that needs ``target``: a knee below that says
        nothing now (one above it stays: a switch from the lowest rung proves little)."""
        if self.kbps is not None and target >= self.kbps:
            self.forget()


class Estimator(Protocol):
    """Turns feedback samples into an available-bandwidth estimate (kbps)."""

    sent_kbps: float
    """What we sent (media, padding, copies and the other traffic), smoothed over ~1 s: the
    measure of ``knee``."""

    def update(self, feedback: Feedback) -> float:
        """The estimate after ``feedback``."""

    def knee(self, now: float) -> float | None:
        """The rate we sent when the path last showed a queue, while that is remembered
        (None: no queue lately)."""

    def carried(self, kbps: float) -> float:
        """The path was seen carrying ``kbps`` (``transport.train``): the knee is forgotten, and
        the estimate is at least that; returns the estimate."""


class LossDelayEstimator:
    """Loss-, delay- and REMB-driven estimate (see the module docstring)."""

    def __init__(self, config: AbrConfig, initial_kbps: float,
                 ceiling_kbps: float | None = None) -> None:
        self.config = config
        self.ceiling = min(config.max_kbps, ceiling_kbps or config.max_kbps)
        """Highest estimate (the controller uses ``abr.CEILING_RUNGS`` times its top rung: the top
        rung with a copy of every packet and some headroom; more tells nothing)."""
        self.kbps = min(max(initial_kbps, config.min_kbps), self.ceiling)
        """The estimate."""
        self.sent_kbps = 0.0
        """Smoothed rate we sent."""
        self._rtt, self._raw_rtt = Floor(), Floor()
        """Smallest round trips seen: the reports' (``Feedback.rtt_ms``) and their raw ones
        (``rtt_raw_ms``)."""
        self._pings = PingWatch(config.ping_queue_ms)
        """The pings' (``ping_rtt_ms``)."""
        self._ping_cut: tuple[float, float] | None = None
        """The pings' excess at the last decrease they made, and when pings sent after it
        are all that a sample's window holds (until the excess falls below half of
        ``ping_queue_ms``)."""
        self.remb_kbps: float | None = None
        """Newest REMB."""
        self.decreased = False
        """Whether the newest update lowered the estimate."""
        self._last: float | None = None
        self._last_decrease = float("-inf")
        self._loss = 0.0
        self._rtt_excess = 0.0
        self._knee: float | None = None
        """The rate we sent when the last queue showed (see ``AbrConfig.knee_memory_s``)."""
        self._knee_at = float("-inf")

    def update(self, feedback: Feedback) -> float:
        """Fold one sample in; returns the new estimate."""
        cfg = self.config
        dt = 0.0 if self._last is None else max(0.0, feedback.now - self._last)
        self._last = feedback.now
        if dt > 0:
            self.sent_kbps = smoothed_kbps(
                self.sent_kbps, feedback.sent_bytes + feedback.other_bytes, dt)
        if feedback.loss is not None:  # one report covers few packets at low rates: smooth
            self._loss += cfg.loss_weight * (feedback.loss - self._loss)
        target = self._decrease(feedback)
        self.decreased = False
        if target is not None:
            if feedback.now - self._last_decrease >= cfg.decrease_gap_s and target < self.kbps:
                self.kbps = target
                self._last_decrease = feedback.now
                self.decreased = True
        elif dt > 0 and self._loss < self._loss_allowed(feedback.now) \
                and not self._filling(feedback.now):
            cap = max(GROWTH_CAP * self.sent_kbps, self.remb_kbps or 0.0)
            if self.kbps < cap:
                self.kbps = min(cap, self._grown(feedback.now, dt))
        self.kbps = min(max(self.kbps, cfg.min_kbps), self.ceiling)
        return self.kbps

    def knee(self, now: float) -> float | None:
        """The rate we sent when the last queue showed, for ``knee_memory_s`` after."""
        if self._knee is None or now - self._knee_at >= self.config.knee_memory_s:
            return None
        return self._knee

    def carried(self, kbps: float) -> float:
        """Estimator: the knee forgotten, the estimate raised to ``kbps`` (within the ceiling)."""
        self._knee = None
        self.kbps = min(max(self.kbps, kbps), self.ceiling)
        return self.kbps

    def _grown(self, now: float, dt: float) -> float:
        """The estimate after ``dt`` s of growth: multiplicative, or additive above the rate
        at which the last queue built (for ``knee_memory_s`` after it)."""
        cfg = self.config
        knee = self.knee(now)
        if knee is not None and self.kbps >= knee:
            return self.kbps + cfg.knee_increase_per_s * knee * dt
        return self.kbps * (1 + cfg.increase_per_s * dt)

    def _decrease(self, feedback: Feedback) -> float | None:
        """The estimate some signal asks for, or None when nothing asks for a decrease."""
        cfg = self.config
        sent = max(self.sent_kbps, cfg.min_kbps)
        wanted: list[float] = []
        reported = self._report_queue(feedback)
        pinged = self._ping_queue(feedback)
        if pinged if self._pinging(feedback.now) else reported:
            wanted.append(0.85 * sent)  # a queue: what we send fills the path
            self._knee, self._knee_at = sent, feedback.now
        if feedback.loss is not None and self._loss > cfg.loss_high:
            wanted.append(sent * (1 - self._loss / 2))
        if feedback.remb_kbps is not None:
            previous, self.remb_kbps = self.remb_kbps, feedback.remb_kbps
            fell = previous is not None and feedback.remb_kbps < 0.9 * min(previous, sent)
            if fell and self._queue_likely(feedback.now):
                wanted.append(feedback.remb_kbps / 0.85)  # over-use: REMB fell
        if wanted and self.remb_kbps is not None and self.remb_kbps < 0.9 * sent:
            wanted.append(self.remb_kbps / 0.85)  # congested: what arrives is the guide
        if wanted:
            return min(wanted)
        if self._loss > cfg.loss_low:
            return None if self._loss <= cfg.loss_high else self.kbps  # hold
        return None

    def _report_queue(self, feedback: Feedback) -> bool:
        """Whether the receiver reports' round trip, smoothed or raw, is up by ``queue_ms``."""
        cfg = self.config
        if feedback.rtt_ms is not None:
            self._rtt_excess = self._rtt.excess(feedback.rtt_ms)
        return (self._rtt_excess > cfg.queue_ms and feedback.rtt_ms is not None) \
            or self._raw_excess(feedback.rtt_raw_ms) > cfg.queue_ms

    def _pinging(self, now: float) -> bool:
        """Whether pings came lately: then they alone tell a queue (the reports' round trips
        come seconds later, and ended the recovery from a queue the pings had seen drain)."""
        return self._pings.fresh(now)

    def _loss_allowed(self, now: float) -> float:
        """The smoothed loss up to which the estimate may grow while the pings show no queue
        (``update`` checks ``_filling``): ``loss_calm`` while pings come, else ``loss_low``."""
        return self.config.loss_calm if self._pinging(now) else self.config.loss_low

    def _filling(self, now: float) -> bool:
        """Whether the pings show a queue beginning (up by two thirds of ``ping_queue_ms``):
        the estimate then holds instead of growing into it."""
        return self._pings.filling(now)

    def _queue_likely(self, now: float) -> bool:
        """Whether a falling REMB counts as over-use: with pings, when they are up by half of
        ``ping_queue_ms``; without, on loss above ``loss_low`` or the round trip up by half
        of ``queue_ms`` (with 3% of random loss, the loss alone held the estimate under a rung
        that fitted, with nothing queued)."""
        cfg = self.config
        if self._pinging(now):
            return self._pings.excess > cfg.ping_queue_ms / 2
        return self._loss > cfg.loss_low or self._rtt_excess > cfg.queue_ms / 2

    def _raw_excess(self, raw: float | None) -> float:
        """How far a report's raw round trip is above the smallest raw one (0 when none)."""
        return 0.0 if raw is None else self._raw_rtt.excess(raw)

    def _ping_queue(self, feedback: Feedback) -> bool:
        """Whether the pings show a queue that asks for a decrease: their excess above the
        smallest is over ``ping_queue_ms``. After a decrease they made, only pings sent after
        it count (a window and a round trip later), and only if the excess has grown by half
        of ``ping_queue_ms`` since (or fell below that half in between): a queue that drains
        asks for no other decrease."""
        ping, half = feedback.ping_rtt_ms, self.config.ping_queue_ms / 2
        if ping is None:
            return False
        self._pings.sign(ping, feedback.now)
        excess = self._pings.excess
        cut = self._ping_cut
        if cut is not None and excess < half:
            self._ping_cut = cut = None
        if excess <= 2 * half or (cut is not None and (
                excess <= cut[0] + half or feedback.now < cut[1])):
            return False
        self._ping_cut = excess, feedback.now + PING_WINDOW_S + ping / 1000
        return True

    @property
    def loss(self) -> float:
        """Newest reported loss fraction."""
        return self._loss
