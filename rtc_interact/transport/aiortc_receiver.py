"""aiortc's video receiver made robust on lossy links: the receiving sibling of ``aiortc_compat``.

Like ``aiortc_compat`` (see its docstring), this module reaches into aiortc 1.16 / aioice 0.13
internals; ``tests/transport/test_aiortc_receiver.py`` holds canary tests that fail if an upgrade
moves what is relied on. Nothing of aiortc's is copied: single receiver instances are given
different collaborators, and only peer connections passed to :func:`install_robust_receiving`
change (the stock-aiortc baseline in the same process keeps aiortc's behaviour).

What stock aiortc does, measured at 300 kbps with 3% loss: the receiver NACKs every missing packet
on each new gap, its jitter buffer waits for a missing packet until 512 packets pile up behind it
(glass-to-glass up to 18 s), then passes frames with a broken reference chain to the decoder (~98%
of frames shown corrupted); aioice's UDP sockets keep a 256 KiB receive buffer.

What is changed, per video receiver, before it starts (the policy is sans-IO, in
``transport/receive_buffer.py``):

* **Jitter buffer** (``RTCRtpReceiver.__jitter_buffer``). ``_handle_rtp_packet`` calls
  ``add(packet)`` with the depayloaded packet and expects ``(pli_flag, frame or None)``. Our
  :class:`JitterBuffer` subclass hands the packet to a :class:`FrameBuffer`: a frame is released
  when its marker packet completes it (held back by one RTT while packets go missing, so that
  retransmissions do not show as stutter), a hole is waited for at most ``max(150 ms, 2.5 x
  RTT)`` once a later frame is complete, then the frame is abandoned, and delta frames are
  dropped until a keyframe; ``pli_flag`` asks for one (at most every 300 ms, backing off while
  unanswered). Frames are released as packets arrive, and while the buffer holds packets and
  none arrives for ``RELEASE_POLL_S``, a timer polls it: a frame held for its playout delay is
  due at its time even when the link brings nothing (on mobile-3g-weak, complete frames waited
  150-350 ms past their time for the next packet: ``benchmarks/RESULTS.md`` §24.4). When
  several frames become complete at once, they travel as one :class:`_Batch`, expanded by the
  decode queue; frames the timer releases go straight to the decode queue, with aiortc's
  timestamp mapping as last applied.
* **NACKs** (``RTCRtpReceiver.__nack_generator``). The receiver sends
  ``sorted(generator.missing)`` whenever ``generator.add(packet)`` returns True. Our
  :class:`NackGenerator` subclass returns True only when the :class:`NackScheduler` has something
  due, and puts exactly that list in ``missing`` (each packet at most twice, each such NACK
  echoed once, 32 per RTCP packet).
  The buffer's timer also polls it while no packet comes (for as long as a retransmission could
  still help), and what is then due, a silence's guessed packets included, goes out through
  the receiver's ``_send_rtcp_nack`` (``NackScheduler.on_quiet``).
* **Decode queue** (``RTCRtpReceiver.__decoder_queue``, handed to aiortc's decoder thread in
  ``receive()``). ``put`` expands batches; ``get``, called by the decoder thread before each
  decode, skips delta frames after a decode error until the next keyframe, so a picture decoded
  from a broken reference is never shown.
* **Decoder errors** (``RTCRtpReceiver.__decoder_error``, a ``threading.Event`` the decoder
  thread sets). Ours counts them and never reads as set, so aiortc's unlimited PLI on each error
  is replaced by the buffer's rate-limited one (the buffer waits for a keyframe after an error).
* **Codec** (``RTCRtpReceiver.__codecs``, payload type -> codec, filled by ``receive()``): to know
  how to find frame starts and keyframes in payloads (VP8 or H.264, aiortc's only video codecs).
* **Socket buffers.** aioice sets SO_RCVBUF to 256 KiB on its UDP sockets
  (``aioice.ice.Connection._protocols``, each a ``StunProtocol`` with its asyncio ``transport``),
  reached through ``RTCIceGatherer._connection``. After ``receive()`` (ICE and DTLS are up), the
  sockets of the receiver's transport are raised to ``socket_rcvbuf`` (4 MiB; Linux caps it at
  ``net.core.rmem_max`` and reports twice the granted size, which :class:`ReceiverStats` shows).
* **Queue reports** (``transport.queue_report``). The buffer reads each packet's
  ``abs-send-time`` extension and, when a queue shows, sends an RTCP feedback message through
  aiortc's ``_send_rtcp`` from the receiver's ``__rtcp_ssrc`` (None until it starts).
* **Packet trains** (``transport.train``). A train's padding-only RTX packets never reach the
  jitter buffer (aiortc drops an RTX payload under 2 bytes), so ``_handle_rtp_packet``, which the
  DTLS transport calls with every RTP packet routed to the receiver (and its arrival, as a
  keyword), is wrapped on the instance: each packet passes the buffer's ``TrainMeter`` first,
  and a train's report goes back as the queue reports do.
* **Installation** (``RTCPeerConnection.__createTransceiver``): wrapped on the one instance so
  every video receiver it creates is upgraded before it can start.
"""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpTransceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket

