"""Encode once per rung of a ladder; every viewer's sender takes the packets of its rung.

Stock aiortc gives each viewer's ``RTCRtpSender`` its own encoder, so the host's CPU grows with
the number of viewers. Here one :class:`LadderEncoder` pulls each source frame once, scales it to
every rung of a :class:`Ladder`, encodes it with libvpx VP8 at the rung's fixed bitrate, and hands
the resulting ``av.Packet``s to per-viewer :class:`RungTrack`s. aiortc's sender packetizes
pre-encoded packets without encoding them again (``Encoder.pack``).

* Timestamps: every rung's packets carry the source frame's time on a 90 kHz clock, so a viewer
  switching rungs sees one continuous RTP timeline.
* Keyframes: only on request (a join, a switch, a PLI/FIR routed by ``transport.aiortc_sender``),
  at most one per rung every ``Ladder.keyframe_gap_s``; a request inside the gap is kept and
  served when the gap ends. Rates never change mid-stream, so no encoder is ever rebuilt.
* Switching: ``RungTrack.switch(rung)`` asks the target rung for a keyframe and moves the viewer
  at that keyframe; until then it keeps the packets of its current rung.
* Temporal layers (``Ladder.temporal_layers``): each rung encodes two, every other frame
  referencing only the base layer and updating nothing (libvpx's two-layer pattern, in
  error-resilient mode so that no probability update outlives a frame). A receiver may drop such
  a frame when a packet of it is lost instead of freezing until a retransmission comes, which on
  a 300 ms path is after the frame was due; the base layer gets ``Ladder.base_layer_share`` of
  the rate, so most lost packets fall in droppable frames. Each packet says whether its frame is
  droppable (``media.vp8.mark_layer``, read from the frame's header by ``media.vp8.droppable``);
  the packetizer puts that in the RTP payload descriptor.
* Stamps (``media/stamp.py``): a scaled frame gets the source frame's stamp burned again at its
  own size, so the viewer can read frame number and capture time on every rung.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from ..errors import ConfigurationError
from .stamp import COLUMNS, burn_stamp, luma_of, read_stamp
from .vp8 import droppable, mark_layer, marked_droppable

log = logging.getLogger(__name__)

CLOCK_RATE = 90_000
"""RTP clock of video: every rung's packets carry pts in 1/90000 s."""
TIME_BASE = fractions.Fraction(1, CLOCK_RATE)
_MIN_STAMP_WIDTH = COLUMNS * 4


@dataclass(frozen=True, slots=True)
class Rung:
    """One encoding of the source."""

    width: int
    """Frame width in pixels (even)."""
    height: int
    """Frame height in pixels (even)."""
    fps: float
    """Highest frame rate; source frames beyond it are skipped on this rung."""
    kbps: int
    """Target bitrate in kbit/s (fixed for the life of the encoder)."""

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise ConfigurationError(f"rung size {self.width}x{self.height} must be even, >= 16")
        if not 1 <= self.fps <= 120:
            raise ConfigurationError(f"rung fps must be between 1 and 120, got {self.fps}")
        if not 30 <= self.kbps <= 50_000:
            raise ConfigurationError(f"rung bitrate must be 30..50000 kbps, got {self.kbps}")


