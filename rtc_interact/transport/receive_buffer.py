"""Sans-IO video receive policy: time-bounded frame assembly, limited NACKs, keyframe recovery.

Time comes in as ``now_ms`` (any monotonic millisecond clock); nothing here does I/O. The aiortc
adapter is ``transport/aiortc_receiver.py``.

* :class:`~.nack.NackScheduler` (``transport/nack.py``) says which missing packets to NACK.
* :class:`FrameBuffer` assembles frames from packets and releases them in order, and only while
  the reference chain is intact: every packet since the last keyframe was delivered. When the
  first missing packet has been missing longer than the wait bound (``max(min_wait_ms,
  rtt_factor x RTT)``) and a later frame is complete, the frame at the hole is abandoned; after
  that (and at the start, and after a decoder error) delta frames are dropped until a complete
  keyframe arrives, and a keyframe is requested (PLI) at most once per ``pli_interval_ms``,
  backing off to 4x that while requests go unanswered, and not again while a keyframe is
  arriving. A keyframe is also asked for early, while a hole is still waited for, once the
  answer to its first NACK is 1.5 RTT overdue (senders often ignore a second NACK as too
  late). While waiting for a keyframe only the keyframe's own missing packets are NACKed.
* Droppable frames (temporal layers, see ``media.vp8``): when the frame at a hole is droppable
  (every packet of it that came says so) and the next frame is complete, due, and needs only
  what was released (a keyframe, or its TL0PICIDX follows the last base-layer frame's), the
  droppable frame is skipped when that next frame is due, with no keyframe wait: one frame
  less on screen instead of a freeze while a retransmission crosses a long path. A complete
  keyframe after a hole is released the same way, when it is due, whatever came before it.
* Playout delay: while packets go missing (and ``loss_memory_ms`` after), a complete frame is
  released ``playout_rtt_factor x RTT - playout_margin_ms`` (at most ``playout_max_ms``) after
  its expected arrival (its RTP time plus the fastest recent transit), so a frame held up by
  one retransmission is at most a little late on screen; the delay grows and shrinks by at most
  10 ms per frame. On a clean link it is zero, except from the start: once the ICE checks'
  round trip is known (:meth:`FrameBuffer.on_path_rtt`), the delay is made from it until a
  packet goes missing, for ``loss_memory_ms`` at most (``playout_from_start``). The first
  frame goes at once.

Frames are released when a packet arrives (``add``) or when the owner polls (``poll``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..errors import ConfigurationError
from .nack import NackScheduler
from .queue_report import QueueWatchConfig
from .train import TrainMeterConfig

SEQ_SPAN = 1 << 16
LAG_WINDOW = 64
"""Frames over which the fastest arrival (relative to the RTP clock) sets the playout clock."""
VIDEO_CLOCK_KHZ = 90
PLI_BACKOFF_STEPS = 2
"""Unanswered PLIs double the interval to the next, up to 2**2 x ``pli_interval_ms``: on an
overloaded link every keyframe asked for adds to the overload."""
PLAYOUT_SLEW_MS = 10.0
"""Playout delay changes by at most this much per frame, so it grows without a visible stall."""


@dataclass(frozen=True, slots=True)
class ReceiveConfig:
    """How the viewer's video receiver waits, NACKs and recovers."""

    min_wait_ms: float = 150.0
    """Shortest time a missing packet is waited for once a later frame is complete."""
    rtt_factor: float = 2.5
    """The wait bound is ``max(min_wait_ms, rtt_factor x RTT)`` (2.5 leaves room for 2 NACKs)."""
    max_wait_ms: float = 1000.0
    """Longest wait, whatever the round trip."""
    initial_rtt_ms: float = 200.0
    """Round-trip estimate until the first retransmission is measured (high errs on the safe
    side: retries wait longer, and the estimate converges from retransmissions NACKed once)."""
    nack_tries: int = 2
    """NACKs per missing packet at most."""
    nack_list_max: int = 32
    """Sequence numbers per RTCP NACK packet at most."""
    nack_echo_ms: float = 30.0
    """Each NACK is sent again, once, with the first NACK packet this long or more after it
    (0: never). A NACK lost on the way (3% each way on abr-300-loss3) cost a retry 1.25 round
    trips later, whose answer came too late for the frame: a freeze and a keyframe. The host
    answers the first of the two it gets and ignores the other (``RetransmitGate``)."""
    pli_interval_ms: float = 300.0
    """Keyframe requests (PLI) at most this often."""
    playout_rtt_factor: float = 1.0
    """While packets go missing, frames are released ``playout_rtt_factor x RTT -
    playout_margin_ms`` after their expected arrival, so that a frame waiting for a retransmitted
    packet is at most a little late (0: never delay)."""
    playout_margin_ms: float = 30.0
    """How much less than a round trip the delay is. A frame held up by one retransmission is
    late by the time until its hole is noticed (up to a frame or two: the next packet reveals
    it) plus a round trip, so it comes ``margin`` + that detection time after its playout
    time; a gap up to 150 ms above the frame interval is no freeze by the W3C rule
    (gap > max(3 x mean, mean + 150 ms)). Measured on cn-eu: detection ~80 ms, so 80 ms of margin
    made 190 ms gaps (freezes) and 30 ms leaves ~40 ms to spare."""
    playout_max_ms: float = 200.0
    """Ceiling of that delay: past it, glass-to-glass latency (target: one-way delay + 300 ms)
    costs more than the freezes it would hide (on long or queue-laden paths, where a round
    trip is 300-500 ms, a retransmission cannot be hidden within that budget anyway)."""
    loss_memory_ms: float = 30_000.0
    """How long after the last missing packet that playout delay stays (10 s let a 1%-loss
    link, cn-eu, drop it between two losses, and the next loss froze the picture)."""
    playout_from_start: bool = True
    """Hold frames by the playout delay from the start (:meth:`FrameBuffer.on_path_rtt`), not
    from the first missing packet: on the lossy profiles the first loss often came in the first
    second, with no delay yet, and its retransmission froze the picture (``benchmarks/RESULTS.md``
    §33: in 50 runs of 12 s on four lossy profiles, freezes in the first half second went from
    8 to 2, and all freezes from 35 to 21)."""
    quiet_ms: float = 60.0
    """After this long with no packet at all (and at least ``nack.QUIET_INTERVALS`` mean packet
    intervals), the packets that would have come meanwhile are NACKed without waiting for the
    next packet to show the hole (0: never). On mobile-3g-weak a loss burst or a jitter step
    left 170-300 ms without a packet; the hole showed only when it ended, and its
    retransmission came a round trip after that, 150-300 ms past the frame's playout time."""
    max_packets: int = 2048
    """Packets held at most (the oldest go first)."""
    socket_rcvbuf: int = 4 * 1024 * 1024
    """SO_RCVBUF asked for on the ICE sockets (the kernel may grant less; 0: leave aioice's)."""
    queue_report: QueueWatchConfig = field(default_factory=QueueWatchConfig)
    """When the viewer tells the host of a queue on the path (``transport.queue_report``;
    ``report_ms`` 0: never)."""
    train: TrainMeterConfig = field(default_factory=TrainMeterConfig)
    """When the viewer measures the host's packet trains and reports them (``transport.train``;
    ``min_packets`` 0: never)."""

    def __post_init__(self) -> None:
        if not 0 < self.min_wait_ms <= self.max_wait_ms:
            raise ConfigurationError("need 0 < min_wait_ms <= max_wait_ms")
        if self.rtt_factor < 1 or self.initial_rtt_ms <= 0:
            raise ConfigurationError("rtt_factor must be >= 1 and initial_rtt_ms > 0")
        if self.nack_tries < 0 or self.nack_list_max < 1 or self.nack_echo_ms < 0:
            raise ConfigurationError(
                "nack_tries and nack_echo_ms must be >= 0 and nack_list_max >= 1")
        if min(self.playout_rtt_factor, self.playout_margin_ms, self.loss_memory_ms,
               self.playout_max_ms) < 0:
            raise ConfigurationError("playout settings must be >= 0")
        if self.quiet_ms < 0:
            raise ConfigurationError("quiet_ms must be >= 0")
        if self.pli_interval_ms <= 0 or self.max_packets < 16 or self.socket_rcvbuf < 0:
            raise ConfigurationError("pli_interval_ms > 0, max_packets >= 16, socket_rcvbuf >= 0")


