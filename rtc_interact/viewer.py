"""The viewer: connects to a host, receives video and events, taps and comments."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from ._queue import DropOldestQueue
from .config import ViewerConfig
from .datachannel.clock import ClockEstimate, ClockSync, wall_ms
from .datachannel.codec import decode_downstream, encode, pack
from .datachannel.messages import (
    Ack,
    Acks,
    Claim,
    Comment,
    Downstream,
    ErrorReply,
    Ping,
    Pong,
    Request,
    Tap,
    Welcome,
)
from .datachannel.reliable import AnswerLog, ReliableSender
from .errors import (
    ClosedError,
    ConnectTimeout,
    ErrorCode,
    RateLimited,
    RemoteProtocolError,
    RequestRejected,
    RequestTimeout,
)
from .media.stamp import FrameStamp, Plane, latency_ms, luma_of, read_stamp
from .stats import Percentiles
from .transport.aiortc_compat import early_dtls
from .transport.aiortc_receiver import ReceiverStats, install_robust_receiving
from .transport.peer import (
    choose_ice_addresses,
    congested,
    new_peer_connection,
    open_event_channel,
    open_fast_channel,
    set_local,
)
from .transport.signaling import WhepClient

log = logging.getLogger(__name__)

STATS_WINDOW = 10_000
"""Latency samples kept for percentiles (the most recent ones)."""


@dataclass(frozen=True, slots=True)
class ConnectTimings:
    """Milliseconds from the start of ``connect()`` until each stage finished (None: not yet)."""

    signaling: float | None = None
    """Offer created, POSTed, and the answer received."""
    ice: float | None = None
    """ICE connectivity established."""
    dtls: float | None = None
    """DTLS handshake done (peer connection 'connected')."""
    channel_open: float | None = None
    """Event channel open (SCTP association up)."""
    first_frame: float | None = None
    """First video frame decoded."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """The host's acknowledgement of a tap or comment."""

    id: int
    """Our message id."""
    n: int
    """Host-wide sequence number of the tap (or comment)."""
    host_ms: int
    """Host clock (Unix ms) when accepted."""
    rtt_ms: float
    """Send-to-acknowledgement time measured by this viewer."""
    giveaway: str = ""
    """For a giveaway entry: the giveaway id."""
    entry: int = 0
    """For a giveaway entry: the entry number (the entry is durable on the host)."""
    entry_hash: str = ""
    """For a giveaway entry: hex sha256 of the entry, to find it in the published result."""


def _receipt(ack: Ack, rtt_ms: float) -> Receipt:
    return Receipt(ack.id, ack.n, ack.hts, rtt_ms, ack.g or "", ack.e or 0, ack.eh or "")


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """A decoded video frame."""

    frame: av.VideoFrame
    """The decoded frame (PyAV)."""
    received_ms: int
    """Viewer wall clock (Unix ms) when decoded."""
    stamp: FrameStamp | None
    """The host's burned-in stamp, when the source is the test pattern."""

    def to_ndarray(self) -> Plane:
        """The frame as an RGB array (height x width x 3)."""
        rgb = self.frame.to_ndarray(format="rgb24")
        assert rgb.dtype == np.uint8
        return rgb  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ViewerStats:
    """What this viewer measured so far."""

    frames: int
    """Frames decoded."""
    fps: float
    """Frames per second since the first frame."""
    frames_dropped: int
    """Frames dropped from the ``frames()`` buffer because the app read too slowly."""
    g2g_ms: Percentiles | None
    """Glass-to-glass latency from burned-in stamps, last 10,000 frames (clocks must agree)."""
    taps_sent: int
    """Taps sent."""
    taps_acked: int
    """Taps acknowledged."""
    tap_rtt_ms: Percentiles | None
    """Tap-to-acknowledgement round trips, last 10,000 taps."""
    bad_messages: int
    """Messages from the host that failed validation (dropped)."""
    duplicate_answers: int
    """Answers to a request that was already answered: the host answers each redundant copy
    of a tap or ping (dropped)."""
    receiver: ReceiverStats
    """Video receiving: frames abandoned, keyframes requested, NACKs, decoder errors, buffers."""