from ..media.vp8 import PayloadInfo, inspect_vp8
from .aiortc_compat import ice_rtt_s
from .nack import NackScheduler
from .queue_report import QueueWatch, pack_queue_fci
from .receive_buffer import (
    SEQ_SPAN,
    Frame,
    FrameBuffer,
    Packet,
    ReceiveConfig,
    SeqUnwrapper,
)
from .train import TrainMeter, pack_train_fci

_PRIVATE = "_RTCRtpReceiver__"
JITTER_BUFFER = _PRIVATE + "jitter_buffer"
NACK_GENERATOR = _PRIVATE + "nack_generator"
DECODER_QUEUE = _PRIVATE + "decoder_queue"
DECODER_ERROR = _PRIVATE + "decoder_error"
CODECS = _PRIVATE + "codecs"
CREATE_TRANSCEIVER = "_RTCPeerConnection__createTransceiver"
SEND_NACK = "_send_rtcp_nack"
RTCP_SSRC = _PRIVATE + "rtcp_ssrc"
HANDLE_RTP = "_handle_rtp_packet"
"""The name-mangled aiortc 1.16 attributes relied on (see the module docstring)."""

Clock = Callable[[], float]
RELEASE_POLL_S = 0.01
"""With no packet arriving for this long, the buffer is polled, and again each time this
passes, while it holds packets or the silence is young (see the module docstring): a frame is
at most this late on screen for want of a packet."""


def monotonic_ms() -> float:
    """The default clock: monotonic milliseconds."""
    return time.monotonic() * 1000


@dataclass(frozen=True, slots=True)
class ReceiverStats:
    """What the viewer's video receivers did (summed over them)."""

    frames_abandoned: int = 0
    """Frames given up at a hole that outlived the wait bound."""
    keyframes_requested: int = 0
    """PLIs sent."""
    nacks_sent: int = 0
    """Sequence numbers NACKed (a packet NACKed twice counts twice)."""
    nack_packets: int = 0
    """RTCP NACK packets sent."""
    nack_echoes: int = 0
    """NACKs sent a second time against NACK loss (``ReceiveConfig.nack_echo_ms``)."""
    decoder_errors: int = 0
    """Frames the decoder failed on."""
    frames_dropped_waiting_keyframe: int = 0
    """Complete frames not decoded (or not shown) because their reference chain was broken."""
    frames_skipped: int = 0
    """Droppable frames skipped at a hole (temporal layers) instead of waiting for it."""
    copies_received: int = 0
    """Packets that arrived a second time (the host's redundant copies)."""
    rtt_ms: float = 0.0
    """Round-trip estimate from NACKed packets (the initial guess until one is measured)."""
    playout_ms: float = 0.0
    """How long after its expected arrival the newest frame was held (the playout delay)."""
    socket_rcvbuf: int = 0
    """Smallest SO_RCVBUF the kernel reports on the ICE sockets (0: not set yet)."""
    queue_reports: int = 0
    """Queue reports sent to the host (``transport.queue_report``)."""
    train_reports: int = 0
    """Packet trains measured and reported to the host (``transport.train``)."""


