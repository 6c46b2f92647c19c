"""The host: streams video to many viewers and exchanges events with them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from aiohttp import web
from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from ._queue import DropOldestQueue
from .config import HostConfig
from .datachannel.clock import wall_ms
from .datachannel.codec import encode
from .datachannel.hostcore import HostSessionCore, Sequencer
from .datachannel.messages import Ack, Announcement, Claim, Downstream, ErrorReply, Tap, Welcome
from .errors import ClosedError, ConfigurationError, ErrorCode, RtcInteractError
from .events import CommentReceived, HostEvent, ViewerJoined, ViewerLeft
from .giveaway.analytics import PresenceSpan
from .giveaway.core import TapIn
from .giveaway.service import GiveawayDesk, Refusal
from .media.ladder import RungStats, RungTrack
from .media.sources import TestPatternTrack
from .tokens import Claims, Role, mint
from .transport.abr_task import LinkStats
from .transport.aiortc_compat import answer_as_dtls_server, early_dtls
from .transport.aiortc_dtls import false_start
from .transport.fanout import VideoFanout
from .transport.peer import (
    choose_ice_addresses,
    congested,
    new_peer_connection,
    open_event_channel,
    open_fast_channel,
    set_local,
)
from .transport.signaling import SessionRefused, TrickleCandidate, add_whep_routes
from .web.routes import add_web_routes

log = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 30.0
"""How long a session the host offered (``Host.offer_session``) waits for the viewer's answer."""


@dataclass(frozen=True, slots=True)
class ViewerStats:
    """One viewer as the host sees it."""

    viewer_id: str
    """Session id."""
    identity: str
    """Identity from the token."""
    connected_s: float
    """Seconds since the offer was accepted."""
    taps: int
    """Taps accepted."""
    comments: int
    """Comments accepted."""
    rejected: int
    """Messages refused (all codes, rate limiting included)."""
    rate_limited: int
    """Messages refused for rate limiting."""
    duplicates: int
    """Tap copies received again and answered without recording them twice."""
    bytes_sent: int
    """RTP bytes sent to this viewer."""
    kbps: float
    """Send rate since the previous ``stats()`` call."""
    rung: int | None = None
    """Ladder rung this viewer receives (0 is the top); None on the per-viewer encoder path."""
    switches: int = 0
    """Rung changes completed."""
    link: LinkStats | None = None
    """Sending side on the ladder path: target and estimated kbps, loss, RTT, NACKs,
    retransmissions sent and skipped, keyframe requests, quality grade (None otherwise)."""


@dataclass(frozen=True, slots=True)
class HostStats:
    """Host-wide counters and every viewer's stats."""

    viewers: tuple[ViewerStats, ...]
    """Connected viewers."""
    taps: int
    """Taps accepted since start."""
    comments: int
    """Comments accepted since start."""
    rejected: int
    """Messages refused since start."""
    duplicates: int
    """Duplicate tap copies absorbed since start (each tap is recorded once)."""
    events_dropped: int
    """Events dropped because ``events()`` was not drained."""
    uptime_s: float
    """Seconds since ``start()``."""
    rungs: tuple[RungStats, ...] = ()
    """Per ladder rung: frames, keyframes, rate, viewers (empty without encode-once)."""


class _Session:
    """Everything the host holds for one viewer."""

    def __init__(self, core: HostSessionCore, pc: RTCPeerConnection, claims: Claims,
                 started: float) -> None:
        self.core, self.pc, self.claims = core, pc, claims
        self.channel = open_event_channel(pc)
        self.fast = open_fast_channel(pc)
        self.started = started
        self.track: MediaStreamTrack | None = None
        self.unanswered: asyncio.TimerHandle | None = None
        """Ends a session the host offered whose answer has not come (``offer_session``)."""
        self.joined = False
        self.sample = (started, 0)

    def send(self, data: bytes, channel: RTCDataChannel | None = None) -> bool:
        channel = channel or self.channel
        if channel.readyState != "open":
            return False
        channel.send(data)
        return True


