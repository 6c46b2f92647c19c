"""The three benchmark suites; each runs one implementation on one profile and returns raw data."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..host import Host
from ..linkemu import LinkProfile
from ..transport.aiortc_compat import KeyframeCounter, count_vp8_keyframes
from .harness import STAGES, Link, connect, linked_host
from .metrics import VideoSummary, summarise

Progress = Callable[[int], object]


@dataclass(slots=True)
class ConnectRun:
    """Stages of one connect, in ms from the start of connect()."""

    stages: dict[str, float | None]
    """STAGES plus first_ack."""
    error: str | None = None
    """Why the connect failed (None: it did not)."""


async def run_connect(impl: str, profile: LinkProfile, runs: int, seed: int,
                      progress: Progress) -> list[ConnectRun]:
    """``runs`` fresh viewers, each connecting, tapping once and waiting for the first frame."""
    results = []
    wait_frame_s = max(5.0, profile.rtt_ms * 40 / 1000)
    for run in range(runs):
        async with linked_host(impl, profile, seed + run) as link:
            try:
                session = await connect(impl, link)
            except Exception as exc:  # a failed connect is a result, not the end of the run
                results.append(ConnectRun(dict.fromkeys((*STAGES, "first_ack")), repr(exc)))
                progress(1)
                continue
            try:
                first_ack = await session.first_ack()
                for _ in range(int(wait_frame_s * 100)):  # bounded poll of the mark
                    if session.marks()["first_frame"] is not None:
                        break
                    await asyncio.sleep(0.01)
                stages = {**session.marks(), "first_ack": first_ack}
            finally:
                await session.aclose()
        results.append(ConnectRun(stages))
        progress(1)
    return results


@dataclass(slots=True)
class InteractionRun:
    """Tap round trips of one session."""

    rtts_ms: list[float] = field(default_factory=list)
    """Round trips of acknowledged taps."""
    lost: int = 0
    """Taps never acknowledged (timed out or failed)."""
    sent: int = 0
    """Taps sent."""


async def _tap(session: Any, out: InteractionRun) -> None:
    out.sent += 1
    try:
        out.rtts_ms.append(await session.tap())
    except Exception:
        out.lost += 1


async def run_interaction(impl: str, profile: LinkProfile, taps: int, rate: float, burst: int,
                          seed: int, progress: Progress) -> InteractionRun:
    """``taps`` taps at ``rate`` per second (open loop), then ``burst`` taps at once."""
    out = InteractionRun()
    async with linked_host(impl, profile, seed) as link:
        session = await connect(impl, link)
        try:
            pending: list[asyncio.Task[None]] = []
            started = time.perf_counter()
            for i in range(taps):
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                pending.append(asyncio.ensure_future(_tap(session, out)))
                progress(1)
            await asyncio.gather(*pending)
            await asyncio.gather(*(_tap(session, out) for _ in range(burst)))
            progress(burst)
        finally:
            await session.aclose()
    return out


@dataclass(slots=True)
class VideoRun:
    """One video session."""

    summary: VideoSummary
    """Frames, freezes, latency."""
    kbps: list[float]
    """Delivered host-to-viewer rate in each second (from the link emulator)."""
    capacity_kbps: list[float | None]
    """The profile's host-to-viewer capacity in each second."""
    survived: bool
    """Connected at the end and frames still arriving in the last 2 seconds."""
    keyframes: int
    """VP8 keyframes given to the viewer's decoder during the session, the first included
    (Chromium: its own ``keyFramesDecoded``)."""
    queue_ms_max: list[float] = field(default_factory=list)
    """Longest host-to-viewer queue of the link in each second."""
    dropped_queue: list[int] = field(default_factory=list)
    """Packets the link's host-to-viewer queue dropped in each second (sent beyond capacity)."""
    host_link: dict[str, Any] | None = None
    """Our host's view of the viewer at the end (rung, estimate, loss, NACKs, RTX, grade)."""
    viewer_receiver: dict[str, Any] | None = None
    """The viewer's receive counters at the end: ours (NACKs, abandoned and skipped frames,
    copies) or Chromium's ``inbound-rtp`` (its own freeze count among them); None for stock."""


async def run_video(impl: str, profile: LinkProfile, seconds: int, seed: int,
                    progress: Progress) -> VideoRun:
    """Watch for ``seconds`` and summarise what was decoded."""
    with count_vp8_keyframes() as keyframes:
        return await _watch(impl, profile, seconds, seed, progress, keyframes)


async def _watch(impl: str, profile: LinkProfile, seconds: int, seed: int, progress: Progress,
                 keyframes: KeyframeCounter) -> VideoRun:
    async with linked_host(impl, profile, seed) as link:
        session = await connect(impl, link)
        try:
            started = time.perf_counter()
            for second in range(seconds):
                await asyncio.sleep(max(0.0, started + second + 1 - time.perf_counter()))
                progress(1)
            receiver = await session.receiver_stats()
            alive = session.connected()
            keys = keyframes.count if impl != "chromium" \
                else int((receiver or {}).get("keyFramesDecoded", 0))
            recent = [r for r in session.frames.records if r.at_s >= time.perf_counter() - 2]
            stats = link.emulator.stats()
            link_t0 = time.perf_counter() - stats.elapsed_s
            host_link = await _host_link(link)
        finally:
            await session.aclose()
    offset = max(0, round(started - link_t0))
    seconds_stats = stats.a_to_b.seconds[offset: offset + seconds]
    return VideoRun(
        summary=summarise(session.frames, started, seconds),
        kbps=[round(s.delivered_kbps, 1) for s in seconds_stats],
        capacity_kbps=[profile.params_at("a_to_b", offset + i).rate_kbps for i in range(seconds)],
        survived=alive and bool(recent),
        keyframes=keys,
        queue_ms_max=[round(s.queue_ms_max, 1) for s in seconds_stats],
        dropped_queue=[s.dropped_queue for s in seconds_stats],
        host_link=host_link,
        viewer_receiver=receiver,
    )


async def _host_link(link: Link) -> dict[str, Any] | None:
    """Our host's stats of its one viewer (None for the stock host)."""
    host = link.host
    if not isinstance(host, Host):
        return None
    viewers = (await host.stats()).viewers
    if not viewers or viewers[0].link is None:
        return None
    out = dataclasses.asdict(viewers[0].link)
    out["quality"] = viewers[0].link.quality.value
    out["switches"] = viewers[0].switches
    return out


__all__ = ["STAGES", "ConnectRun", "InteractionRun", "VideoRun", "run_connect",
           "run_interaction", "run_video"]