def inspect_h264(payload: bytes) -> PayloadInfo:
    """(begins a frame, begins a keyframe, droppable, TL0PICIDX) for H.264: a keyframe is a
    packet carrying an SPS (RFC 6184); no frame is known to be droppable."""
    if not payload:
        return False, False, False, None
    kind = payload[0] & 0x1F
    if kind == 24:  # STAP-A: look at each aggregated unit
        pos, kinds = 1, []
        for _ in range(len(payload)):
            if pos + 2 >= len(payload):
                break
            size = int.from_bytes(payload[pos:pos + 2], "big")
            kinds.append(payload[pos + 2] & 0x1F)
            pos += 2 + size
        key = 7 in kinds
    else:
        key = kind == 7
    return key, key, False, None


_INSPECTORS = {"video/vp8": inspect_vp8, "video/h264": inspect_h264}


class _Encoded(JitterFrame):
    """An encoded frame for aiortc's decoder thread that knows whether it is a keyframe."""

    def __init__(self, frame: Frame, timestamp: int) -> None:
        super().__init__(frame.data, timestamp)
        self.keyframe = frame.keyframe


class _Batch(_Encoded):
    """Frames released together; aiortc queues it as the first, the decode queue expands it."""

    def __init__(self, frames: list[Frame]) -> None:
        super().__init__(frames[0], frames[0].timestamp)
        self.frames = frames


class _DecoderErrors(threading.Event):
    """aiortc's decoder-error flag: counted, and never read as set (the buffer sends the PLI)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def set(self) -> None:
        self.count += 1

    def is_set(self) -> bool:
        return False


class _DecodeQueue(queue.Queue[Any]):
    """aiortc's queue to its decoder thread: expands batches, skips deltas after a decode error."""

    def __init__(self, errors: _DecoderErrors) -> None:
        super().__init__()
        self._errors = errors
        self._seen_errors = 0
        self.skipped = 0
        self._codec: Any = None
        self._offset: int | None = None
        """aiortc's timestamp mapping, as applied to the last batch it queued."""
        self._closed = False

    @property
    def ready(self) -> bool:
        """Whether :meth:`put_released` can take frames: aiortc has queued one (its decoder runs
        and its timestamp mapping is known) and has not stopped the decoder."""
        return self._offset is not None and not self._closed

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # aiortc stops its decoder thread
            self._closed = True
        if isinstance(item, tuple) and isinstance(item[1], _Batch):
            codec, batch = item
            self._codec = codec
            self._offset = batch.timestamp - batch.frames[0].timestamp
            self.put_released(batch.frames)
        else:
            super().put(item, block, timeout)

    def put_released(self, frames: list[Frame]) -> None:
        """Queue ``frames`` with aiortc's timestamp mapping (needs :attr:`ready`)."""
        assert self._offset is not None
        for frame in frames:
            super().put((self._codec, _Encoded(frame, frame.timestamp + self._offset)))

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        tainted = False
        while True:  # ends: the queue's final item is None (the receiver stopped)
            item = super().get(block, timeout)
            tainted = tainted or self._errors.count != self._seen_errors
            self._seen_errors = self._errors.count
            if item is None or not tainted or getattr(item[1], "keyframe", True):
                return item
            self.skipped += 1


def _send_soon(send: Coroutine[Any, Any, None], pending: set[asyncio.Future[None]]) -> None:
    """Run an RTCP send in the background, held in ``pending`` until it is done."""
    sent = asyncio.ensure_future(send)
    pending.add(sent)
    sent.add_done_callback(pending.discard)