class SeqUnwrapper:
    """Wrapping RTP counters (16-bit sequence numbers by default) to an integer line."""

    def __init__(self, span: int = SEQ_SPAN) -> None:
        self._span = span
        self._last: int | None = None

    def unwrap(self, seq: int) -> int:
        """The extended number of ``seq``."""
        if self._last is None:
            self._last = seq + self._span  # room below for late packets of the first cycle
            return self._last
        delta = (seq - self._last) % self._span
        if delta >= self._span // 2:
            delta -= self._span
        extended = self._last + delta
        self._last = max(self._last, extended)
        return extended


@dataclass(frozen=True, slots=True)
class Packet:
    """What the buffer needs of one RTP packet."""

    seq: int
    """Extended sequence number (see :class:`SeqUnwrapper`)."""
    timestamp: int
    """RTP timestamp: packets of one frame share it."""
    marker: bool
    """RTP marker bit: the last packet of a frame."""
    start: bool
    """The codec says this packet begins a frame (False: unknown or no)."""
    keyframe: bool
    """The codec says this packet begins a keyframe."""
    data: bytes
    """Depayloaded bytes (empty: padding, belongs to no frame)."""
    arrived_ms: float = 0.0
    """When it arrived."""
    droppable: bool = False
    """The codec says its frame references only the base layer and is referenced by none."""
    tl0: int | None = None
    """The codec's 8-bit index of the newest base-layer frame (None: not sent)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A complete encoded frame, safe to decode (its reference chain is intact)."""

    data: bytes
    """The frame's bytes, packets joined in order."""
    timestamp: int
    """RTP timestamp."""
    keyframe: bool
    """Whether it is a keyframe."""


