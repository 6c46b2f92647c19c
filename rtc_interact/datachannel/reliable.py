"""Fast, exactly-once delivery of small latency-critical messages (taps, pings), sans-IO.

They travel on an unordered channel without SCTP retransmission, so one lost packet never holds
up another (no head-of-line blocking) and no 1 s ``SCTP_RTO_MIN`` applies. Instead:

* **redundancy**: each message leaves several times, at ``copy_offsets_s`` after the first: two
  close together for a lone loss, the rest spread over ~80 ms so that one loss burst (a radio
  fade, an overflowing queue) rarely takes every copy;
* **retransmission** timed from the measured round trip (RFC 6298 estimator, Karn's rule), with
  a floor of ``min_rto_s`` rather than SCTP's one second, backing off x2 up to ``max_rto_s``; a
  back-off also applies to new messages until an unambiguous sample arrives (RFC 6298 5.7), so
  a path that suddenly got slower is not flooded with retransmissions of every message;
* the receiver **deduplicates by message id** and answers a duplicate with the same reply
  (see ``HostSessionCore``), so the host records each tap exactly once however many copies land.

``ReliableSender`` takes ``now`` (seconds, any monotonic clock) and returns what to send and the
time it next needs to be woken; the asyncio adapter (``Viewer``) owns the channel and timer. What
it keeps is opaque to it (bytes, or messages the adapter packs into bundles such as ``taps``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class RetransmitPolicy:
    """How hard to try."""

    copy_offsets_s: tuple[float, ...] = (0.0, 0.002, 0.027, 0.077)
    """When each transmission of a message leaves, in seconds after the first, before any
    retransmission (``(0.0,)``: no redundancy). Copies on the same offset leave together (SCTP
    may bundle them into one packet). The host answers with copies on the same offsets."""
    initial_rto_s: float = 0.6
    """Retransmission timeout before the first round-trip sample."""
    min_rto_s: float = 0.04
    """Floor of the retransmission timeout (SCTP's is 1 s)."""
    max_rto_s: float = 2.0
    """Ceiling of the retransmission timeout after back-off."""
    give_up_s: float = 20.0
    """Stop retrying a message this long after it was first sent."""
    redundant_below: int = 256
    """Send copies only while fewer messages than this are unacknowledged. Copies of a burst
    travel in ``taps`` bundles (about 3 bytes a tap), so 256 taps with 4 copies stay inside
    SCTP's initial congestion window (3 x 1200 bytes, shared by the whole association); beyond
    that a burst relies on retransmission alone, so copies never crowd out first sends."""
    coalesce_s: float = 0.005
    """Sends falling due this close together leave in one poll, so the copies and
    retransmissions of a burst (whose first sends spread over a millisecond or two) travel as a
    few bundles, not one each. Copies may leave this much early; retransmissions, which must
    never beat the RTO, this much late."""

    def __post_init__(self) -> None:
        offsets = self.copy_offsets_s
        if not offsets or offsets[0] != 0 or list(offsets) != sorted(offsets):
            raise ConfigurationError("copy_offsets_s must start at 0.0 and never decrease")
        if not 0 < self.min_rto_s <= self.initial_rto_s <= self.max_rto_s:
            raise ConfigurationError("need 0 < min_rto_s <= initial_rto_s <= max_rto_s")
        if self.give_up_s <= 0:
            raise ConfigurationError("give_up_s must be positive")
        if not 0 <= self.coalesce_s < self.min_rto_s:
            raise ConfigurationError("need 0 <= coalesce_s < min_rto_s")

    @property
    def copies(self) -> int:
        """Transmissions of a message before any retransmission."""
        return len(self.copy_offsets_s)

    @property
    def copy_span_s(self) -> float:
        """Time from the first copy to the last."""
        return self.copy_offsets_s[-1]


class RttEstimator:
    """Smoothed round-trip time and variation (RFC 6298)."""

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.latest: float | None = None

    def update(self, sample_s: float) -> None:
        """Fold in one round-trip sample."""
        self.latest = sample_s
        if self.srtt is None:
            self.srtt, self.rttvar = sample_s, sample_s / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - sample_s)
            self.srtt = 0.875 * self.srtt + 0.125 * sample_s

    def rto(self, policy: RetransmitPolicy) -> float:
        """Retransmission timeout: srtt + 4 rttvar within the policy's bounds."""
        if self.srtt is None:
            return policy.initial_rto_s
        return min(policy.max_rto_s, max(policy.min_rto_s, self.srtt + 4 * self.rttvar))


T = TypeVar("T")


@dataclass(slots=True)
class _Pending(Generic[T]):
    data: T
    first_sent: float
    next_at: float
    copies: int
    """Copies planned before the first retransmission (1 or the policy's)."""
    rto: float
    retransmitted: bool = False
    sends: int = 1

    @property
    def copy_next(self) -> bool:
        """Whether the next send is a planned copy (else a retransmission)."""
        return self.sends < self.copies


@dataclass(slots=True)
class Poll(Generic[T]):
    """What the adapter must do now."""

    send: list[T] = field(default_factory=list)
    """What to transmit (one entry per copy)."""
    expired: list[int] = field(default_factory=list)
    """Message ids given up on."""


