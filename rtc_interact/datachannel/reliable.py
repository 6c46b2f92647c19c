"""Fast, exactly-once delivery of small latency-critical messages (taps, pings), sans-IO.

They travel on an unordered channel without SCTP retransmission, so one lost packet never holds
up another (no head-of-line blocking) and no 1 s ``SCTP_RTO_MIN`` applies. Instead:

* **redundancy**: each message leaves ``copies`` times, ``copy_gap_s`` apart;
* **retransmission** timed from the measured round trip (RFC 6298 estimator, Karn's rule), with
  a floor of ``min_rto_s`` rather than SCTP's one second, backing off x2 up to ``max_rto_s``;
* the receiver **deduplicates by message id** and answers a duplicate with the same reply
  (see ``HostSessionCore``), so the host records each tap exactly once however many copies land.

``ReliableSender`` takes ``now`` (seconds, any monotonic clock) and returns what to send and the
time it next needs to be woken; the asyncio adapter (``Viewer``) owns the channel and timer. What
it keeps is opaque to it (bytes, or messages the adapter packs into bundles such as ``taps``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class RetransmitPolicy:
    """How hard to try."""

    copies: int = 4
    """Transmissions of each message before any acknowledgement could arrive (1 = no redundancy)."""
    copy_gap_s: float = 0.002
    """Spacing of those copies (non-zero, so SCTP does not bundle them into one packet)."""
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

    def __post_init__(self) -> None:
        if self.copies < 1 or self.copy_gap_s < 0:
            raise ConfigurationError("copies must be >= 1 and copy_gap_s >= 0")
        if not 0 < self.min_rto_s <= self.initial_rto_s <= self.max_rto_s:
            raise ConfigurationError("need 0 < min_rto_s <= initial_rto_s <= max_rto_s")
        if self.give_up_s <= 0:
            raise ConfigurationError("give_up_s must be positive")


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
    copies_left: int
    rto: float
    retransmitted: bool = False
    sends: int = 1


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
        copies = policy.copies if quiet else 1
        pending = _Pending(data, now, now, copies - 1, self.rtt.rto(policy))
        self._pending[message_id] = pending
        out = [data]
        while pending.copies_left and policy.copy_gap_s == 0:
            pending.copies_left -= 1
            out.append(data)
        pending.next_at = now + (policy.copy_gap_s if pending.copies_left else pending.rto)
        pending.sends = len(out)
        self.transmissions += len(out)
        return out

    def acknowledge(self, message_id: int, now: float) -> float | None:
        """The reply arrived: stop sending; returns the round trip in seconds (None if unknown)."""
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return None
        sample = now - pending.first_sent
        if not pending.retransmitted:  # Karn: a retransmitted message gives an ambiguous sample
            self.rtt.update(sample)
        return sample

    def poll(self, now: float, congested: bool = False) -> Poll[T]:
        """Copies and retransmissions due at ``now``, and messages given up on.

        ``congested`` (the channel's send buffer is backing up: SCTP's congestion window is
        full) holds everything back: what was sent is still queued below us, and more copies
        would only lengthen that queue. Copies are dropped; retransmissions wait an RTO.
        """
        out: Poll[T] = Poll()
        for message_id, pending in list(self._pending.items()):
            if pending.next_at > now:
                continue
            if now - pending.first_sent >= self.policy.give_up_s:
                del self._pending[message_id]
                out.expired.append(message_id)
                continue
            if congested:
                pending.copies_left = 0
                pending.next_at = now + pending.rto
                continue
            out.send.append(pending.data)
            pending.sends += 1
            if pending.copies_left:
                pending.copies_left -= 1
                gap = self.policy.copy_gap_s if pending.copies_left else pending.rto
                pending.next_at = now + gap
            else:
                pending.retransmitted = True
                pending.rto = min(self.policy.max_rto_s, pending.rto * 2)
                pending.next_at = now + pending.rto
        self.transmissions += len(out.send)
        return out

    def next_wakeup(self) -> float | None:
        """When ``poll`` next has something to do; None when nothing is pending."""
        return min((p.next_at for p in self._pending.values()), default=None)

    def forget(self, message_id: int) -> None:
        """Stop sending a message (its request was answered some other way)."""
        self._pending.pop(message_id, None)