class RobustJitterBuffer(JitterBuffer):
    """aiortc's jitter buffer interface over a :class:`FrameBuffer` (see the module docstring)."""

    def __init__(self, receiver: RTCRtpReceiver, config: ReceiveConfig, clock: Clock) -> None:
        super().__init__(capacity=512, is_video=True)
        self.frames = FrameBuffer(config)
        self.unwrapper = SeqUnwrapper()
        self.errors = _DecoderErrors()
        self.queue = _DecodeQueue(self.errors)
        self._seen_errors = 0
        self._receiver = receiver
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None
        self._last_packet = 0.0
        """Loop time of the newest packet (the timer, armed once, waits ``RELEASE_POLL_S``
        past it: no timer is made or cancelled per packet)."""
        self.on_quiet: Callable[[float], None] | None = None
        """Called (with the clock's time) at each poll while no packet comes (the NACKs)."""
        self._first = True
        """No packet yet: the first one gives the buffer the ICE checks' round trip."""
        self.queue_watch = QueueWatch(config.queue_report)
        self.train_meter = TrainMeter(config.train)
        self.media_ssrc: int | None = None
        """The media stream's SSRC (the newest packet's): reports name it."""
        self._sending: set[asyncio.Future[None]] = set()

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        now = self._clock()
        if self._first:  # ICE is done by then (asked once: not a per-packet cost)
            self._first, rtt = False, ice_rtt_s(self._receiver)
            if rtt is not None:
                self.frames.on_path_rtt(rtt * 1000, now)
        if self.errors.count != self._seen_errors:
            self._seen_errors = self.errors.count
            self.frames.on_decoder_error()
        codec = getattr(self._receiver, CODECS).get(packet.payload_type)
        inspect = _INSPECTORS.get(codec.mimeType.lower() if codec else "", inspect_vp8)
        start, key, droppable, tl0 = inspect(packet.payload)
        data: bytes = getattr(packet, "_data", b"")
        sent, self.media_ssrc = packet.extensions.abs_send_time, packet.ssrc
        if sent is not None:
            queue = self.queue_watch.on_packet(now, sent)
            if queue is not None:
                self._report(packet.ssrc, pack_queue_fci(queue))
        ready = self.frames.add(Packet(
            self.unwrapper.unwrap(packet.sequence_number), packet.timestamp,
            bool(packet.marker), start, key, data, now, droppable, tl0), now)
        loop = asyncio.get_running_loop()
        self._last_packet = loop.time()
        if self._timer is None:
            self._arm(loop, RELEASE_POLL_S)
        return self.frames.want_keyframe(now), _Batch(ready) if ready else None

    def on_rtp(self, packet: RtpPacket) -> None:
        """Any RTP packet routed to the receiver, RTX included, before aiortc handles it: the
        train meter's (see the module docstring)."""
        sent = packet.extensions.abs_send_time
        if sent is None:
            return
        padding_only = not packet.payload and packet.padding_size > 0
        report = self.train_meter.on_packet(self._clock(), sent,
                                            len(packet.payload) + packet.padding_size,
                                            padding_only)
        if report is not None and self.media_ssrc is not None:
            self._report(self.media_ssrc, pack_train_fci(report))

    def _report(self, media_ssrc: int, fci: bytes) -> None:
        """Tell the host of a queue or a train (``transport.queue_report``, ``transport.train``)
        in an RTCP feedback message, through aiortc's ``_send_rtcp``, from the receiver's RTCP
        SSRC (none before it starts)."""
        ssrc = getattr(self._receiver, RTCP_SSRC)
        if ssrc is None:
            return
        message = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=ssrc, media_ssrc=media_ssrc, fci=fci)
        _send_soon(self._receiver._send_rtcp(message), self._sending)

    def _arm(self, loop: asyncio.AbstractEventLoop, delay_s: float) -> None:
        """Poll the buffer after ``delay_s`` while the decoder takes frames and the buffer
        holds packets or a silence is young enough for a retransmission to help."""
        quiet_ms = (loop.time() - self._last_packet) * 1000
        if self.queue.ready and (self.frames.holding or quiet_ms < self.frames.nack.wait_ms()):
            self._timer = loop.call_later(delay_s, self._poll)

    def _poll(self) -> None:
        """``RELEASE_POLL_S`` after the newest packet, release what is due; else wait on."""
        self._timer = None
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_packet
        if quiet < RELEASE_POLL_S:  # a packet came meanwhile (it released what was due)
            self._arm(loop, RELEASE_POLL_S - quiet)
            return
        if not self.queue.ready:
            return
        now = self._clock()
        if self.on_quiet is not None:
            self.on_quiet(now)
        ready = self.frames.poll(now)
        if ready:
            self.queue.put_released(ready)
        self._arm(loop, RELEASE_POLL_S)


