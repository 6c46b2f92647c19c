"""Sans-IO model of one direction of an impaired link.

A packet submitted at ``now_s`` goes through, in order:

1. the bottleneck: a serializer at ``rate_kbps`` (each packet counts 28 extra bytes of IP+UDP
   header) behind a drop-tail queue bounded in time (``queue_ms`` of backlog);
2. random loss: Bernoulli, or Gilbert-Elliott with a bad state that loses every packet;
3. propagation: ``delay_ms`` plus an exponential extra delay of mean ``jitter_ms``; delivery is
   never earlier than the previous packet's (order kept), except for packets picked for
   reordering, which are held back ``reorder_ms`` so that later packets overtake them.

Jitter is a time process, not a per-packet draw: one exponential value holds for an exponential
time of mean ``jitter_hold_ms`` (50 ms by default) and then a fresh value is drawn. With a fresh
draw per packet *and* order kept, every packet would wait for the slowest of its recent
predecessors, so the real extra delay would grow with the packet rate (mean 20 ms of jitter
becomes ~47 ms at 250 packets/s and ~72 ms at 1000 packets/s). Holding draws keeps the extra
delay close to exponential with mean ``jitter_ms`` (about +10% at the default hold for 20 ms of
jitter, from order keeping after downward steps) whatever the rate, like the slowly varying
queueing delay of a real path. ``jitter_hold_ms=0`` gives the per-packet behaviour.

:meth:`LinkDirection.submit` returns the delivery time or None. Time only comes in as an argument
and every random choice comes from ``random.Random`` streams owned by the model and derived from
its seed (one each for loss, jitter and reordering), so a seed and a sequence of calls fully
determine the outcome, and loss decisions depend only on the number of packets.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final, Protocol

from .profiles import DirectionParams, LinkDirectionName, LinkProfile, LossModel

__all__ = [
    "IP_UDP_OVERHEAD_BYTES",
    "GilbertLoss",
    "LinkCounters",
    "LinkDirection",
    "LinkModel",
    "SecondStats",
    "gilbert_transitions",
]

IP_UDP_OVERHEAD_BYTES: Final = 28
"""Bytes of IPv4 + UDP header counted against the rate cap for every datagram."""


class LinkModel(Protocol):
    """What the relay needs from a one-direction impairment model."""

    def submit(self, size_bytes: int, now_s: float) -> float | None:
        """Delivery time of a datagram sent at ``now_s``, or None when it is dropped."""
        ...

    def advance(self, now_s: float) -> list[float]:
        """Apply scheduled steps due by ``now_s``; returns their offsets in seconds."""
        ...

    def seconds(self, now_s: float | None = None) -> tuple[SecondStats, ...]:
        """Per-second statistics (complete seconds only when ``now_s`` is given)."""
        ...

    @property
    def counters(self) -> LinkCounters:
        """Totals since the model was created."""
        ...

    @property
    def params(self) -> DirectionParams:
        """Parameters in force."""
        ...


@dataclass(frozen=True, slots=True)
class LinkCounters:
    """Totals of one link direction."""

    submitted: int
    """Datagrams offered to the link."""
    delivered: int
    """Datagrams given a delivery time."""
    dropped_loss: int
    """Datagrams dropped by the random loss model."""
    dropped_queue: int
    """Datagrams dropped because the bottleneck queue was full."""
    delivered_bytes: int
    """Payload bytes of delivered datagrams (no IP/UDP overhead)."""


@dataclass(frozen=True, slots=True)
class SecondStats:
    """What one direction did during one second since the link started."""

    second: int
    """Index of the second since start (0 = the first second)."""
    submitted: int
    """Datagrams offered during this second."""
    delivered: int
    """Datagrams whose delivery time falls in this second."""
    delivered_kbps: float
    """Delivered rate in kbit/s counting 28 bytes IP+UDP per datagram (compare with rate_kbps)."""
    payload_kbps: float
    """Delivered payload rate in kbit/s."""
    queue_ms_max: float
    """Largest bottleneck backlog seen by a datagram offered during this second, in ms."""
    dropped_loss: int
    """Datagrams offered during this second and dropped by random loss."""
    dropped_queue: int
    """Datagrams offered during this second and dropped by the full queue."""


@dataclass(slots=True)
class _Bucket:
    submitted: int = 0
    delivered: int = 0
    delivered_bytes: int = 0
    wire_bytes: int = 0
    queue_ms_max: float = 0.0
    dropped_loss: int = 0
    dropped_queue: int = 0

    def freeze(self, second: int) -> SecondStats:
        return SecondStats(
            second=second,
            submitted=self.submitted,
            delivered=self.delivered,
            delivered_kbps=self.wire_bytes * 8 / 1000.0,
            payload_kbps=self.delivered_bytes * 8 / 1000.0,
            queue_ms_max=self.queue_ms_max,
            dropped_loss=self.dropped_loss,
            dropped_queue=self.dropped_queue,
        )


def gilbert_transitions(loss: LossModel) -> tuple[float, float]:
    """(p, r): per-packet probabilities of entering and of leaving the losing state."""
    pi = loss.pct / 100.0
    if loss.model == "bernoulli":
        return pi, 1.0 - pi
    if pi >= 1.0:
        return 1.0, 0.0
    r = 1.0 / loss.burst
    return r * pi / (1.0 - pi), r


class GilbertLoss:
    """Two-state loss chain: the bad state loses every packet, the good state none.

    With long-run loss ``pi`` and mean burst length ``b`` (packets), the chain leaves the bad
    state with probability ``r = 1/b`` per packet (burst lengths are geometric with mean b) and
    enters it with ``p = r * pi / (1 - pi)``, so that the stationary bad share ``p / (p + r)``
    equals ``pi``. Bernoulli loss is the special case ``p + r = 1``.
    """

    __slots__ = ("_bad", "p", "r")

    def __init__(self, loss: LossModel, rng: random.Random, bad: bool | None = None) -> None:
        """Start in the bad state with probability ``pi`` unless ``bad`` says otherwise."""
        pi = loss.pct / 100.0
        self.p, self.r = gilbert_transitions(loss)
        self._bad = rng.random() < pi if bad is None else bad

    @property
    def bad(self) -> bool:
        """Whether the chain is in the bad (losing) state."""
        return self._bad

    def lost(self, rng: random.Random) -> bool:
        """Whether the next packet is lost; advances the chain by one packet."""
        lost = self._bad
        u = rng.random()
        self._bad = u >= self.r if self._bad else u < self.p
        return lost


class LinkDirection:
    """Seeded impairment model for one direction of a link (see the module docstring)."""

    def __init__(
        self,
        params: DirectionParams,
        seed: int | str = 0,
        *,
        start_s: float = 0.0,
        schedule: tuple[tuple[float, DirectionParams], ...] = (),
    ) -> None:
        """``schedule`` holds (offset_s, full parameters) pairs applied at ``start_s + offset``."""
        # One stream per impairment: loss decisions depend only on the packet count, not on
        # how many jitter or reorder draws timing happened to cause.
        self._rng_loss = random.Random(f"{seed}/loss")
        self._rng_jitter = random.Random(f"{seed}/jitter")
        self._rng_reorder = random.Random(f"{seed}/reorder")
        self._start_s = start_s
        self._pending = sorted(schedule, key=lambda step: step[0])
        self._params = params
        self._loss: GilbertLoss | None = None
        self._link_free_at = -math.inf
        self._last_ordered = -math.inf
        self._jitter_s = 0.0
        self._jitter_until = -math.inf
        self._buckets: dict[int, _Bucket] = {}
        self._submitted = self._delivered = self._dropped_loss = self._dropped_queue = 0
        self._delivered_bytes = 0
        self.update(params)

    @classmethod
    def from_profile(
        cls,
        profile: LinkProfile,
        direction: LinkDirectionName | str,
        seed: int | str = 0,
        *,
        start_s: float = 0.0,
    ) -> LinkDirection:
        """Model of one direction of ``profile``, its schedule applied relative to ``start_s``."""
        steps = tuple(
            (step.at_s, profile.params_at(direction, step.at_s)) for step in profile.schedule
        )
        return cls(profile.params_at(direction, 0.0), seed, start_s=start_s, schedule=steps)

    @property
    def params(self) -> DirectionParams:
        """Parameters in force."""
        return self._params

    @property
    def start_s(self) -> float:
        """Time the link started; schedule offsets and stats seconds count from here."""
        return self._start_s

    @property
    def counters(self) -> LinkCounters:
        """Totals since the model was created."""
        return LinkCounters(
            submitted=self._submitted,
            delivered=self._delivered,
            dropped_loss=self._dropped_loss,
            dropped_queue=self._dropped_queue,
            delivered_bytes=self._delivered_bytes,
        )

    def update(self, params: DirectionParams) -> None:
        """Switch to new parameters; the queue backlog and the loss state carry over."""
        old = self._params
        self._params = params
        if (params.jitter_ms, params.jitter_hold_ms) != (old.jitter_ms, old.jitter_hold_ms):
            self._jitter_until = -math.inf  # draw afresh under the new jitter parameters
        if params.loss is None:
            self._loss = None
        elif self._loss is None or params.loss != old.loss:
            carried = None if self._loss is None else self._loss.bad
            self._loss = GilbertLoss(params.loss, self._rng_loss, carried)

    def next_step_s(self) -> float | None:
        """Absolute time of the next scheduled step, None when none is left."""
        return self._start_s + self._pending[0][0] if self._pending else None

    def advance(self, now_s: float) -> list[float]:
        """Apply scheduled steps due by ``now_s``; returns their offsets in seconds."""
        applied = []
        while self._pending and self._start_s + self._pending[0][0] <= now_s:
            offset, params = self._pending.pop(0)
            self.update(params)
            applied.append(offset)
        return applied

    def backlog_s(self, now_s: float) -> float:
        """Time the bottleneck needs to drain what is queued at ``now_s``."""
        return max(0.0, self._link_free_at - now_s)

    def submit(self, size_bytes: int, now_s: float) -> float | None:
        """Delivery time of a ``size_bytes`` datagram sent at ``now_s``, or None if dropped."""
        self.advance(now_s)
        bucket = self._bucket(now_s)
        bucket.submitted += 1
        self._submitted += 1
        departure = self._serialize(size_bytes, now_s, bucket)
        if departure is None:
            bucket.dropped_queue += 1
            self._dropped_queue += 1
            return None
        if self._loss is not None and self._loss.lost(self._rng_loss):
            bucket.dropped_loss += 1
            self._dropped_loss += 1
            return None
        delivery = self._propagate(departure)
        delivered = self._bucket(delivery)
        delivered.delivered += 1
        delivered.delivered_bytes += size_bytes
        delivered.wire_bytes += size_bytes + IP_UDP_OVERHEAD_BYTES
        self._delivered += 1
        self._delivered_bytes += size_bytes
        return delivery

    def _serialize(self, size_bytes: int, now_s: float, bucket: _Bucket) -> float | None:
        """Departure time from the bottleneck, or None when the drop-tail queue is full."""
        rate = self._params.rate_kbps
        if rate is None:
            return now_s
        backlog_ms = self.backlog_s(now_s) * 1000.0
        bucket.queue_ms_max = max(bucket.queue_ms_max, backlog_ms)
        limit = self._params.queue_ms
        if limit is not None and backlog_ms > limit:
            return None
        tx_s = (size_bytes + IP_UDP_OVERHEAD_BYTES) * 8 / (rate * 1000.0)
        self._link_free_at = max(now_s, self._link_free_at) + tx_s
        return self._link_free_at

    def _propagate(self, departure: float) -> float:
        """Delivery time after delay and jitter, keeping order unless reordering."""
        p = self._params
        delivery = departure + p.delay_ms / 1000.0
        if p.jitter_ms > 0.0:
            if departure >= self._jitter_until:
                self._jitter_s = self._rng_jitter.expovariate(1000.0 / p.jitter_ms)
                hold_s = p.jitter_hold_ms / 1000.0
                self._jitter_until = departure + (
                    self._rng_jitter.expovariate(1 / hold_s) if hold_s else 0
                )
            delivery += self._jitter_s
        delivery = max(delivery, self._last_ordered)
        if p.reorder_pct > 0.0 and self._rng_reorder.random() * 100.0 < p.reorder_pct:
            # Held back and not an ordering barrier: packets after it may arrive first.
            return delivery + p.reorder_ms / 1000.0
        self._last_ordered = delivery
        return delivery

    def _bucket(self, t_s: float) -> _Bucket:
        index = max(0, math.floor(t_s - self._start_s))
        bucket = self._buckets.get(index)
        if bucket is None:
            bucket = self._buckets[index] = _Bucket()
        return bucket

    def seconds(self, now_s: float | None = None) -> tuple[SecondStats, ...]:
        """Per-second stats from the start; with ``now_s``, only seconds that have ended.

        Seconds with no traffic are included as zeros so that index == position.
        """
        if not self._buckets:
            return ()
        last = max(self._buckets)
        if now_s is not None:
            last = min(last, math.floor(now_s - self._start_s) - 1)
        empty = _Bucket()
        return tuple(self._buckets.get(i, empty).freeze(i) for i in range(last + 1))
