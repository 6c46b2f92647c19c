"""The two implementations behind one interface, and a host placed behind an emulated link."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from ..config import AdvancedSettings, HostConfig, VideoConfig, ViewerConfig
from ..datachannel.clock import wall_ms
from ..datachannel.hostcore import Limits
from ..datachannel.ratelimit import RateLimit
from ..host import Host
from ..linkemu import LinkEmulator, LinkProfile
from ..tokens import new_secret
from ..transport.signaling import SdpHook
from ..viewer import Viewer
from .baseline import BaselineHost, BaselineViewer
from .metrics import FrameLog
from .tcpdelay import TcpDelayProxy

IMPLEMENTATIONS = ("ours", "aiortc")
VIEWERS = ("ours", "aiortc", "chromium")
"""Implementations plus Chromium (our host, the page in rtc_interact/web as the viewer)."""
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

    async def first_ack(self) -> float:
        """Ms from the start of connect() until the first tap was acknowledged."""

    async def receiver_stats(self) -> dict[str, Any] | None:
        """The viewer's own receive counters (None: it keeps none)."""

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

    async def on_trickle(self, fragment: str) -> str:
        """Candidates the viewer trickles later (a browser) are fronted like the offer's."""
        return await self.emulator.front_sdp(fragment, "b")


@dataclass(frozen=True, slots=True)
class Link:
    """A host behind an emulated link."""

    url: str
    """Signaling URL through the delaying TCP relay."""
    token: str
    """A viewer token."""
    emulator: LinkEmulator
    """The UDP link emulator."""
    host: Host | BaselineHost | None = None
    """The host behind the link."""


class PerSessionLinks:
    """Gives every viewer session its own emulated link (seeds seed, seed+1, ...)."""

    def __init__(self, profile: LinkProfile, seed: int) -> None:
        self.profile, self.seed = profile, seed
        self.emulators: list[LinkEmulator] = []
        self._current: contextvars.ContextVar[LinkEmulator] = contextvars.ContextVar("link")

    async def on_offer(self, sdp: str) -> str:
        """A new link for a new session (offer and answer pass in the same request task)."""
        emulator = LinkEmulator(self.profile, seed=self.seed + len(self.emulators))
        await emulator.start()
        self.emulators.append(emulator)
        self._current.set(emulator)
        return await emulator.front_sdp(sdp, "b")

    async def on_answer(self, sdp: str) -> str:
        """The host's side of the same link."""
        return await self._current.get().front_sdp(sdp, "a")

    async def on_trickle(self, fragment: str) -> str:
        """Not supported (the PATCH does not say which link): trickled candidates are dropped."""
        return "\n".join(line for line in fragment.splitlines()
                         if not line.startswith("a=candidate:"))

    async def aclose(self) -> None:
        """Close every link."""
        for emulator in self.emulators:
            await emulator.aclose()


@contextlib.asynccontextmanager
async def serve(impl: str, profile: LinkProfile, hook: SdpHook,
                video: VideoConfig | None = None) -> AsyncIterator[tuple[str, Host | BaselineHost]]:
    """A host of ``impl`` using ``hook``, reached through a TCP relay delayed like ``profile``."""
    config = HostConfig(
        secret=new_secret(), port=0, video=video or VideoConfig(), max_viewers=1000,
        limits=Limits(taps=RateLimit(1000, 1000)), advanced=AdvancedSettings(sdp_hook=hook),
    )
    host: Host | BaselineHost = BaselineHost(config) if impl == "aiortc" else Host(config)
    async with host:
        port = int(host.url.split(":")[2].split("/")[0])
        up = profile.params_at("b_to_a", 0).delay_ms
        down = profile.params_at("a_to_b", 0).delay_ms
        async with TcpDelayProxy(("127.0.0.1", port), up, down) as proxy:
            yield host.url.replace(f":{port}/", f":{proxy.port}/"), host


@contextlib.asynccontextmanager
async def linked_host(impl: str, profile: LinkProfile, seed: int,
                      video: VideoConfig | None = None) -> AsyncIterator[Link]:
    """Start a host of ``impl`` behind ``profile``; yields where a viewer should connect."""
    async with (LinkEmulator(profile, seed=seed) as emulator,
                serve(impl, profile, EmulatorHook(emulator), video) as (url, host)):
        yield Link(url, host.mint_token(f"bench-{impl}"), emulator, host)


class OursSession:
    """Our Viewer, with a task that logs every frame."""

    def __init__(self, viewer: Viewer, early_tap: asyncio.Task[float]) -> None:
        self.viewer = viewer
        self.frames = FrameLog()
        self._task = asyncio.ensure_future(self._consume())
        self._early_tap = early_tap

    async def _consume(self) -> None:
        async for item in self.viewer.frames():
            self.frames.add(item.frame, time.perf_counter(), item.received_ms, item.stamp)

    def marks(self) -> dict[str, float | None]:
        return dataclasses.asdict(self.viewer.connect_timings())

    def connected(self) -> bool:
        return self.viewer.connection_state == "connected"

    async def tap(self) -> float:
        return (await self.viewer.tap()).rtt_ms

    async def first_ack(self) -> float:
        """The tap was issued the moment connect() started (it waits for the channel)."""
        return await self._early_tap

    async def receiver_stats(self) -> dict[str, Any] | None:
        """NACKs, abandoned and skipped frames, copies (``ReceiverStats``)."""
        return dataclasses.asdict(self.viewer.stats().receiver)

    async def aclose(self) -> None:
        self._task.cancel()
        self._early_tap.cancel()
        await self.viewer.aclose()


class AiortcSession:
    """The baseline viewer, with a task that decodes and logs every frame."""

    def __init__(self, viewer: BaselineViewer, started: float) -> None:
        self.viewer = viewer
        self.frames = FrameLog()
        self._started = started
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
                self.frames.add(frame, time.perf_counter(), wall_ms())

    def marks(self) -> dict[str, float | None]:
        return {stage: self.viewer.marks.get(stage) for stage in STAGES}

    def connected(self) -> bool:
        return bool(self.viewer.pc.connectionState == "connected")

    async def tap(self) -> float:
        return await self.viewer.tap()

    async def first_ack(self) -> float:
        """A stock viewer can only tap once its data channel is open."""
        await self.viewer.tap()
        return (time.perf_counter() - self._started) * 1000

    async def receiver_stats(self) -> dict[str, Any] | None:
        """The stock viewer keeps no receive counters of its own."""
        return None

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.viewer.aclose()


async def _timed_tap(viewer: Viewer, started: float) -> float:
    await viewer.tap()
    return (time.perf_counter() - started) * 1000


async def connect(impl: str, link: Link, timeout_s: float = 30.0) -> Session:
    """Connect a viewer of ``impl`` through ``link``."""
    started = time.perf_counter()
    if impl == "chromium":  # our host, the browser page as the viewer
        from .browser import connect_chromium

        return await connect_chromium(link.url, link.token, timeout_s)
    if impl == "ours":
        config = ViewerConfig(connect_timeout_s=timeout_s, request_timeout_s=timeout_s,
                              frame_buffer=512)
        viewer = Viewer(link.url, link.token, config)
        opening = asyncio.ensure_future(viewer.open())
        early_tap = asyncio.ensure_future(_timed_tap(viewer, started))
        try:
            await opening
        except BaseException:
            early_tap.cancel()
            await viewer.aclose()
            raise
        return OursSession(viewer, early_tap)
    baseline = BaselineViewer(link.url, link.token)
    session = AiortcSession(baseline, started)
    try:
        await baseline.connect(timeout_s)
    except BaseException:
        await session.aclose()
        raise
    return session
