"""The two implementations behind one interface, and a host placed behind an emulated link."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from ..config import AdvancedSettings, HostConfig, VideoConfig, ViewerConfig
from ..datachannel.hostcore import Limits
from ..datachannel.ratelimit import RateLimit
from ..host import Host
from ..linkemu import LinkEmulator, LinkProfile
from ..tokens import new_secret
from ..viewer import Viewer
from .baseline import BaselineHost, BaselineViewer
from .metrics import FrameLog
from .tcpdelay import TcpDelayProxy

IMPLEMENTATIONS = ("ours", "aiortc")
STAGES = ("signaling", "ice", "dtls", "channel_open", "first_frame")


class Session(Protocol):
    """One connected viewer, whichever implementation."""

    frames: FrameLog

    def marks(self) -> dict[str, float | None]:
        """Connect stages (STAGES) in ms from the start of connect()."""

    def connected(self) -> bool:
        """Whether the peer connection is still up."""

    async def tap(self) -> float:
        """Tap and wait for the acknowledgement; the round trip in ms."""

    async def aclose(self) -> None:
        """Leave."""


class EmulatorHook:
    """Puts a LinkEmulator between the peers by rewriting candidates in signaling."""

    def __init__(self, emulator: LinkEmulator) -> None:
        self.emulator = emulator

    async def on_offer(self, sdp: str) -> str:
        """The viewer is side b."""
        return await self.emulator.front_sdp(sdp, "b")

    async def on_answer(self, sdp: str) -> str:
        """The host is side a."""
        return await self.emulator.front_sdp(sdp, "a")


@dataclass(frozen=True, slots=True)
class Link:
    """A host behind an emulated link."""

    url: str
    """Signaling URL through the delaying TCP relay."""
    token: str
    """A viewer token."""
    emulator: LinkEmulator
    """The UDP link emulator."""


@contextlib.asynccontextmanager
async def linked_host(impl: str, profile: LinkProfile, seed: int,
                      video: VideoConfig | None = None) -> AsyncIterator[Link]:
    """Start a host of ``impl`` behind ``profile``; yields where a viewer should connect."""
    async with LinkEmulator(profile, seed=seed) as emulator:
        config = HostConfig(
            secret=new_secret(), port=0, video=video or VideoConfig(),
            limits=Limits(taps=RateLimit(1000, 1000)),
            advanced=AdvancedSettings(sdp_hook=EmulatorHook(emulator)),
        )
        host: Host | BaselineHost = Host(config) if impl == "ours" else BaselineHost(config)
        async with host:
            port = int(host.url.split(":")[2].split("/")[0])
            up = profile.params_at("b_to_a", 0).delay_ms
            down = profile.params_at("a_to_b", 0).delay_ms
            async with TcpDelayProxy(("127.0.0.1", port), up, down) as proxy:
                url = host.url.replace(f":{port}/", f":{proxy.port}/")
                yield Link(url, host.mint_token(f"bench-{impl}"), emulator)


class OursSession:
    """Our Viewer, with a task that logs every frame."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.frames = FrameLog()
        self._task = asyncio.ensure_future(self._consume())

    async def _consume(self) -> None:
        async for item in self.viewer.frames():
            self.frames.add(item.frame, time.perf_counter(), item.received_ms, item.stamp)

    def marks(self) -> dict[str, float | None]:
        return dataclasses.asdict(self.viewer.connect_timings())

    def connected(self) -> bool:
        return self.viewer.connection_state == "connected"

    async def tap(self) -> float:
        return (await self.viewer.tap()).rtt_ms

    async def aclose(self) -> None:
        self._task.cancel()
        await self.viewer.aclose()


class AiortcSession:
    """The baseline viewer, with a task that decodes and logs every frame."""

    def __init__(self, viewer: BaselineViewer) -> None:
        self.viewer = viewer
        self.frames = FrameLog()
        self._task: asyncio.Task[None] | None = None
        if viewer.track is not None:
            self._start(viewer.track)
        viewer.pc.on("track", self._start)

    def _start(self, track: MediaStreamTrack) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._consume(track))

    async def _consume(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                self.viewer._mark("first_frame")
                self.frames.add(frame, time.perf_counter(), time.time_ns() // 1_000_000)

    def marks(self) -> dict[str, float | None]:
        return {stage: self.viewer.marks.get(stage) for stage in STAGES}

    def connected(self) -> bool:
        return bool(self.viewer.pc.connectionState == "connected")

    async def tap(self) -> float:
        return await self.viewer.tap()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.viewer.aclose()


async def connect(impl: str, link: Link, timeout_s: float = 30.0) -> Session:
    """Connect a viewer of ``impl`` through ``link``."""
    if impl == "ours":
        config = ViewerConfig(connect_timeout_s=timeout_s, request_timeout_s=timeout_s,
                              frame_buffer=512)
        viewer = Viewer(link.url, link.token, config)
        try:
            await viewer.open()
        except BaseException:
            await viewer.aclose()
            raise
        return OursSession(viewer)
    baseline = BaselineViewer(link.url, link.token)
    session = AiortcSession(baseline)
    try:
        await baseline.connect(timeout_s)
    except BaseException:
        await session.aclose()
        raise
    return session