class Viewer:
    """A connection to a host; ``async with Viewer.connect(url, token=...) as viewer``."""

    def __init__(self, url: str, token: str, config: ViewerConfig | None = None) -> None:
        self.url, self.config = url, config or ViewerConfig()
        self._http = WhepClient(url, token, self.config.request_timeout_s)
        self._pc = new_peer_connection()
        self._receiving = install_robust_receiving(self._pc)
        self._channel = open_event_channel(self._pc)
        self._fast = open_fast_channel(self._pc)
        self._sender: ReliableSender[Tap | Ping] = ReliableSender(self.config.advanced.retransmit)
        self._outbox: list[Tap | Ping] = []
        """Fast-path sends of this loop iteration, packed together by ``_flush``."""
        self._timer: asyncio.TimerHandle | None = None
        self._clock = ClockSync()
        self._open_event = asyncio.Event()
        self._early: list[Request] | None = []
        """Requests made before the offer is POSTed; they ride on it (see signaling)."""
        self._unanswered: list[Request] = []
        """Early requests the host did not answer in signaling; sent once the channel opens."""
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Downstream]] = {}
        self._answers = AnswerLog()
        self._frames: DropOldestQueue[ReceivedFrame] = DropOldestQueue(self.config.frame_buffer)
        self._events: DropOldestQueue[Downstream] = DropOldestQueue(self.config.events_buffer)
        self._marks: dict[str, float] = {}
        self._t0 = 0.0
        self._welcomed: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._location: str | None = None
        self._frame_count = 0
        self._frame_span: tuple[float, float] = (0.0, 0.0)
        self._g2g: deque[float] = deque(maxlen=STATS_WINDOW)
        self._tap_rtts: deque[float] = deque(maxlen=STATS_WINDOW)
        self._taps_sent = self._taps_acked = 0
        self._bad = 0
        self._closed = False
        self.welcome: Welcome | None = None
        self.shown_media_ms: int | None = None
        """Capture time (host Unix ms, from its stamp) of the newest decoded frame: what a tap
        made now was reacting to. None until a stamped frame arrives."""

    @classmethod
    def connect(cls, url: str, *, token: str, config: ViewerConfig | None = None) -> Viewer:
        """A viewer that connects on ``async with``."""
        return cls(url, token, config)

    async def __aenter__(self) -> Viewer:
        try:
            await self.open()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    def _mark(self, stage: str) -> None:
        self._marks.setdefault(stage, (time.perf_counter() - self._t0) * 1000)

    async def prepare(self) -> None:
        """Optional, before ``open()``: warm the HTTP connection to the host (e.g. when the page
        loads, before the user presses play), so signaling costs one round trip, not two."""
        await self._http.warm()

    async def open(self) -> None:
        """Signal, connect, and wait until the event channel is open and the host said welcome."""
        self._t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        self._welcomed = loop.create_future()
        self._wire()
        if self.config.receive_video:
            self._pc.addTransceiver("video", direction="recvonly")
        ice = choose_ice_addresses(self.config.advanced.ice_addresses,
                                   urlsplit(self.url).hostname or "")
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                offer = await set_local(self._pc, await self._pc.createOffer(), ice)
                early, self._early = self._early, None
                answer = await self._http.offer(offer, [encode(m) for m in early or ()])
                self._location = answer.location
                self._mark("signaling")
                for reply in answer.replies:
                    self._on_message(reply)
                self._unanswered = [m for m in early or () if m.id in self._pending]
                with early_dtls():  # DTLS starts once the host's first check has come
                    await self._pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
                await self._open_event.wait()
                await self._welcomed
        except TimeoutError:
            raise ConnectTimeout(
                f"not connected to {self.url} within {self.config.connect_timeout_s} s "
                f"(stages done: {sorted(self._marks) or 'none'})"
            ) from None

    def _wire(self) -> None:
        pc, channel = self._pc, self._channel

        def on_ice() -> None:
            if pc.iceConnectionState == "completed":
                self._mark("ice")

        def on_state() -> None:
            if pc.connectionState == "connected":
                self._mark("dtls")
            elif pc.connectionState in ("failed", "closed"):
                self._fail_all(ClosedError(f"connection {pc.connectionState}"))

        def on_open() -> None:
            self._mark("channel_open")
            self._open_event.set()
            for message in self._unanswered:
                if message.id in self._pending:
                    self._transmit(message)
            self._unanswered = []
            if self.config.advanced.clock_interval_s > 0:
                self._tasks.append(asyncio.ensure_future(self._clock_loop()))

        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._tasks.append(asyncio.ensure_future(self._pump(track)))

        pc.on("iceconnectionstatechange", on_ice)
        pc.on("connectionstatechange", on_state)
        pc.on("track", on_track)
        channel.on("open", on_open)
        channel.on("message", self._on_message)
        self._fast.on("message", self._on_message)
        channel.on("close", lambda: self._fail_all(ClosedError("event channel closed")))

    async def _pump(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                self._frames.close()
                return
            if not isinstance(frame, av.VideoFrame):
                continue
            self._mark("first_frame")
            now_ms = wall_ms()
            stamp = read_stamp(luma_of(frame)) if frame.format.name == "yuv420p" else None
            latency = latency_ms(stamp, now_ms)
            if latency is None:
                stamp = None  # damaged beyond the CRC's power to tell
            else:
                self._g2g.append(latency)
                self.shown_media_ms = stamp.capture_ms if stamp else None
            now = time.perf_counter()
            self._frame_count += 1
            self._frame_span = (self._frame_span[0] if self._frame_count > 1 else now, now)
            self._frames.put(ReceivedFrame(frame, now_ms, stamp))

    def _on_message(self, data: bytes | str) -> None:
        try:
            message = decode_downstream(data)
        except RemoteProtocolError as exc:
            self._bad += 1
            log.warning("dropped a bad message from the host: %s", exc)
            return
        if isinstance(message, Welcome):
            self.welcome = message
            if self._welcomed is not None and not self._welcomed.done():
                self._welcomed.set_result(None)
            return
        if isinstance(message, Acks):
            for ack in message.split():
                self._settle(ack.id, ack)
        elif isinstance(message, ErrorReply) and message.refs:
            for ref in message.refs:
                self._settle(ref, message)
        elif isinstance(message, ErrorReply | Ack | Pong):
            self._settle(message.ref if isinstance(message, ErrorReply) else message.id, message)
        else:
            self._events.put(message)

    def _settle(self, ref: int | None, message: Downstream) -> None:
        """Hand the answer to request ``ref`` to its waiter. A late answer (its request timed
        out) or a stray one becomes an event; another answer to an answered request is dropped."""
        if ref is None:
            self._events.put(message)
            return
        self._sender.acknowledge(ref, asyncio.get_running_loop().time())
        waiting = self._pending.pop(ref, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(message)
        elif waiting is not None or self._answers.is_event(ref):
            self._events.put(message)

    def _fail_all(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        self._events.close()

    async def _wait_open(self) -> None:
        """Requests made while connecting wait here (bounded) instead of failing."""
        if self._closed:
            raise ClosedError("viewer is closed")
        if not self._open_event.is_set():
            try:
                async with asyncio.timeout(self.config.connect_timeout_s):
                    await self._open_event.wait()
            except TimeoutError:
                raise ConnectTimeout("event channel did not open in time") from None
        if self._channel.readyState != "open":
            raise ClosedError("viewer is not connected")

    def _transmit(self, message: Request) -> None:
        if isinstance(message, Tap | Ping) and self._fast.readyState == "open":
            now = asyncio.get_running_loop().time()
            if not self._outbox:
                asyncio.get_running_loop().call_soon(self._flush)
            self._outbox += self._sender.send(message.id, message, now, congested(self._fast))
            self._arm()
        else:
            self._channel.send(encode(message))

    def _flush(self) -> None:
        """Send what this iteration queued on the fast path: a burst of taps packs into bundles."""
        outbox, self._outbox = self._outbox, []
        if self._fast.readyState == "open":
            for data in pack(outbox):
                self._fast.send(data)

    def _arm(self) -> None:
        wake = self._sender.next_wakeup()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None if wake is None else asyncio.get_running_loop().call_at(
            wake, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._fast.readyState != "open":
            return
        poll = self._sender.poll(asyncio.get_running_loop().time(), congested(self._fast))
        self._outbox += poll.send
        self._flush()
        self._arm()

    async def _request(self, message: Request) -> tuple[Downstream, float]:
        if self._closed:
            raise ClosedError("viewer is closed")
        future: asyncio.Future[Downstream] = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()
        self._pending[message.id] = future
        self._answers.sent(message.id)
        if self._early is not None:  # the offer has not left yet: ride on it
            self._early.append(message)
        else:
            try:
                await self._wait_open()
            except BaseException:
                self._pending.pop(message.id, None)
                raise
            self._transmit(message)
        try:
            async with asyncio.timeout(self.config.request_timeout_s):
                reply = await future
        except TimeoutError:
            self._pending.pop(message.id, None)
            self._answers.gave_up(message.id)
            raise RequestTimeout(f"no answer to {message.TYPE} {message.id} within "
                                 f"{self.config.request_timeout_s} s") from None
        finally:
            self._sender.forget(message.id)
        if isinstance(reply, ErrorReply):
            kind = RateLimited if reply.code == ErrorCode.RATE_LIMITED else RequestRejected
            raise kind(ErrorCode(reply.code), reply.reason)
        return reply, (time.perf_counter() - sent) * 1000

    async def tap(self, target: str = "") -> Receipt:
        """Tap; resolves with the host's receipt (raises RateLimited, RequestTimeout, ...)."""
        return await self._send_tap(Tap(id=next(self._ids), target=target), timed=True)

    async def enter(self, giveaway_id: str) -> Receipt:
        """Enter a giveaway: a tap carrying the media time of the frame on screen, judged by
        the window as this viewer saw it; the receipt comes once the entry is durable. Raises
        RequestRejected (NOT_ELIGIBLE, OUTSIDE_WINDOW, ...) when it does not count."""
        tap = Tap(id=next(self._ids), target=giveaway_id, mts=self.shown_media_ms)
        return await self._send_tap(tap, timed=False)

    async def _send_tap(self, tap: Tap, timed: bool) -> Receipt:
        """Send a tap and count it; ``timed`` adds its round trip to the tap statistics (an
        entry's also includes the host's durable write)."""
        self._taps_sent += 1
        reply, rtt = await self._request(tap)
        assert isinstance(reply, Ack)
        if timed:
            self._tap_rtts.append(rtt)
        self._taps_acked += 1
        return _receipt(reply, rtt)

    async def claim(self, giveaway_id: str, *, name: str, address: str, contact: str) -> Receipt:
        """Claim a prize won in ``giveaway_id`` (after a ``Won`` event), before the deadline."""
        message = Claim(id=next(self._ids), g=giveaway_id, name=name, address=address,
                        contact=contact)
        reply, rtt = await self._request(message)
        assert isinstance(reply, Ack)
        return Receipt(reply.id, reply.n, reply.hts, rtt, giveaway_id)

    async def comment(self, text: str) -> Receipt:
        """Post a comment; every viewer (this one too) receives it as a CommentPosted event."""
        reply, rtt = await self._request(Comment(id=next(self._ids), text=text))
        assert isinstance(reply, Ack)
        return _receipt(reply, rtt)

    async def ping(self) -> float:
        """Round-trip time to the host over the fast channel in ms; also feeds clock sync."""
        sent_ms = time.time_ns() / 1e6
        reply, rtt = await self._request(Ping(id=next(self._ids), ts=int(sent_ms)))
        if isinstance(reply, Pong):
            self._clock.add(sent_ms, sent_ms + rtt, reply.hts)
        return rtt

    async def _clock_loop(self) -> None:
        while not self._closed:
            try:
                await self.ping()
            except (RequestTimeout, RequestRejected):
                pass
            except (ClosedError, ConnectTimeout):
                return  # the session is over; nothing to sync with
            await asyncio.sleep(self.config.advanced.clock_interval_s)

    def clock(self) -> ClockEstimate | None:
        """How the host's clock relates to ours (None until the first ping came back)."""
        return self._clock.estimate()

    async def frames(self) -> AsyncIterator[ReceivedFrame]:
        """Decoded frames; if the app reads slowly the oldest are dropped."""
        async for frame in self._frames:
            yield frame

    async def events(self) -> AsyncIterator[Downstream]:
        """Host messages that answer no waiting request of ours: comments, announcements, stray
        errors, and the late answer to a request that raised ``RequestTimeout``.

        (The welcome message is kept in ``viewer.welcome`` instead.)
        """
        async for event in self._events:
            yield event

    @property
    def connection_state(self) -> str:
        """The peer connection's state: 'new', 'connecting', 'connected', 'failed' or 'closed'."""
        state: str = self._pc.connectionState
        return state

    def connect_timings(self) -> ConnectTimings:
        """Per-stage connect times, in ms from the start of ``connect()``."""
        return ConnectTimings(**self._marks)

    def stats(self) -> ViewerStats:
        """Frames, latency and tap statistics so far."""
        first, last = self._frame_span
        frames = self._frame_count
        return ViewerStats(
            frames=frames, fps=(frames - 1) / (last - first) if last > first else 0.0,
            frames_dropped=self._frames.dropped, g2g_ms=Percentiles.of(self._g2g),
            taps_sent=self._taps_sent, taps_acked=self._taps_acked,
            tap_rtt_ms=Percentiles.of(self._tap_rtts), bad_messages=self._bad,
            duplicate_answers=self._answers.duplicates,
            receiver=self._receiving.stats(),
        )

    async def aclose(self) -> None:
        """Leave (DELETE), close the peer connection and stop background tasks (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._location is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http.leave(self._location), 2.0)
        await self._http.aclose()
        await self._pc.close()
        for task in self._tasks:
            task.cancel()
        self._fail_all(ClosedError("viewer closed"))
        self._frames.close()
