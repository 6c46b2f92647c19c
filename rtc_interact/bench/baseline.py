"""The stock-aiortc baseline: host and viewer written as a typical aiortc user writes them.

* the data channel is created in-band by the viewer (DCEP), ordered and reliable, label "chat";
* messages are JSON text: ``{"type": "tap", "id": N}`` answered by ``{"type": "ack", "id": N}``;
* video goes through aiortc's stock sender (one encoder per viewer) from the same test pattern.

Only two things are shared with our SDK, to keep the comparison fair: the WHEP HTTP signaling
routes (so the same link-emulator hook and the same HTTP path apply) and loopback ICE gathering
(without it, aiortc peers cannot meet on 127.0.0.1 at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay

from ..config import HostConfig
from ..errors import ClosedError
from ..media.sources import TestPatternTrack
from ..tokens import Claims, Role, mint
from ..transport.aiortc_compat import ice_host_addresses
from ..transport.peer import LOOPBACK
from ..transport.signaling import SessionRefused, TrickleCandidate, WhepClient, add_whep_routes


class BaselineHost:
    """A plain aiortc host behind the same WHEP routes."""

    def __init__(self, config: HostConfig) -> None:
        self.config = config
        video = config.video
        self._source = TestPatternTrack(video.width, video.height, video.fps)
        self._relay = MediaRelay()
        self._pcs: dict[str, RTCPeerConnection] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.taps = 0

    async def __aenter__(self) -> BaselineHost:
        app = web.Application()
        add_whep_routes(app, self, self.config.secret, self.config.path,
                        self.config.advanced.sdp_hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{self.config.path}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for pc in list(self._pcs.values()):
            await pc.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._source.stop()

    def mint_token(self, identity: str) -> str:
        """A viewer token for this host."""
        return mint(self.config.secret, identity, Role.VIEWER)

    async def open_session(self, offer_sdp: str, claims: Claims,
                           early: tuple[bytes, ...]) -> tuple[str, str, tuple[bytes, ...]]:
        """The textbook aiortc answerer (a stock viewer sends no early events)."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        session_id = f"s{len(self._pcs) + 1}"
        self._pcs[session_id] = pc

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def on_message(message: str | bytes) -> None:
                data = json.loads(message)
                if data.get("type") == "tap":
                    self.taps += 1
                    channel.send(json.dumps({"type": "ack", "id": data["id"], "n": self.taps}))

        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            if any(t.kind == "video" for t in pc.getTransceivers()):
                pc.addTrack(self._relay.subscribe(self._source))
            with ice_host_addresses(LOOPBACK):
                await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await pc.close()
            raise SessionRefused(400, f"bad offer: {exc}") from None
        return session_id, pc.localDescription.sdp, ()

    async def offer_session(self, claims: Claims) -> tuple[str, str]:
        """The baseline serves no page, so nothing asks it to offer."""
        raise SessionRefused(501, "the baseline host only answers offers")

    async def accept_answer(self, session_id: str, answer_sdp: str) -> bool:
        """See ``offer_session``."""
        raise SessionRefused(501, "the baseline host only answers offers")

    async def add_candidates(self, session_id: str, candidates: list[TrickleCandidate]) -> bool:
        """Trickle is not used by the baseline viewer."""
        return session_id in self._pcs

    async def close_session(self, session_id: str) -> bool:
        """DELETE closes the peer connection."""
        pc = self._pcs.pop(session_id, None)
        if pc is None:
            return False
        await pc.close()
        return True


class BaselineViewer:
    """A plain aiortc viewer: in-band data channel, JSON taps, stock receiver."""

    def __init__(self, url: str, token: str, video: bool = True) -> None:
        self.url, self.video = url, video
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._http = WhepClient(url, token)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self._location: str | None = None
        self.marks: dict[str, float] = {}
        self.track: MediaStreamTrack | None = None
        self.t0 = 0.0

    def _mark(self, stage: str) -> None:
        self.marks.setdefault(stage, (time.perf_counter() - self.t0) * 1000)

    async def connect(self, timeout_s: float = 30.0) -> None:
        """Offer, POST, answer, and wait for the data channel to open."""
        self.t0 = time.perf_counter()
        pc = self.pc
        self.channel = pc.createDataChannel("chat")
        opened = asyncio.get_running_loop().create_future()
        self.channel.on("open", lambda: None if opened.done() else opened.set_result(None))
        self.channel.on("message", self._on_message)
        pc.on("iceconnectionstatechange",
              lambda: self._mark("ice") if pc.iceConnectionState == "completed" else None)
        pc.on("connectionstatechange",
              lambda: self._mark("dtls") if pc.connectionState == "connected" else None)
        pc.on("track", self._on_track)
        if self.video:
            pc.addTransceiver("video", direction="recvonly")
        async with asyncio.timeout(timeout_s):
            with ice_host_addresses(LOOPBACK):
                await pc.setLocalDescription(await pc.createOffer())
            answer = await self._http.offer(pc.localDescription.sdp)
            self._location = answer.location
            self._mark("signaling")
            await pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
            await opened
            self._mark("channel_open")

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.track = track

    def _on_message(self, message: str | bytes) -> None:
        data = json.loads(message)
        future = self._pending.pop(data.get("id"), None)
        if future is not None and not future.done():
            future.set_result(data)

    async def tap(self, timeout_s: float = 30.0) -> float:
        """Send a tap and wait for its ack; returns the round trip in ms."""
        if self.channel.readyState != "open":
            raise ClosedError("baseline channel is not open")
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        sent = time.perf_counter()
        self.channel.send(json.dumps({"type": "tap", "id": self._next_id}))
        async with asyncio.timeout(timeout_s):
            await future
        return (time.perf_counter() - sent) * 1000

    async def aclose(self) -> None:
        """DELETE and close."""
        if self._location is not None:
            with contextlib.suppress(Exception):  # best effort, like most apps
                await asyncio.wait_for(self._http.leave(self._location), 2.0)
        await self._http.aclose()
        await self.pc.close()