class ReliableSender(Generic[T]):
    """Keeps unacknowledged messages and says when to send them again."""

    def __init__(self, policy: RetransmitPolicy, rtt: RttEstimator | None = None) -> None:
        self.policy = policy
        self.rtt = rtt or RttEstimator()
        self._pending: dict[int, _Pending[T]] = {}
        self._backoff = 1.0
        self.transmissions = 0
        """Datagrams handed out so far (copies and retransmissions included)."""

    def __len__(self) -> int:
        return len(self._pending)

    def send(self, message_id: int, data: T, now: float, congested: bool = False) -> list[T]:
        """Start sending ``data``; returns what to transmit right now.

        ``congested`` (the channel's send buffer is backing up) turns redundancy off.
        """
        policy = self.policy
        quiet = not congested and len(self._pending) < policy.redundant_below
        rto = min(policy.max_rto_s, self.rtt.rto(policy) * self._backoff)
        pending = _Pending(data, now, now, policy.copies if quiet else 1, rto, sends=0)
        self._pending[message_id] = pending
        out: list[T] = []
        while pending.next_at <= now and not pending.retransmitted:
            out.append(data)
            self._sent(pending, now)
        return out

    def _sent(self, pending: _Pending[T], now: float) -> None:
        """Count one transmission of ``pending`` at ``now`` and schedule the next."""
        pending.sends += 1
        self.transmissions += 1
        if pending.copy_next:
            pending.next_at = pending.first_sent + self.policy.copy_offsets_s[pending.sends]
            return
        if pending.sends > pending.copies:
            pending.retransmitted = True
            pending.rto = min(self.policy.max_rto_s, pending.rto * 2)
            # new messages wait as long as this one now does, until a clean sample (RFC 6298 5.7)
            self._backoff = max(self._backoff, 2.0 ** min(pending.sends - pending.copies, 8))
        pending.next_at = now + pending.rto

    def acknowledge(self, message_id: int, now: float) -> float | None:
        """The reply arrived: stop sending; returns the round trip in seconds (None if unknown)."""
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return None
        sample = now - pending.first_sent
        if not pending.retransmitted:  # Karn: a retransmitted message gives an ambiguous sample
            self.rtt.update(sample)
            self._backoff = 1.0
        return sample

    def poll(self, now: float, congested: bool = False) -> Poll[T]:
        """Copies and retransmissions due at ``now`` (see ``coalesce_s``), and messages given up on.

        ``congested`` (the channel's send buffer is backing up: SCTP's congestion window is
        full) holds everything back: what was sent is still queued below us, and more copies
        would only lengthen that queue. Copies are dropped; retransmissions wait an RTO.
        """
        out: Poll[T] = Poll()
        early = now + self.policy.coalesce_s
        for message_id, pending in list(self._pending.items()):
            if pending.next_at > (early if pending.copy_next else now):
                continue
            if now - pending.first_sent >= self.policy.give_up_s:
                del self._pending[message_id]
                out.expired.append(message_id)
                continue
            if congested:
                pending.copies = min(pending.copies, pending.sends)
                pending.next_at = now + pending.rto
                continue
            out.send.append(pending.data)
            self._sent(pending, now)
        return out

    def next_wakeup(self) -> float | None:
        """When ``poll`` next has something to do; None when nothing is pending.

        A copy is woken for on time, a retransmission ``coalesce_s`` late."""
        lag = self.policy.coalesce_s
        return min((p.next_at if p.copy_next else p.next_at + lag
                    for p in self._pending.values()), default=None)

    def forget(self, message_id: int) -> None:
        """Stop sending a message (its request was answered some other way)."""
        self._pending.pop(message_id, None)


class AnswerLog:
    """Tells the viewer which answers with no request waiting for them are events.

    The host answers every copy of a ping, and a copy of a tap that comes after the quiet
    period. Only the first answer settles the request; the others are duplicates, dropped and
    counted. A late answer to a request that gave up waiting (``RequestTimeout``) is an event,
    once, for the application to reconcile. So is an answer to an id never sent (stray).
    """

    def __init__(self, kept: int = 1024) -> None:
        self._last_id = 0
        self._gave_up: OrderedDict[int, None] = OrderedDict()
        """Requests that gave up waiting (the newest ``kept``)."""
        self._kept = kept
        self.duplicates = 0
        """Answers dropped as duplicates so far."""

    def sent(self, request_id: int) -> None:
        """A request left (ids only grow)."""
        self._last_id = max(self._last_id, request_id)

    def gave_up(self, request_id: int) -> None:
        """A request stopped waiting for its answer."""
        self._gave_up[request_id] = None
        if len(self._gave_up) > self._kept:
            self._gave_up.popitem(last=False)

    def is_event(self, ref: int) -> bool:
        """An answer to request ``ref`` came and nothing waits for it: whether it is an event
        (late or stray) rather than a duplicate."""
        if ref <= self._last_id and ref not in self._gave_up:
            self.duplicates += 1
            return False
        self._gave_up.pop(ref, None)  # the late answer's copies are duplicates from now on
        return True