class RobustNackGenerator(NackGenerator):
    """aiortc's NACK generator interface over a :class:`NackScheduler`."""

    def __init__(self, receiver: RTCRtpReceiver, buffer: RobustJitterBuffer,
                 clock: Clock) -> None:
        super().__init__()
        self._receiver = receiver
        self._buffer = buffer
        self._clock = clock
        self._ssrc: int | None = None
        self._sending: set[asyncio.Future[None]] = set()

    @property
    def scheduler(self) -> NackScheduler:
        """The sans-IO scheduler (shared with the frame buffer, which reads its wait bound)."""
        return self._buffer.frames.nack

    def add(self, packet: RtpPacket) -> bool:
        now = self._clock()
        self.scheduler.on_packet(self._buffer.unwrapper.unwrap(packet.sequence_number), now)
        self.max_seq, self._ssrc = packet.sequence_number, packet.ssrc
        lost = self._due(now)
        self.missing = set(lost)
        return bool(lost)

    def _due(self, now: float) -> list[int]:
        """The 16-bit sequence numbers to NACK now, oldest first."""
        return [seq % SEQ_SPAN for seq in self.scheduler.due(now)]

    def on_quiet(self, now: float) -> None:
        """No packet lately: send what is due, guesses of the silence included
        (``NackScheduler.on_quiet``), through aiortc's ``_send_rtcp_nack``."""
        self.scheduler.on_quiet(now)
        lost = self._due(now)
        if lost and self._ssrc is not None:
            _send_soon(getattr(self._receiver, SEND_NACK)(self._ssrc, lost), self._sending)


def raise_receive_buffers(transport: RTCDtlsTransport, size: int) -> int:
    """Ask for SO_RCVBUF ``size`` on the ICE sockets under ``transport``; the smallest granted
    (as Linux reports it: twice the size it books, capped by ``net.core.rmem_max`` unless
    SO_RCVBUFFORCE is allowed)."""
    connection = transport.transport.iceGatherer._connection
    granted: list[int] = []
    for protocol in list(connection._protocols):
        sock = protocol.transport.get_extra_info("socket") if protocol.transport else None
        if sock is None:
            continue
        try:  # beyond net.core.rmem_max where the process may (CAP_NET_ADMIN)
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", -1), size)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        granted.append(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    return min(granted, default=0)