@dataclass(frozen=True, slots=True)
class Ladder:
    """The rungs the host encodes, best first (index 0 is the top rung)."""

    rungs: tuple[Rung, ...]
    """At least one rung, ordered from most to fewest pixels."""
    keyframe_gap_s: float = 0.3
    """Shortest time between two keyframes of one rung; requests inside it wait."""
    join_frames: int = 10
    """A viewer whose video starts within this many frames of its rung's newest keyframe starts
    from that keyframe (and the frames since) at once, instead of asking for a new one; with
    ``keyframe_gap_s`` no longer than these frames, a joiner never waits for the gap."""
    queue_frames: int = 8
    """Encoded frames a viewer's sender may fall behind before it skips to the next keyframe."""
    cpu_used: int = 8
    """libvpx speed setting (realtime deadline; higher is faster and blurrier, up to 16)."""
    temporal_layers: bool = True
    """Encode two temporal layers, so that every other frame is droppable (see above)."""
    base_layer_share: float = 0.4
    """With temporal layers, the share of a rung's rate given to its base layer (half the
    frames, each a reference); the droppable frames get the rest. A packet lost from a
    droppable frame costs our viewer one frame, one lost from a base-layer frame a wait for its
    retransmission, often a freeze on a long path. 0.4 instead of 0.6 froze 42 times against
    64 over 18 congested-evening runs and 16 against 36 over ten of abr-300-loss3; libvpx keeps
    to the split, and the test pattern's PSNR moved by 0.6 dB at most
    (``benchmarks/RESULTS.md`` §42)."""

    def __post_init__(self) -> None:
        if not self.rungs:
            raise ConfigurationError("a ladder needs at least one rung")
        pixels = [r.width * r.height for r in self.rungs]
        if pixels != sorted(pixels, reverse=True):
            raise ConfigurationError("ladder rungs must be ordered from most to fewest pixels")
        if self.keyframe_gap_s < 0 or self.queue_frames < 1 or not 0 <= self.cpu_used <= 16:
            raise ConfigurationError("keyframe_gap_s >= 0, queue_frames >= 1, cpu_used 0..16")
        if not 0 < self.base_layer_share < 1:
            raise ConfigurationError("base_layer_share must be between 0 and 1")


def _even(value: float) -> int:
    return max(16, round(value / 2) * 2)


def rung_kbps(width: int, height: int, fps: float) -> int:
    """A bitrate that looks fine for VP8 at this size (1280x720 at 30 fps: 1500 kbps)."""
    share = (width * height) / (1280 * 720)
    rate = 1500 * share**0.75 * min(1.0, fps / 30) ** 0.5
    return max(80, int(rate / 10 + 0.5) * 10)


def default_ladder(width: int, height: int, fps: float, rungs: int = 3) -> Ladder:
    """Top rung at the source size, then halves, all at the source frame rate (a bottom rung at
    15 fps made every 1 s window of a viewer on it miss a 20 fps floor; at 176x100 the full
    rate costs no more than the 80 kbps floor). No rung is made narrower than 176 px, the
    narrowest frame that carries a readable stamp."""
    chosen: list[Rung] = []
    for i in range(rungs):
        scale = max(0.5**i, min(1.0, _MIN_STAMP_WIDTH / width))
        w, h = _even(width * scale), _even(height * scale)
        if chosen and w >= chosen[-1].width:
            break
        chosen.append(Rung(w, h, fps, rung_kbps(w, h, fps)))
    return Ladder(tuple(chosen))


_DEFAULTS = Ladder((Rung(176, 96, 30, 100),))


class KeyframeGate:
    """Rate-limits keyframe requests of one rung (sans-IO: time comes in as ``now``)."""

    def __init__(self, gap_s: float) -> None:
        self.gap_s = gap_s
        self.pending = True  # an encoder's first frame is a keyframe anyway
        self.last: float | None = None

    def request(self) -> None:
        """Ask for a keyframe as soon as the gap allows."""
        self.pending = True

    def take(self, now: float) -> bool:
        """Whether the frame encoded at ``now`` should be a keyframe."""
        if not self.pending or (self.last is not None and now - self.last < self.gap_s):
            return False
        self.pending = False
        self.last = now
        return True


@dataclass(frozen=True, slots=True)
class RungStats:
    """What one rung has encoded."""

    index: int
    """Position in the ladder (0 is the top)."""
    rung: Rung
    """Its configuration."""
    frames: int
    """Frames encoded."""
    keyframes: int
    """Keyframes encoded."""
    bytes: int
    """Encoded bytes."""
    kbps: float
    """Encoded rate since the previous ``stats()`` call."""
    viewers: int
    """Viewers on this rung now."""


@dataclass(slots=True)
class _RungState:
    rung: Rung
    gate: KeyframeGate
    codec: av.video.codeccontext.VideoCodecContext
    scaler: av.video.reformatter.VideoReformatter = field(
        default_factory=av.video.reformatter.VideoReformatter)
    next_due: int | None = None
    frames: int = 0
    keyframes: int = 0
    bytes: int = 0
    sample: tuple[float, int] = field(default_factory=lambda: (time.monotonic(), 0))
    gop: list[av.Packet[Any]] = field(default_factory=list)
    """The newest keyframe and the frames since, while at most ``join_frames`` long."""


