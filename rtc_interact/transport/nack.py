"""Sans-IO NACK policy of the viewer's video receiver (used by ``transport/receive_buffer.py``).

The :class:`NackScheduler` notes sequence gaps and says which missing packets to NACK now: each at
most ``nack_tries`` times, a retry only after about one round trip, only while a retransmission
can still arrive before the frame would be abandoned, at most ``nack_list_max`` per RTCP packet.
It estimates the round trip from NACK-to-retransmission times (packets NACKed once; packets
NACKed twice only correct an underestimate). When the sender also sends redundant copies
(a packet that arrives twice), it counts them and learns how far they lag their originals:
a packet that comes within that lag of its hole's discovery may be a copy, so it is not
taken for a round trip. Each NACK goes twice (``ReceiveConfig.nack_echo_ms`` apart at least,
with the next NACK packet), so that one lost on the way does not cost a round trip: the host
answers whichever comes first. NACKs are not held for copies: a packet lost with its copy then
still has its retransmission in time (holding them, and playing out at the copies' lag, cost
freezes on cn-eu, where a retransmission lands within the playout delay).

A hole shows only when a later packet comes. When nothing comes at all (a loss burst, a jitter
step), :meth:`NackScheduler.on_quiet`, called by the owner's timer, guesses the packets that
would have come and ``due`` NACKs them at once: their retransmissions then leave about as soon
as those of a hole found by the next packet would, instead of a silence later. A sender ignores
a NACK of a packet it has not sent, and a guessed packet that turns up late costs one needless
retransmission.

Time comes in as ``now_ms`` (any monotonic millisecond clock); nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .receive_buffer import ReceiveConfig

OVERDUE_RTTS = 1.5
"""A retransmission not here this many RTTs after the first NACK is probably not coming: the
keyframe is asked for then, while the hole is still waited for (``receive_buffer``)."""
COPY_SLACK_MS = 10.0
"""A copy may come up to its lag plus this after its hole was found."""
COPY_MEMORY_MS = 2000.0
"""Copies are expected while one arrived this recently."""
COPY_LAG_DECAY = 0.98
"""The copies' lag follows the largest seen, decaying by this factor per copy."""
ARRIVALS_KEPT = 512
"""Arrival times kept to measure how far a copy lags its original."""
MAX_GAP = 1000
"""A jump of more sequence numbers than this is a stream restart, not loss; no NACKs for it."""
QUIET_INTERVALS = 4.0
"""A silence counts from this many mean packet intervals (and ``ReceiveConfig.quiet_ms``)."""
QUIET_GUESSES = 16
"""Sequence numbers guessed missing in one silence at most."""


@dataclass(slots=True)
class _Missing:
    first_seen: float
    tries: int = 0
    first_sent: float = float("-inf")
    last_sent: float = float("-inf")
    guessed: bool = False
    """Guessed missing in a silence, not yet shown by a later packet."""
    echo_at: float = float("inf")
    """When the last NACK of it is sent again (``ReceiveConfig.nack_echo_ms``)."""