class _Upgraded:
    """One receiver's replacement collaborators."""

    def __init__(self, receiver: RTCRtpReceiver, config: ReceiveConfig, clock: Clock) -> None:
        for name in (JITTER_BUFFER, NACK_GENERATOR, DECODER_QUEUE, DECODER_ERROR, CODECS,
                     SEND_NACK, RTCP_SSRC, "_send_rtcp", HANDLE_RTP):
            if not hasattr(receiver, name):
                raise RuntimeError(f"aiortc's RTCRtpReceiver has no {name}; see aiortc_receiver")
        self.buffer = RobustJitterBuffer(receiver, config, clock)
        self.socket_rcvbuf = 0
        setattr(receiver, JITTER_BUFFER, self.buffer)
        nacks = RobustNackGenerator(receiver, self.buffer, clock)
        self.buffer.on_quiet = nacks.on_quiet
        setattr(receiver, NACK_GENERATOR, nacks)
        setattr(receiver, DECODER_QUEUE, self.buffer.queue)
        setattr(receiver, DECODER_ERROR, self.buffer.errors)
        stock_receive = receiver.receive

        async def receive(parameters: Any) -> None:
            await stock_receive(parameters)
            if config.socket_rcvbuf:
                self.socket_rcvbuf = raise_receive_buffers(receiver.transport,
                                                           config.socket_rcvbuf)

        receiver.receive = receive  # type: ignore[method-assign]
        stock_handle = getattr(receiver, HANDLE_RTP)

        async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
            self.buffer.on_rtp(packet)
            await stock_handle(packet, arrival_time_ms=arrival_time_ms)

        setattr(receiver, HANDLE_RTP, handle_rtp_packet)


class RobustReceiving:
    """The upgraded video receivers of one peer connection, and their statistics."""

    def __init__(self, config: ReceiveConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self._receivers: list[_Upgraded] = []

    def upgrade(self, receiver: RTCRtpReceiver) -> None:
        """Give ``receiver`` the robust collaborators (before it starts receiving)."""
        self._receivers.append(_Upgraded(receiver, self.config, self._clock))

    def stats(self) -> ReceiverStats:
        """Counters summed over the receivers."""
        rs = self._receivers
        counters = [r.buffer.frames.counters for r in rs]
        nacks = [r.buffer.frames.nack for r in rs]
        buffers = [r.socket_rcvbuf for r in rs if r.socket_rcvbuf]
        return ReceiverStats(
            frames_abandoned=sum(c.abandoned for c in counters),
            keyframes_requested=sum(c.keyframes_requested for c in counters),
            nacks_sent=sum(n.nacked for n in nacks),
            nack_packets=sum(n.nack_packets for n in nacks),
            nack_echoes=sum(n.echoed for n in nacks),
            decoder_errors=sum(r.buffer.errors.count for r in rs),
            frames_dropped_waiting_keyframe=sum(c.dropped_waiting_keyframe for c in counters)
            + sum(r.buffer.queue.skipped for r in rs),
            frames_skipped=sum(c.skipped for c in counters),
            copies_received=sum(n.copies for n in nacks),
            rtt_ms=round(max((n.rtt_ms for n in nacks), default=0.0), 1),
            playout_ms=round(max((r.buffer.frames.delay_ms for r in rs), default=0.0), 1),
            socket_rcvbuf=min(buffers, default=0),
            queue_reports=sum(r.buffer.queue_watch.reports for r in rs),
            train_reports=sum(r.buffer.train_meter.reports for r in rs),
        )


def install_robust_receiving(pc: RTCPeerConnection, config: ReceiveConfig | None = None,
                             clock: Clock = monotonic_ms) -> RobustReceiving:
    """Make every video receiver ``pc`` creates from now on robust (call right after creation)."""
    receiving = RobustReceiving(config or ReceiveConfig(), clock)
    stock: Callable[..., RTCRtpTransceiver] = getattr(pc, CREATE_TRANSCEIVER)

    def create_transceiver(direction: str, kind: str, sender_track: Any = None) -> Any:
        transceiver = stock(direction, kind, sender_track)
        if kind == "video":
            receiving.upgrade(transceiver.receiver)
        return transceiver

    setattr(pc, CREATE_TRANSCEIVER, create_transceiver)
    return receiving


__all__ = ["ReceiveConfig", "ReceiverStats", "RobustReceiving", "install_robust_receiving",
           "raise_receive_buffers"]