@dataclass(slots=True)
class BufferCounters:
    """What the buffer did so far."""

    frames: int = 0
    """Frames released to the decoder."""
    abandoned: int = 0
    """Times the frame at a hole was given up (the picture then waits for a keyframe)."""
    dropped_waiting_keyframe: int = 0
    """Complete frames thrown away because their reference chain was broken."""
    keyframes_requested: int = 0
    """PLIs asked for."""
    late_packets: int = 0
    """Packets that came after their frame was released or given up (copies of packets
    already used included)."""
    duplicates: int = 0
    """Packets that came again while their frame was still held (a copy or a needless
    retransmission; the first arrival counts)."""
    skipped: int = 0
    """Times droppable frames with a hole were skipped because the next frame was due (or the
    frames before a complete keyframe, when it was due)."""


@dataclass(slots=True)
class _Span:
    first: int
    last: int
    complete: bool


class FrameBuffer:
    """Frames out in order, only with an intact reference chain (see the module docstring)."""

    def __init__(self, config: ReceiveConfig, nack: NackScheduler | None = None) -> None:
        self.config = config
        self.nack = nack or NackScheduler(config)
        self.counters = BufferCounters()
        self._packets: dict[int, Packet] = {}
        self._next: int | None = None
        self._waiting_keyframe = True
        self._last_pli: float | None = None
        """None until the first packet: the sender's first keyframe is on its way then."""
        self._keyframe_seen_since_pli = False
        self._early_hole: int | None = None
        """A hole whose first NACK went unanswered: a keyframe is asked for while waiting."""
        self._want_early = False
        self._pli_streak = 0
        """PLIs since the last keyframe was released: each doubles the wait for the next one."""
        self._timestamps = SeqUnwrapper(1 << 32)
        self._lags: deque[float] = deque(maxlen=LAG_WINDOW)
        self._delay = 0.0
        """Playout delay now: follows ``playout_delay_ms`` by at most PLAYOUT_SLEW_MS a frame."""
        self._path_rtt: tuple[float, float] | None = None
        """(when, round trip ms) of the ICE checks' round trip (``on_path_rtt``)."""
        self._tl0: int | None = None
        """TL0PICIDX of the newest base-layer frame released (None: unknown)."""

    @property
    def delay_ms(self) -> float:
        """The playout delay the newest frame was released with."""
        return self._delay

    @property
    def waiting_for_keyframe(self) -> bool:
        """Whether delta frames are being dropped until a keyframe."""
        return self._waiting_keyframe

    def add(self, packet: Packet, now_ms: float) -> list[Frame]:
        """Take a packet; return the frames that can now be decoded, in order."""
        if self._next is not None and packet.seq < self._next:
            self.counters.late_packets += 1
            return []
        if packet.seq in self._packets:  # a copy: the first arrival sets the playout clock
            self.counters.duplicates += 1
            return self._release(now_ms)
        self._packets[packet.seq] = packet
        if self._last_pli is None:
            self._last_pli = now_ms
        if packet.keyframe:
            self._keyframe_seen_since_pli = True
        self._trim()
        return self._release(now_ms)

    @property
    def holding(self) -> bool:
        """Whether any packet is held (a frame waiting for its time, its packets or a hole)."""
        return bool(self._packets)

    def poll(self, now_ms: float) -> list[Frame]:
        """Release what the passage of time allows (abandon a hole that waited too long)."""
        return self._release(now_ms)

    def on_decoder_error(self) -> None:
        """The decoder failed: its state is suspect until the next keyframe."""
        self._enter_keyframe_wait()

    def want_keyframe(self, now_ms: float) -> bool:
        """Whether to send a PLI now (rate limited; counts it when True)."""
        if not (self._waiting_keyframe or self._want_early):
            return False
        interval = self.config.pli_interval_ms * 2 ** min(self._pli_streak, PLI_BACKOFF_STEPS)
        if self._keyframe_seen_since_pli:
            interval = max(interval, self.nack.wait_ms() + self.nack.rtt_ms)
        if self._last_pli is not None and now_ms - self._last_pli < interval:
            return False
        self._last_pli = now_ms
        self._keyframe_seen_since_pli = False
        self._want_early = False
        self._pli_streak += 1
        self.counters.keyframes_requested += 1
        return True

    def _enter_keyframe_wait(self) -> None:
        if not self._waiting_keyframe:
            self._waiting_keyframe = True
            self._keyframe_seen_since_pli = False

    def _trim(self) -> None:
        excess = len(self._packets) - self.config.max_packets
        if excess > 0:
            cut = sorted(self._packets)[excess]
            self._drop_below(cut)
            self._enter_keyframe_wait()

    def _release(self, now_ms: float) -> list[Frame]:
        out: list[Frame] = []
        if self._waiting_keyframe:
            self._age_out(now_ms)
        for _ in range(len(self._packets) + 1):
            head = self._head()
            if head is None:
                break
            span = self._span(head)
            if span.complete:
                if not self._due(span, now_ms):
                    break
                out.append(self._deliver(span))
                continue
            after = self._skippable_gap(head)
            if after is not None:
                if not self._due(self._span(after), now_ms, commit=False):
                    break
                self._skip_to(after)
            elif not self._abandon_if_stale(head, span, now_ms):
                break
        return out

    def _age_out(self, now_ms: float) -> None:
        """While no keyframe is held, packets older than the wait bound cannot help: drop them."""
        if any(p.keyframe for p in self._packets.values()):
            return
        stale = [s for s, p in self._packets.items() if p.arrived_ms < now_ms - self.nack.wait_ms()]
        if stale:
            self._drop_below(max(stale) + 1)

    def on_path_rtt(self, rtt_ms: float, now_ms: float) -> None:
        """The path's round trip from the ICE checks (``playout_from_start``): from now until a
        packet goes missing, frames are held by a playout delay made from it (the NACKs'
        round trip is still a guess, ``initial_rtt_ms``)."""
        if self.config.playout_from_start and self._path_rtt is None:
            self._path_rtt = now_ms, rtt_ms

    def playout_delay_ms(self, now_ms: float) -> float:
        """How long after its expected arrival a frame is released (0 while nothing is lost,
        except from the start with ``playout_from_start``)."""
        c, rtt = self.config, self.nack.rtt_ms
        if now_ms - self.nack.last_gap_ms > c.loss_memory_ms:
            start = self._path_rtt
            if start is None or now_ms - start[0] > c.loss_memory_ms:
                return 0.0
            rtt = start[1]  # nothing missing yet: the path's own round trip
        delay = c.playout_rtt_factor * rtt - c.playout_margin_ms
        return min(c.playout_max_ms, max(0.0, delay))

    def _due(self, span: _Span, now_ms: float, commit: bool = True) -> bool:
        """Whether the complete frame ``span`` may go: its playout time has come (``commit``:
        it goes now, so its arrival joins the playout clock)."""
        target = self.playout_delay_ms(now_ms)
        delay = max(min(target, self._delay + PLAYOUT_SLEW_MS), self._delay - PLAYOUT_SLEW_MS)
        if not self.counters.frames:
            delay = 0.0  # the first frame goes at once; the delay grows from the next
        first = self._packets[span.first]
        arrived = max(self._packets[s].arrived_ms for s in range(span.first, span.last + 1))
        lag = arrived - self._timestamps.unwrap(first.timestamp) / VIDEO_CLOCK_KHZ
        if delay > 0 and now_ms < arrived - lag + min(self._lags, default=lag) + delay:
            return False
        if commit:
            self._lags.append(lag)
            self._delay = delay
        return True

    def _skippable_gap(self, head: int) -> int | None:
        """Where the next frame to release starts, if the frames from ``head`` to it may be
        skipped (see the module docstring): the next frame, when it is complete, needs only
        what was released and everything before it is droppable; else the first complete
        keyframe. None otherwise."""
        if self._waiting_keyframe or self._tl0 is None:
            return None
        after = min((s for s, p in self._packets.items() if s > head and p.start), default=None)
        if after is None:
            return None
        nxt = self._packets[after]
        expected = self._tl0 if nxt.droppable else (self._tl0 + 1) & 0xFF
        if nxt.tl0 == expected and self._span(after).complete and all(
                p.droppable for s, p in self._packets.items() if head <= s < after):
            return after
        key = min((s for s, p in self._packets.items() if s > head and p.keyframe), default=None)
        return key if key is not None and self._span(key).complete else None

    def _skip_to(self, seq: int) -> None:
        """Drop the droppable frames before ``seq`` and go on from there."""
        self.counters.skipped += 1
        self._drop_below(seq, waiting_keyframe=False)

    def _head(self) -> int | None:
        """Where the next frame must start: after the last one, or at the first keyframe held."""
        if not self._waiting_keyframe:
            while self._next is not None and self._is_padding(self._next):
                del self._packets[self._next]
                self._next += 1
            return self._next
        keys = sorted(s for s, p in self._packets.items() if p.keyframe)
        complete = [k for k in keys if self._span(k).complete]
        head = complete[0] if complete else (keys[0] if keys else None)
        # only a keyframe's packets are worth NACKing now; with none in sight, none are
        self.nack.nack_from = float("inf") if head is None else head
        return head

    def _is_padding(self, seq: int) -> bool:
        packet = self._packets.get(seq)
        return packet is not None and not packet.data and not packet.start

    def _span(self, first: int) -> _Span:
        """The frame starting at ``first``: how far its packets reach, and whether all are in."""
        head = self._packets.get(first)
        if head is None:
            return _Span(first, first - 1, False)
        seq = first
        for _ in range(self.config.max_packets):
            packet = self._packets.get(seq + 1)
            if self._packets[seq].marker:
                return _Span(first, seq, True)
            if packet is None:
                return _Span(first, seq, False)
            if packet.timestamp != head.timestamp or packet.start:
                return _Span(first, seq, True)
            seq += 1
        return _Span(first, seq, False)

    def _deliver(self, span: _Span) -> Frame:
        packets = [self._packets.pop(s) for s in range(span.first, span.last + 1)]
        if self._waiting_keyframe:
            self._drop_below(span.first)
            self._waiting_keyframe = False
            self._pli_streak = 0
            self.nack.nack_from = float("-inf")
        self._next = span.last + 1
        self._want_early = False
        if not packets[0].droppable and packets[0].tl0 is not None:
            self._tl0 = packets[0].tl0
        self.nack.forget_below(self._next)
        self.counters.frames += 1
        return Frame(b"".join(p.data for p in packets), packets[0].timestamp,
                     packets[0].keyframe)

    def _abandon_if_stale(self, head: int, span: _Span, now_ms: float) -> bool:
        """Give up the frame at ``head`` if its hole is too old and a later frame is complete."""
        hole = span.last + 1
        seen = self.nack.first_seen(hole)
        if seen is not None and now_ms - seen < self.nack.wait_ms():
            if (hole != self._early_hole and self.nack.overdue(hole, now_ms)
                    and self._complete_frame_after(hole)):
                self._early_hole, self._want_early = hole, True
            return False
        if not self._complete_frame_after(hole):
            return False
        self.counters.abandoned += 1
        self._drop_below(hole + 1)
        self._enter_keyframe_wait()
        self._keyframe_seen_since_pli = any(p.keyframe for p in self._packets.values())
        return True

    def _complete_frame_after(self, seq: int) -> bool:
        for end in sorted((s for s, p in self._packets.items() if s > seq and p.marker),
                          reverse=True):
            start = end
            while start - 1 in self._packets and not self._packets[start].start and (
                    self._packets[start - 1].timestamp == self._packets[end].timestamp):
                start -= 1
            if start > seq and (self._packets[start].start or start - 1 in self._packets):
                return True
        return False

    def _drop_below(self, seq: int, waiting_keyframe: bool = True) -> None:
        """Discard every packet before ``seq``, counting the complete frames among them as
        dropped for a broken reference chain (unless skipped: ``waiting_keyframe`` False)."""
        old = sorted(s for s in self._packets if s < seq)
        if waiting_keyframe:
            self.counters.dropped_waiting_keyframe += len(
                {self._packets[s].timestamp for s in old if self._packets[s].marker})
        for s in old:
            del self._packets[s]
        if self._next is None or self._next < seq:
            self._next = seq
        self.nack.forget_below(seq)