def _open_codec(rung: Rung, ladder: Ladder) -> av.video.codeccontext.VideoCodecContext:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = rung.width, rung.height, "yuv420p"
    codec.time_base = TIME_BASE
    codec.framerate = fractions.Fraction(rung.fps).limit_denominator(1001)
    codec.bit_rate = rung.kbps * 1000
    codec.gop_size = 1 << 30  # keyframes only when asked for
    codec.qmin, codec.qmax = 2, 56
    codec.thread_count = 1
    bits = str(rung.kbps * 1000)
    options = {
        "deadline": "realtime", "cpu-used": str(ladder.cpu_used), "lag-in-frames": "0",
        "minrate": bits, "maxrate": bits, "bufsize": bits, "undershoot-pct": "100",
        "overshoot-pct": "15", "static-thresh": "1", "partitions": "0", "auto-alt-ref": "0",
    }
    if ladder.temporal_layers:  # kbps per layer, cumulative; mode 2: base layer on even frames
        base = max(1, int(rung.kbps * ladder.base_layer_share))
        options["error-resilient"] = "default"
        options["ts-parameters"] = (
            f"ts_number_layers=2:ts_target_bitrate={base},{rung.kbps}:ts_rate_decimator=2,1:"
            "ts_periodicity=2:ts_layer_id=0,1:ts_layering_mode=2")
    codec.options = options
    codec.open()
    return codec


def _pts90k(frame: av.VideoFrame) -> int:
    if frame.pts is None or frame.time_base is None:
        return int(time.monotonic() * CLOCK_RATE)
    return int(frame.pts * frame.time_base * CLOCK_RATE)