class Host:
    """Serves signaling, video and the event channel; use as ``async with Host(config) as host``."""

    def __init__(self, config: HostConfig, source: MediaStreamTrack | None = None) -> None:
        self.config = config
        video = config.video
        self._source = source or TestPatternTrack(video.width, video.height, video.fps)
        self._video = VideoFanout(self._source, video)
        self._sessions: dict[str, _Session] = {}
        self._sequencer = Sequencer()
        self._events: DropOldestQueue[HostEvent] = DropOldestQueue(config.events_buffer)
        self._ice = choose_ice_addresses(config.advanced.ice_addresses, config.bind)
        self._runner: web.AppRunner | None = None
        self._port = config.port
        self._started = 0.0
        self._totals = {"taps": 0, "comments": 0, "rejected": 0, "duplicates": 0}
        self._closed = False
        self._desk: GiveawayDesk | None = None
        self._later: set[asyncio.Future[None]] = set()
        """Requests being answered after I/O (kept referenced until done)."""

    async def __aenter__(self) -> Host:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Start the HTTP signaling server (and open the giveaway store, if configured)."""
        if self.config.giveaway_store is not None:
            self._desk = GiveawayDesk.open_file(self.config.giveaway_store, self._fan_out,
                                                self._send_identity, self._presence)
        app = web.Application(client_max_size=128 * 1024)
        offer_for = add_whep_routes(app, self, self.config.secret, self.config.path,
                                    self.config.advanced.sdp_hook)
        app.router.add_get("/health", self._health)
        add_web_routes(app, self.config.path, offer_for=offer_for)  # the browser page at /
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.bind, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise RtcInteractError(
                f"cannot listen on {self.config.bind}:{self.config.port}: {exc.strerror}"
            ) from None
        self._port = self._runner.addresses[0][1]
        self._started = time.monotonic()
        log.info("host listening on %s", self.url)

    @property
    def url(self) -> str:
        """The WHEP endpoint viewers POST their offers to."""
        host = "127.0.0.1" if self.config.bind in ("0.0.0.0", "") else self.config.bind
        return f"http://{host}:{self._port}{self.config.path}"

    def mint_token(self, identity: str, ttl_s: float = 3600.0, region: str = "") -> str:
        """A viewer token signed with this host's secret."""
        return mint(self.config.secret, identity, Role.VIEWER, ttl_s, region)

    async def events(self) -> AsyncIterator[HostEvent]:
        """Viewer events in arrival order, until the host closes."""
        async for event in self._events:
            yield event

    async def broadcast(self, message: Announcement) -> int:
        """Send ``message`` to every viewer whose channel is open; returns how many it reached."""
        return self._fan_out(replace(message, hts=wall_ms()))

    async def send(self, viewer_id: str, message: Announcement) -> None:
        """Send ``message`` to one viewer."""
        session = self._sessions.get(viewer_id)
        if session is None or not session.send(encode(replace(message, hts=wall_ms()))):
            raise ClosedError(f"viewer {viewer_id!r} is not connected")

    def _fan_out(self, message: Downstream) -> int:
        data = encode(message)
        return sum(session.send(data) for session in list(self._sessions.values()))

    def _send_identity(self, identity: str, message: Downstream) -> int:
        data = encode(message)
        return sum(s.send(data) for s in list(self._sessions.values())
                   if s.claims.identity == identity)

    def _presence(self, session: _Session | None = None) -> list[PresenceSpan]:
        """Watch spans (host wall ms) of one session, or of every session still connected."""
        now_mono, now_ms = time.monotonic(), wall_ms()
        sessions = [session] if session else list(self._sessions.values())
        return [PresenceSpan(s.claims.identity, now_ms - round((now_mono - s.started) * 1000),
                             now_ms if session else None) for s in sessions]

    @property
    def giveaways(self) -> GiveawayDesk:
        """The giveaway desk: ``create``, ``open``, ``close``, ``finish`` (needs
        ``HostConfig.giveaway_store``)."""
        if self._desk is None:
            raise ConfigurationError("giveaways need HostConfig.giveaway_store (a SQLite file)")
        return self._desk

    # ------------------------------------------------------------ SessionHandler (signaling)

    def _new_session(self, claims: Claims) -> _Session:
        """A session with its peer connection and channels, not yet listed (refused when the
        host is shutting down or full)."""
        if self._closed:
            raise SessionRefused(503, "host is shutting down")
        if len(self._sessions) >= self.config.max_viewers:
            raise SessionRefused(503, f"host is full ({self.config.max_viewers} viewers)")
        now = time.monotonic()
        core = HostSessionCore(secrets.token_hex(8), claims.identity, self.config.limits,
                               self._sequencer, now,
                               deferred_targets=self._desk.giveaways if self._desk else ())
        return _Session(core, new_peer_connection(), claims, now)

    def _start(self, session: _Session) -> None:
        """Wire a negotiated session; its first keyframe is made ready now."""
        self._wire(session)
        if isinstance(session.track, RungTrack):
            session.track.prepare()  # a keyframe ready when DTLS is done on a short path

    async def open_session(self, offer_sdp: str, claims: Claims,
                           early: tuple[bytes, ...] = ()) -> tuple[str, str, tuple[bytes, ...]]:
        """Accept a viewer's offer: build its peer connection, handle the events that came with
        it (taps made while connecting), and return the answer and their replies."""
        session = self._new_session(claims)
        pc = session.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            session.track = self._video.attach(pc)
            answer_as_dtls_server(pc)  # the viewer starts DTLS once its ICE check succeeds
            answer = await set_local(pc, await pc.createAnswer(), self._ice)
        except Exception as exc:  # aiortc raises ValueError, InternalError, ... for bad SDP
            if session.track is not None:
                session.track.stop()
            await pc.close()
            raise SessionRefused(400, f"cannot use this offer: {exc}") from None
        self._sessions[session.core.viewer_id] = session
        self._start(session)
        replies: list[Downstream] = []
        for data in early:
            now_replies, deferred = self._handle(session, data)
            replies += now_replies
            replies += [await self._answer_later(session, r, wall_ms()) for r in deferred]
        return session.core.viewer_id, answer, tuple(encode(r) for r in replies)

    async def offer_session(self, claims: Claims) -> tuple[str, str]:
        """The host's offer for a viewer who answers it (the browser page gets it inside the
        page load, docs/PROTOCOL.md); (session id, offer). The session ends unless
        :meth:`accept_answer` comes within ``ANSWER_TIMEOUT_S``."""
        session = self._new_session(claims)
        pc = session.pc
        try:
            self._video.offer_video(pc)
            offer = await set_local(pc, await pc.createOffer(), self._ice)
        except Exception as exc:  # gathering found no address, ...
            await pc.close()
            raise SessionRefused(500, f"cannot make an offer: {exc}") from None
        viewer_id = session.core.viewer_id
        self._sessions[viewer_id] = session
        session.unanswered = asyncio.get_running_loop().call_later(
            ANSWER_TIMEOUT_S, lambda: self._keep(self._end(session, "no answer")))
        return viewer_id, offer

    async def accept_answer(self, session_id: str, answer_sdp: str) -> bool:
        """Apply the viewer's answer to :meth:`offer_session`'s offer; False if the session
        is unknown. SessionRefused (409) for a second answer, (400) for a bad one, which
        also ends the session."""
        session = self._sessions.get(session_id)
        if session is None:
            return False
        if session.unanswered is None:
            raise SessionRefused(409, "this session has its answer already")
        session.unanswered.cancel()
        session.unanswered = None
        try:
            # the page answers as DTLS server: the host's ClientHello leaves at the page's
            # first ICE check, and its video right after its Finished (aiortc_dtls)
            with early_dtls(), false_start():
                await session.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
            session.track = self._video.attach(session.pc)
        except Exception as exc:  # aiortc raises ValueError, InternalError, ... for bad SDP
            await self._end(session, "bad answer")
            raise SessionRefused(400, f"cannot use this answer: {exc}") from None
        self._start(session)
        return True

    async def add_candidates(self, session_id: str, candidates: list[TrickleCandidate]) -> bool:
        """Apply trickled remote candidates (already-known ones are harmless)."""
        session = self._sessions.get(session_id)
        if session is None:
            return False
        for item in candidates:
            if item.candidate is None:
                continue
            with contextlib.suppress(ValueError, IndexError):
                candidate = candidate_from_sdp(item.candidate)
                candidate.sdpMid = item.mid
                candidate.sdpMLineIndex = None if item.mid else 0
                await session.pc.addIceCandidate(candidate)
        return True

    async def close_session(self, session_id: str) -> bool:
        """End a session at the viewer's request (DELETE)."""
        session = self._sessions.get(session_id)
        if session is None:
            return False
        await self._end(session, "deleted")
        return True

    # ------------------------------------------------------------ per-session wiring

    def _wire(self, session: _Session) -> None:
        def on_open() -> None:
            session.joined = True
            claims = session.claims
            session.send(encode(Welcome(session.core.viewer_id, claims.identity, wall_ms())))
            for notice in self._desk.notices() if self._desk else ():
                session.send(encode(notice))
            self._events.put(ViewerJoined(session.core.viewer_id, claims.identity))

        def on_message(channel: RTCDataChannel) -> Callable[[bytes | str], None]:
            def handle(data: bytes | str) -> None:
                try:
                    self._on_message(session, data, channel)
                except Exception:  # never let one viewer's message take the host down
                    log.exception("viewer %s: message handling failed", session.core.viewer_id)
                    session.core.errors[ErrorCode.INTERNAL] += 1

            return handle

        async def on_state() -> None:
            if session.pc.connectionState in ("failed", "closed"):
                await self._end(session, session.pc.connectionState)

        def on_ice() -> None:
            if session.pc.iceConnectionState == "completed" and isinstance(session.track,
                                                                           RungTrack):
                session.track.prepare()  # ... and still fresh on a long one

        session.channel.on("open", on_open)
        session.channel.on("message", on_message(session.channel))
        session.fast.on("message", on_message(session.fast))
        session.channel.on("close", lambda: asyncio.ensure_future(self._end(session, "closed")))
        session.pc.on("connectionstatechange", on_state)
        session.pc.on("iceconnectionstatechange", on_ice)

    def _on_message(self, session: _Session, data: bytes | str, channel: RTCDataChannel) -> None:
        replies, deferred = self._handle(session, data)
        for reply in replies:
            self._reply(session, encode(reply), channel)
        for request in deferred:
            self._keep(self._reply_later(session, request, wall_ms(), channel))

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task, referenced until it is done."""
        task = asyncio.ensure_future(work)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    def _handle(self, session: _Session, data: bytes | str
                ) -> tuple[list[Downstream], list[Tap | Claim]]:
        """Run one message through the session core; returns the replies to send now and the
        requests to answer once their I/O is done (giveaway entries and claims)."""
        outcome = session.core.receive(data, time.monotonic(), wall_ms())
        for message in outcome.broadcasts:
            self._fan_out(message)
        for event in outcome.events:
            self._events.put(event)
            if self._desk is not None and isinstance(event, CommentReceived):
                self._desk.note_comment(event.identity, event.text, event.host_ms)
        return outcome.replies, outcome.deferred

    async def _reply_later(self, session: _Session, request: Tap | Claim, arrival_ms: int,
                           channel: RTCDataChannel) -> None:
        try:
            reply = await self._answer_later(session, request, arrival_ms)
        except Exception:  # never let one viewer's request take the host down
            log.exception("viewer %s: deferred request failed", session.core.viewer_id)
            reply = ErrorReply(code=int(ErrorCode.INTERNAL), reason="internal error",
                               ref=request.id)
        self._reply(session, encode(reply), channel)

    async def _answer_later(self, session: _Session, request: Tap | Claim,
                            arrival_ms: int) -> Downstream:
        """A giveaway entry (acknowledged only once durable) or a prize claim."""
        desk, core, claims = self.giveaways, session.core, session.claims
        if isinstance(request, Claim):
            done = await desk.claim(claims.identity, request.g, request.name, request.address,
                                    request.contact)
            if isinstance(done, Refusal):
                return self._refused(session, done, request.id)
            return Ack(id=request.id, n=done.entry_number, hts=wall_ms())
        watched = round((time.monotonic() - session.started) * 1000)
        tap = TapIn(claims.identity, core.viewer_id, claims.region, arrival_ms, request.mts,
                    watched_ms=watched)
        entry = await desk.enter(tap, request.target)
        if isinstance(entry, Refusal):
            return self._refused(session, entry, request.id)
        receipt = (entry.giveaway_id, entry.number, entry.entry_hash)
        ack, event = core.record(request, time.monotonic(), arrival_ms, receipt)
        self._events.put(event)
        return ack

    def _refused(self, session: _Session, refusal: Refusal, ref: int) -> ErrorReply:
        reply, event = session.core.refuse(refusal.code, refusal.reason, ref)
        self._events.put(event)
        return reply

    def _reply(self, session: _Session, data: bytes, channel: RTCDataChannel) -> None:
        """Answer on the channel the request came on; on the fast one, with redundant copies."""
        session.send(data, channel)
        if channel is session.fast and not congested(channel):
            policy = self.config.advanced.retransmit
            loop = asyncio.get_running_loop()
            for offset in policy.copy_offsets_s[1:]:
                loop.call_later(offset, session.send, data, channel)

    async def _end(self, session: _Session, reason: str) -> None:
        viewer_id = session.core.viewer_id
        if self._sessions.pop(viewer_id, None) is None:
            return
        core = session.core
        self._totals["taps"] += core.received["tap"]
        self._totals["comments"] += core.received["comment"]
        self._totals["rejected"] += sum(core.errors.values())
        self._totals["duplicates"] += core.duplicates
        if session.unanswered is not None:
            session.unanswered.cancel()
        if session.track is not None:
            session.track.stop()
        if session.joined:
            self._events.put(ViewerLeft(viewer_id, session.claims.identity, reason))
        if self._desk is not None:
            self._desk.viewer_left(self._presence(session)[0])
        await session.pc.close()

    # ------------------------------------------------------------ stats and shutdown

    async def stats(self) -> HostStats:
        """Host-wide counters and per-viewer stats (reads aiortc's RTP statistics)."""
        viewers = [await self._viewer_stats(s) for s in list(self._sessions.values())]
        return HostStats(
            viewers=tuple(viewers),
            taps=self._totals["taps"] + sum(v.taps for v in viewers),
            comments=self._totals["comments"] + sum(v.comments for v in viewers),
            rejected=self._totals["rejected"] + sum(v.rejected for v in viewers),
            duplicates=self._totals["duplicates"] + sum(v.duplicates for v in viewers),
            events_dropped=self._events.dropped,
            uptime_s=time.monotonic() - self._started,
            rungs=self._video.rung_stats(),
        )

    async def _viewer_stats(self, session: _Session) -> ViewerStats:
        report = await session.pc.getStats()
        sent = sum(getattr(s, "bytesSent", 0) for s in report.values() if s.type == "outbound-rtp")
        now = time.monotonic()
        then, before = session.sample
        session.sample = (now, sent)
        core = session.core
        track = session.track if isinstance(session.track, RungTrack) else None
        return ViewerStats(
            viewer_id=core.viewer_id, identity=core.identity, connected_s=now - session.started,
            taps=core.received["tap"], comments=core.received["comment"],
            rejected=sum(core.errors.values()), rate_limited=core.errors[ErrorCode.RATE_LIMITED],
            duplicates=core.duplicates,
            bytes_sent=sent, kbps=(sent - before) * 8 / 1000 / max(now - then, 1e-3),
            rung=track.rung if track else None, switches=track.switches if track else 0,
            link=self._video.link_stats(session.track),
        )

    def set_rung(self, viewer_id: str, rung: int) -> None:
        """Move a viewer to ladder rung ``rung`` (0 is the top) at that rung's next keyframe."""
        session = self._sessions.get(viewer_id)
        if session is None:
            raise ClosedError(f"viewer {viewer_id!r} is not connected")
        self._video.set_rung(session.track, rung)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "viewers": len(self._sessions)})

    async def aclose(self) -> None:
        """Close every session and the signaling server (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for session in list(self._sessions.values()):
            await self._end(session, "host-closed")
        self._events.close()
        if self._desk is not None:
            await self._desk.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
        await self._video.aclose()
        self._source.stop()