class NackScheduler:
    """Which missing packets to NACK, and when (see the module docstring)."""

    def __init__(self, config: ReceiveConfig) -> None:
        self.config = config
        self.rtt_ms = config.initial_rtt_ms
        """Smoothed round trip from NACK to retransmission."""
        self.nacked = 0
        """Sequence numbers NACKed so far (a packet NACKed twice counts twice)."""
        self.nack_packets = 0
        """RTCP NACK packets asked for so far."""
        self.echoed = 0
        """NACKs sent a second time (``ReceiveConfig.nack_echo_ms``; not in ``nacked``)."""
        self.last_gap_ms = float("-inf")
        """When a packet was last found missing."""
        self.nack_from = float("-inf")
        """Only packets from this one on are NACKed (the frame buffer moves it)."""
        self.copies = 0
        """Packets that arrived a second time (redundant copies, needless retransmissions)."""
        self.copy_lag_ms = 0.0
        """How far copies lag their originals (a decaying maximum)."""
        self._last_copy_ms = float("-inf")
        self._highest: int | None = None
        self._missing: dict[int, _Missing] = {}
        self._arrived: dict[int, float] = {}
        self._last_arrival = float("-inf")
        self._interval_ms = 0.0
        """Mean time between packets (copies included; silences left out)."""
        self._guessed = 0
        """Sequence numbers guessed missing in the current silence."""

    def wait_ms(self) -> float:
        """How long a missing packet is waited for: the buffer's time bound."""
        c = self.config
        return min(c.max_wait_ms, max(c.min_wait_ms, c.rtt_factor * self.rtt_ms))

    def on_packet(self, seq: int, now_ms: float) -> None:
        """Packet ``seq`` (extended) arrived: note the gap before it, or that it filled one."""
        self._end_quiet(seq, now_ms)
        entry = self._missing.pop(seq, None)
        if entry is not None and entry.tries >= 1 and not entry.guessed and \
                now_ms - entry.first_seen > self._copy_window_ms(now_ms):
            self._learn_rtt(entry, now_ms)
        first = self._arrived.get(seq)
        if first is not None:
            self.copies += 1
            self.copy_lag_ms = max(now_ms - first, COPY_LAG_DECAY * self.copy_lag_ms)
            self._last_copy_ms = now_ms
            return
        self._arrived[seq] = now_ms
        if len(self._arrived) > ARRIVALS_KEPT:
            del self._arrived[next(iter(self._arrived))]
        if self._highest is None or seq - self._highest > MAX_GAP:
            self._highest = seq
            self._missing.clear()
            return
        for gap in range(self._highest + 1, seq):
            self._missing.setdefault(gap, _Missing(now_ms)).guessed = False
            self.last_gap_ms = now_ms
        self._highest = max(self._highest, seq)
        excess = len(self._missing) - self.config.max_packets
        for old in sorted(self._missing)[:max(0, excess)]:
            del self._missing[old]

    def on_quiet(self, now_ms: float) -> None:
        """No packet lately: once the silence passes ``quiet_ms`` and ``QUIET_INTERVALS`` mean
        intervals, the packets that would have come in it count as missing, guessed (``due``
        NACKs them; at most ``QUIET_GUESSES``). A guess is not a round-trip sample when its
        packet comes (it may only have been late), and a new packet drops the guesses after it
        (their packets may not have been sent)."""
        quiet = now_ms - self._last_arrival
        if not self.config.quiet_ms or self._highest is None or self._interval_ms <= 0 \
                or quiet < max(self.config.quiet_ms, QUIET_INTERVALS * self._interval_ms):
            return
        count = min(QUIET_GUESSES, int(quiet / self._interval_ms))
        for seq in range(self._highest + 1 + self._guessed, self._highest + 1 + count):
            self._missing.setdefault(seq, _Missing(now_ms, guessed=True))
        self._guessed = max(self._guessed, count)

    def _end_quiet(self, seq: int, now_ms: float) -> None:
        """A packet came: the interval's mean; a new one drops the guesses after it."""
        gap = now_ms - self._last_arrival
        self._last_arrival = now_ms
        if not self._interval_ms:
            self._interval_ms = gap if gap < self.config.quiet_ms else 0.0
        elif gap < max(self.config.quiet_ms, QUIET_INTERVALS * self._interval_ms):
            self._interval_ms += (gap - self._interval_ms) / 16
        if self._guessed and self._highest is not None and seq > self._highest:
            self._guessed = 0
            for old in [s for s, e in self._missing.items() if e.guessed and s > seq]:
                del self._missing[old]

    def _learn_rtt(self, entry: _Missing, now_ms: float) -> None:
        """A NACKed packet came: a clean sample if NACKed once; after two NACKs the answer to
        the first bounds the round trip from above, so it only corrects an underestimate (an
        estimate that keeps retrying too early would otherwise never see a clean sample)."""
        sample = max(now_ms - entry.first_sent, 1.0)
        if entry.tries == 1:
            self.rtt_ms += (sample - self.rtt_ms) / 4
        elif sample > self.rtt_ms:
            self.rtt_ms += (sample - self.rtt_ms) / 8

    def overdue(self, seq: int, now_ms: float) -> bool:
        """Whether the answer to the first NACK of missing ``seq`` is overdue (may never come)."""
        entry = self._missing.get(seq)
        return entry is not None and entry.tries >= 1 and (
            now_ms - entry.first_sent > OVERDUE_RTTS * self.rtt_ms)

    def first_seen(self, seq: int) -> float | None:
        """When ``seq`` was first known to be missing (None: not missing, or not tracked)."""
        entry = self._missing.get(seq)
        return None if entry is None else entry.first_seen

    def forget_below(self, seq: int) -> None:
        """Packets before ``seq`` are no longer wanted."""
        for old in [s for s in self._missing if s < seq]:
            del self._missing[old]

    def _copy_window_ms(self, now_ms: float) -> float:
        """How long after a hole is found its copy may still come (0: no copies lately)."""
        if now_ms - self._last_copy_ms > COPY_MEMORY_MS:
            return 0.0
        return self.copy_lag_ms + COPY_SLACK_MS

    def due(self, now_ms: float) -> list[int]:
        """Extended sequence numbers to NACK now, oldest first (empty: send nothing). Each NACK
        goes again, once, at the first call ``nack_echo_ms`` or more after it (its echo)."""
        c, wait, retry = self.config, self.wait_ms(), 1.25 * self.rtt_ms
        out: list[int] = []
        for seq in sorted(s for s in self._missing if s >= self.nack_from):
            entry = self._missing[seq]
            if now_ms >= entry.echo_at:
                entry.echo_at = float("inf")
                self.echoed += 1
            elif entry.tries >= c.nack_tries or now_ms - entry.last_sent < retry:
                continue
            elif now_ms - entry.first_seen + self.rtt_ms > wait:
                continue  # a retransmission would come after the frame is given up
            else:
                self._try(entry, now_ms)
            out.append(seq)
            if len(out) >= c.nack_list_max:
                break
        if out:
            self.nack_packets += 1
        return out

    def _try(self, entry: _Missing, now_ms: float) -> None:
        """Book a NACK of ``entry`` now, and its echo."""
        entry.tries += 1
        entry.last_sent = now_ms
        if entry.tries == 1:
            entry.first_sent = now_ms
        if self.config.nack_echo_ms:
            entry.echo_at = now_ms + self.config.nack_echo_ms
        self.nacked += 1