class LadderEncoder:
    """Pulls frames from ``source`` once, encodes every rung, and feeds the subscribed tracks.

    ``ladder=None`` builds :func:`default_ladder` from the first frame's size at ``fps``, so an
    app's source (a file, a camera) keeps its own size on the top rung. Started by the first
    :meth:`prepare` or :meth:`subscribe`; use ``aclose()`` to stop (the source is not stopped).
    """

    def __init__(self, source: MediaStreamTrack, ladder: Ladder | None = None,
                 fps: float = 30.0) -> None:
        self.source, self.fps = source, fps
        self.ladder: Ladder | None = None
        """The ladder in use (None until the first frame when it is built from it)."""
        self._rungs: list[_RungState] = []
        if ladder is not None:
            self._use(ladder)
        self._tracks: set[RungTrack] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def subscribe(self, rung: int = 0) -> RungTrack:
        """A new viewer's track, starting on ``rung`` at its next keyframe."""
        if self._closed:
            raise MediaStreamError("ladder encoder is closed")
        self._check(rung)
        track = RungTrack(self, rung)
        self._tracks.add(track)
        self._start()
        return track

    def prepare(self, rung: int) -> None:
        """A viewer is on its way to ``rung``: start encoding if no one has subscribed yet,
        and ask that rung for a keyframe, so that one is in its join cache (``joining``)."""
        if self._closed:
            return
        self._start()
        self.request_keyframe(rung)

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def request_keyframe(self, rung: int) -> None:
        """Ask ``rung`` for a keyframe (rate-limited by ``Ladder.keyframe_gap_s``)."""
        self._check(rung)
        if self._rungs:  # before the first frame: the first frame is a keyframe anyway
            self._rungs[rung].gate.request()

    def _use(self, ladder: Ladder) -> None:
        self.ladder = ladder
        self._rungs = [
            _RungState(r, KeyframeGate(ladder.keyframe_gap_s),
                       _open_codec(r, ladder))
            for r in ladder.rungs
        ]

    def _check(self, rung: int) -> None:
        count = len(self._rungs) or 1  # before the ladder is known only the top rung exists
        if not 0 <= rung < count:
            raise ConfigurationError(f"rung {rung} outside 0..{count - 1}")

    @property
    def queue_frames(self) -> int:
        """Frames a viewer's sender may fall behind (``Ladder.queue_frames``)."""
        return (self.ladder or _DEFAULTS).queue_frames

    def _unsubscribe(self, track: RungTrack) -> None:
        self._tracks.discard(track)

    def stats(self) -> tuple[RungStats, ...]:
        """Per rung: frames, keyframes, bytes, rate since the previous call, viewers."""
        now = time.monotonic()
        out = []
        for i, state in enumerate(self._rungs):
            then, before = state.sample
            state.sample = (now, state.bytes)
            viewers = sum(1 for t in self._tracks if t.rung == i)
            kbps = (state.bytes - before) * 8 / 1000 / max(now - then, 1e-3)
            out.append(RungStats(i, state.rung, state.frames, state.keyframes, state.bytes,
                                 kbps, viewers))
        return tuple(out)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await self.source.recv()
                if not isinstance(frame, av.VideoFrame):
                    raise MediaStreamError("the ladder's source must yield video frames")
                if self.ladder is None:
                    self._use(default_ladder(frame.width, frame.height, self.fps))
                pts = _pts90k(frame)
                now = time.monotonic()
                jobs = [self._job(i, frame, pts, now) for i in range(len(self._rungs))]
                encoded = await asyncio.gather(*(
                    loop.run_in_executor(None, job) if job is not None else _none()
                    for job in jobs
                ))
                self._remember(encoded)
                for track in list(self._tracks):
                    track._offer(encoded)
        except MediaStreamError:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ladder encoder failed")
        finally:
            for track in list(self._tracks):
                track.stop()

    def _remember(self, encoded: Sequence[av.Packet[Any] | None]) -> None:
        limit = self.ladder.join_frames if self.ladder else 0
        for state, packet in zip(self._rungs, encoded, strict=True):
            if packet is None:
                continue
            if packet.is_keyframe:
                state.gop = [packet]
            elif state.gop:
                state.gop = [*state.gop, packet] if len(state.gop) < limit else []

    def joining(self, rung: int) -> list[av.Packet[Any]]:
        """Where a viewer starting now on ``rung`` begins: the newest keyframe and the frames
        since, if recent enough; else nothing, and a keyframe is requested."""
        cached = list(self._rungs[rung].gop) if self._rungs else []
        if not cached:
            self.request_keyframe(rung)
        return cached

    def _job(self, index: int, frame: av.VideoFrame, pts: int,
             now: float) -> _EncodeJob | None:
        state = self._rungs[index]
        interval = CLOCK_RATE / state.rung.fps
        if state.next_due is not None and pts < state.next_due - interval / 2:
            return None  # this rung runs at a lower frame rate
        state.next_due = pts + int(interval) if state.next_due is None else max(
            state.next_due + int(interval), pts)
        return _EncodeJob(state, frame, pts, state.gate.take(now))

    async def aclose(self) -> None:
        """Stop encoding and end every subscribed track (idempotent)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for track in list(self._tracks):
            track.stop()


async def _none() -> None:
    return None


class _EncodeJob:
    """Scale, stamp and encode one frame for one rung (runs in an executor thread)."""

    def __init__(self, state: _RungState, frame: av.VideoFrame, pts: int, key: bool) -> None:
        self.state, self.frame, self.pts, self.key = state, frame, pts, key

    def __call__(self) -> av.Packet[Any] | None:
        state, rung = self.state, self.state.rung
        frame = self.frame
        if (frame.width, frame.height) != (rung.width, rung.height):
            # each rung has its own scaler: a frame's own (frame.reformat) is not thread-safe
            frame = state.scaler.reformat(frame, width=rung.width, height=rung.height,
                                          format="yuv420p")
            _restamp(self.frame, frame)
        elif frame.format.name != "yuv420p":
            frame = state.scaler.reformat(frame, format="yuv420p")
        frame.pts, frame.time_base = self.pts, TIME_BASE
        frame.pict_type = av.video.frame.PictureType.I if self.key else \
            av.video.frame.PictureType.NONE
        packets = state.codec.encode(frame)
        if not packets:
            return None
        packet = packets[0] if len(packets) == 1 else av.Packet(b"".join(map(bytes, packets)))
        packet.pts, packet.time_base = self.pts, TIME_BASE
        mark_layer(packet, droppable(packet))  # the packetizer marks it (see the docstring)
        state.frames += 1
        state.keyframes += packet.is_keyframe
        state.bytes += packet.size
        return packet


def _restamp(source: av.VideoFrame, scaled: av.VideoFrame) -> None:
    """Burn the source's stamp into ``scaled`` at the scaled size (if it had one)."""
    if scaled.width < _MIN_STAMP_WIDTH or source.format.name != "yuv420p":
        return
    stamp = read_stamp(luma_of(source))
    if stamp is not None:
        burn_stamp(luma_of(scaled), stamp)


