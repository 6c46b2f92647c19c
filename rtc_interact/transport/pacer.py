"""Robust sending, sans-IO: a packet pacer and a gate for retransmissions.

* :class:`Pacer` is a token bucket: packets leave at ``rate_kbps`` on average with at most
  ``burst_s`` of credit, so one frame's packets (a keyframe is tens of them) are spread instead of
  hitting the bottleneck queue at once. ``delay(size, now)`` says how long to wait before sending.
* :class:`RetransmitGate` remembers when each RTP sequence number was sent and where the newest
  keyframe started. A NACKed packet is resent only if it is still useful (sent less than
  ``rtt_factor`` round trips + ``slack_s`` ago: a first NACK comes about one round trip after
  the packet left, a repeated one about two, and our receiver waits 2.5 round trips for a hole;
  not before the newest keyframe; not resent within the last round trip) and the
  retransmissions of the last second stay within ``budget_kbps``. A NACK's echo (our viewer
  sends each twice) is not another try. A base-layer packet's retransmission leaves twice,
  ``echo_delay_s`` apart, so that one loss does not cost the viewer a round trip.
* :class:`PaddingPackets` keeps the newest media packets, which probing padding resends (RTX
  with payload, as libwebrtc's pacer pads when it has a packet history) instead of padding-only
  packets: a media packet carries up to ~1200 bytes where RTP padding alone carries at most 255,
  so a probe costs a quarter of the packets (each is a full trip through the sender, SRTP and
  the socket), and its bytes also stand in for a lost packet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class Pacer:
    """Token bucket over bytes (time comes in as ``now``, seconds)."""

    def __init__(self, rate_kbps: float, burst_s: float = 0.01) -> None:
        self.rate_kbps = rate_kbps
        """Average sending rate; change it at any time."""
        self.burst_s = burst_s
        self._next = 0.0
        """When the bucket is empty again, if nothing more is sent."""

    def delay(self, size: int, now: float) -> float:
        """Seconds to wait before sending ``size`` bytes now (0: send now); books the bytes."""
        start = max(self._next, now - self.burst_s)
        self._next = start + size * 8 / 1000 / max(self.rate_kbps, 1.0)
        return max(0.0, start - now)


class CopyBudget:
    """Token bucket over the bytes of media packets that get a redundant copy."""

    def __init__(self, rate_kbps: float = 0.0, delay_s: float = 0.05,
                 burst_s: float = 0.5) -> None:
        self.rate_kbps = rate_kbps
        """Copies per second, in kbit (0: none); change it at any time."""
        self.delay_s = delay_s
        """How long after its original a copy leaves; change it at any time."""
        self.burst_s = burst_s
        """Most credit kept, in seconds of ``rate_kbps`` (a keyframe is copied whole)."""
        self.base_copies = 1
        """Copies of each packet of the base layer (keyframes included) while credit lasts;
        change it at any time. Two where the ABR covers a long path: there a packet lost with
        its only copy freezes the picture, while a droppable frame lost is one frame less, so
        droppable frames then get no copy and their share goes to the second copies."""
        self.copied = 0
        """Copies made so far."""
        self._credit = 0.0
        self._last: float | None = None

    def take(self, size: int, now: float, keyframe: bool = False,
             droppable: bool = False) -> int:
        """How many copies the media packet of ``size`` bytes sent at ``now`` gets (0: none);
        books them. A keyframe's packets are copied whenever copies are on, borrowing up to
        ``burst_s`` of credit: losing one costs a keyframe request and a round trip of frozen
        picture. A droppable frame's packets (a receiver skips that frame when one is lost)
        get one copy, only from credit above half of ``burst_s``: what the base layer leaves;
        none where ``base_copies`` is over one. Other packets get one, and more (up to
        ``base_copies``) only from credit above that half: every packet of the base layer gets
        its first copy before any gets its second."""
        rate = self.rate_kbps * 1000 / 8
        elapsed = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        self._credit = min(self._credit + rate * elapsed, rate * self.burst_s)
        half = rate * self.burst_s / 2
        floor = -rate * self.burst_s if keyframe else half if droppable else 0.0
        if rate <= 0 or self._credit - size < floor or (droppable and self.base_copies > 1):
            return 0
        count = 1 if droppable else \
            1 + max(0, min(self.base_copies - 1, int((self._credit - size - half) // size)))
        self._credit -= count * size
        self.copied += count
        return count


PADDING_HISTORY = 4
"""Media packets that :class:`PaddingPackets` keeps: about two frames at the top rung, so a
resent packet lags its original by a frame or two (the receiver learns the copies' lag)."""


@dataclass(slots=True)
class _Recent:
    resent: int
    data: bytes


class PaddingPackets:
    """The newest media packets, for probing padding: the one resent the fewest times goes
    next, the newest among equals."""

    def __init__(self, keep: int = PADDING_HISTORY) -> None:
        self._recent: deque[_Recent] = deque(maxlen=keep)

    def sent(self, data: bytes) -> None:
        """Media packet ``data`` (plain RTP) left."""
        self._recent.append(_Recent(0, data))

    def take(self) -> bytes | None:
        """The packet to resend as padding now (None: no media sent yet); books it."""
        best: _Recent | None = None
        for entry in reversed(self._recent):
            if best is None or entry.resent < best.resent:
                best = entry
        if best is None:
            return None
        best.resent += 1
        return best.data


@dataclass(slots=True)
class _Sent:
    at: float
    keyframe_index: int
    droppable: bool = False
    resent_at: float | None = None
    nacked_at: float = float("-inf")
    nacks: int = 0
    stuck: bool = False


@dataclass(frozen=True, slots=True)
class RtxCounts:
    """What became of NACKed packets."""

    sent: int
    """Retransmitted."""
    late: int
    """Skipped: too old to be useful, or from before the newest keyframe."""
    unknown: int
    """Skipped: not in the history."""
    over_budget: int
    """Skipped: retransmissions would exceed their share of the budget."""
    repeated: int
    """Skipped: already resent less than a round trip ago."""
    stuck: int = 0
    """Of ``late``: base-layer packets sent since the newest keyframe, NACKed a
    ``STUCK_NACKS``-th time or more when too old to resend (each counted once): the viewer
    waits for a frame that cannot come."""
    echoed: int = 0
    """Retransmissions that left a second time (:meth:`RetransmitGate.echo`; not in
    ``sent``)."""

    @property
    def skipped(self) -> int:
        """All skipped."""
        return self.late + self.unknown + self.over_budget + self.repeated


STUCK_NACKS = 3
"""From this NACK of one packet on (counting it), a late one means a stuck viewer
(``RetransmitGate.on_stuck``): more NACKs than ours ever sends (``ReceiveConfig.nack_tries``),
fewer than libwebrtc sends within two round trips."""


ECHO_RTTS = 0.5
"""A NACK of a packet within this many round trips of the last one is its echo: our viewer
sends each NACK twice (``ReceiveConfig.nack_echo_ms``) in case one is lost. The first to come
is answered; an echo after it is ignored, uncounted (libwebrtc repeats a NACK only a round
trip later)."""


ECHO_SHARE = 0.5
"""Echoed retransmissions (:meth:`RetransmitGate.echo`) only while the last second's
retransmissions are within this share of the budget. With all of it, on mobile-3g-weak (loss
in bursts of 4 packets) echoes took the budget that first retransmissions needed: 1.3 to 2.6
times as many NACKed packets were skipped."""


class RetransmitGate:
    """Decides which NACKed packets are worth resending (see the module docstring)."""

    def __init__(self, budget_kbps: float, slack_s: float = 0.1, rtt_factor: float = 2.0,
                 history: int = 2048) -> None:
        self.budget_kbps = budget_kbps
        """Retransmitted bits per second allowed (change it at any time)."""
        self.rtt_s = 0.3
        """Round trip used for the age limit (update it from the reports)."""
        self.slack_s, self.rtt_factor = slack_s, rtt_factor
        self._history = history
        self._sent: dict[int, _Sent] = {}
        self._order: deque[int] = deque()
        self._keyframes = 0
        self._resent: deque[tuple[float, int]] = deque()
        self._resent_bytes = 0
        self._counts = {"sent": 0, "late": 0, "unknown": 0, "over_budget": 0, "repeated": 0,
                        "stuck": 0, "echoed": 0}
        self.echo_delay_s = 0.04
        """A retransmission of a base-layer packet leaves again this much later (0: never;
        see :meth:`echo`)."""
        self.on_stuck: Callable[[float], None] | None = None
        """Called (with ``now``) when the ``STUCK_NACKS``-th or a later NACK of a packet of the
        base layer sent since the newest keyframe comes too late to resend it, once per packet:
        the viewer is stuck before that frame, and only a keyframe frees it. libwebrtc re-NACKs
        a hole every ~100 ms for seconds before it asks for a keyframe (see ``ViewerLink``);
        ours NACKs a hole at most twice and asks for the keyframe itself."""

    def sent(self, seq: int, now: float, keyframe_start: bool, droppable: bool = False) -> None:
        """An original packet left; ``keyframe_start``: the first packet of a keyframe;
        ``droppable``: of a frame nothing refers to (temporal layer 1)."""
        if keyframe_start:
            self._keyframes += 1
        self._sent[seq] = _Sent(now, self._keyframes, droppable)
        self._order.append(seq)
        while len(self._order) > self._history:
            self._sent.pop(self._order.popleft(), None)

    def allow(self, seq: int, size: int, now: float) -> bool:
        """Whether to resend ``seq`` (``size`` bytes) now; books it if so."""
        record = self._sent.get(seq)
        if record is None:
            return self._count("unknown")
        if now - record.nacked_at < ECHO_RTTS * self.rtt_s:
            return False  # an echo of a NACK that came: already answered or refused
        record.nacked_at = now
        record.nacks += 1
        too_old = now - record.at > self.rtt_factor * self.rtt_s + self.slack_s
        if record.keyframe_index < self._keyframes:
            return self._count("late")  # the newer keyframe frees the viewer anyway
        if too_old:
            self._note_stuck(record, now)
            return self._count("late")
        if record.resent_at is not None and now - record.resent_at < self.rtt_s:
            return self._count("repeated")
        if not self._book(size, now):
            return self._count("over_budget")
        record.resent_at = now
        self._counts["sent"] += 1
        return True

    def echo(self, seq: int, size: int, now: float) -> bool:
        """Whether the retransmission of ``seq`` just allowed should leave a second time,
        ``echo_delay_s`` later; books it if so. Only a base-layer packet's (if its
        retransmission is lost too, the viewer's retry comes a round trip later, past its
        frame's time: a freeze; a droppable frame is skipped), and only within ``ECHO_SHARE``
        of the budget, so that echoes never cost another packet its first retransmission."""
        record = self._sent.get(seq)
        if self.echo_delay_s <= 0 or record is None or record.droppable:
            return False
        if self._book(size, now, ECHO_SHARE):
            self._counts["echoed"] += 1
            return True
        return False

    def _book(self, size: int, now: float, share: float = 1.0) -> bool:
        """Book ``size`` retransmitted bytes if the last second's stay within ``share`` of
        the budget."""
        while self._resent and now - self._resent[0][0] > 1.0:
            self._resent_bytes -= self._resent.popleft()[1]
        if (self._resent_bytes + size) * 8 / 1000 > share * self.budget_kbps:
            return False
        self._resent.append((now, size))
        self._resent_bytes += size
        return True

    def _note_stuck(self, record: _Sent, now: float) -> None:
        """A late NACK of a packet since the newest keyframe: see ``on_stuck``."""
        if record.droppable or record.stuck or record.nacks < STUCK_NACKS:
            return
        record.stuck = True
        self._counts["stuck"] += 1
        if self.on_stuck is not None:
            self.on_stuck(now)

    def _count(self, key: str) -> bool:
        self._counts[key] += 1
        return False

    def counts(self) -> RtxCounts:
        """Totals since the start."""
        return RtxCounts(**self._counts)