class RungTrack(MediaStreamTrack):
    """One viewer's video: the encoded packets of its current rung, starting at a keyframe."""

    kind = "video"

    def __init__(self, encoder: LadderEncoder, rung: int) -> None:
        super().__init__()
        self._encoder = encoder
        self.rung = rung
        """The rung whose packets this viewer receives now."""
        self.target: int | None = None
        """The rung this viewer moves to at its next keyframe (None: no switch pending)."""
        self.switches = 0
        """Rung changes completed."""
        self.skips = 0
        """Times the sender fell ``queue_frames`` behind and skipped to a keyframe."""
        self.thin = False
        """Skip the droppable frames (nothing refers to them) while set."""
        self.thinned = 0
        """Frames skipped so."""
        self._waiting_key = True
        self._started = False
        """False until the sender first asks for a frame (the connection is up): packets
        offered before that would only be stale by the time they could leave."""
        self._queue: deque[av.Packet[Any]] = deque()
        self._ready = asyncio.Event()

    def switch(self, rung: int) -> None:
        """Move to ``rung`` at its next keyframe (requested now); before the sender has asked
        for a frame, move at once (nothing of the old rung has left)."""
        self._encoder._check(rung)
        if rung == self.rung:
            self.target = None
            return
        if self._started:
            self.target = rung
        else:
            self.rung, self.target = rung, None
        self._encoder.request_keyframe(rung)

    def prepare(self) -> None:
        """The viewer is on its way (its offer was answered; again when ICE is done): ask for a
        keyframe now, so that one is fresh in the rung's cache when the sender starts (see
        ``join_frames``). Asked at the answer, it is ready on a short path (loopback: DTLS ends
        ~50 ms later, before the next keyframe could otherwise be encoded); asked again at ICE,
        it is still fresh on a long one (``keyframe_gap_s`` spaces the two)."""
        if not self._started:
            self._encoder.prepare(self.rung)

    def request_keyframe(self) -> None:
        """The receiver lost its picture (PLI/FIR): ask the rung it is on, or moving to."""
        self._encoder.request_keyframe(self.rung if self.target is None else self.target)

    def _offer(self, packets: Sequence[av.Packet[Any] | None]) -> None:
        """One source frame's packets, one per rung (None where a rung skipped it)."""
        if not self._started:
            return
        if self.target is not None:
            candidate = packets[self.target]
            if candidate is not None and candidate.is_keyframe:
                self.rung, self.target = self.target, None
                self.switches += 1
                self._waiting_key = False
                self._push(candidate)
                return
        packet = packets[self.rung]
        if packet is None or (self._waiting_key and not packet.is_keyframe):
            return
        if self.thin and marked_droppable(packet):
            self.thinned += 1
            return
        self._waiting_key = False
        self._push(packet)

    def _push(self, packet: av.Packet[Any]) -> None:
        if len(self._queue) >= self._encoder.queue_frames:
            self._queue.clear()  # the decoder needs every frame since a keyframe: start over
            self._waiting_key = True
            self.skips += 1
            self.request_keyframe()
            return
        self._queue.append(packet)
        self._ready.set()

    async def recv(self) -> av.Packet[Any]:
        """The next encoded frame of this viewer's rung."""
        if not self._started:
            self._started = True
            self._queue.extend(self._encoder.joining(self.rung))
            self._waiting_key = not self._queue
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def stop(self) -> None:
        """End the track and leave the encoder."""
        super().stop()
        self._encoder._unsubscribe(self)
        self._ready.set()
