"""Tap storm: many viewers, each on its own emulated link, all tapping within one short window.

Viewers receive no video here (the storm is about the event path, and 50 stock per-viewer VP8
encoders would saturate a 2-core host on their own). Each viewer connects, then taps once at a
seeded random moment inside the window; the host must record every tap exactly once.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from ..config import ViewerConfig
from ..host import Host
from ..linkemu import LinkProfile
from ..viewer import Viewer
from .baseline import BaselineHost, BaselineViewer
from .harness import PerSessionLinks, serve


@dataclass(slots=True)
class StormRun:
    """What one storm showed."""

    viewers: int
    """Viewers that connected."""
    acks_ms: list[float] = field(default_factory=list)
    """Tap-to-acknowledgement times of acknowledged taps."""
    lost: int = 0
    """Taps never acknowledged."""
    recorded: int = 0
    """Taps the host recorded."""
    duplicates_absorbed: int = 0
    """Redundant or retransmitted copies the host recognised and did not record again."""


async def _viewer(impl: str, url: str, token: str) -> Viewer | BaselineViewer:
    if impl == "ours":
        viewer = Viewer(url, token, ViewerConfig(receive_video=False, request_timeout_s=20,
                                                 connect_timeout_s=30))
        try:
            await viewer.open()
        except BaseException:
            await viewer.aclose()
            raise
        return viewer
    baseline = BaselineViewer(url, token, video=False)
    try:
        await baseline.connect()
    except BaseException:
        await baseline.aclose()
        raise
    return baseline


async def _tap_at(viewer: Viewer | BaselineViewer, delay_s: float, out: StormRun) -> None:
    await asyncio.sleep(delay_s)
    try:
        if isinstance(viewer, Viewer):
            out.acks_ms.append((await viewer.tap("storm")).rtt_ms)
        else:
            out.acks_ms.append(await viewer.tap(timeout_s=20))
    except Exception:
        out.lost += 1


async def run_storm(impl: str, profile: LinkProfile, viewers: int, window_s: float,
                    seed: int) -> StormRun:
    """Connect ``viewers``, then each taps once at a random moment within ``window_s``."""
    links = PerSessionLinks(profile, seed)
    rng = random.Random(seed)
    try:
        async with serve(impl, profile, links) as (url, host):
            tokens = [host.mint_token(f"storm-{i}") for i in range(viewers)]
            results = await asyncio.gather(*(_viewer(impl, url, t) for t in tokens),
                                           return_exceptions=True)
            connected = [v for v in results if not isinstance(v, BaseException)]
            failed = [e for e in results if isinstance(e, BaseException)]
            if failed:  # one failed connect fails the storm; close the others first
                for viewer in connected:
                    await viewer.aclose()
                raise failed[0]
            out = StormRun(viewers=len(connected))
            started = time.perf_counter()
            await asyncio.gather(*(_tap_at(v, rng.uniform(0, window_s), out) for v in connected))
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started - window_s)))
            out.recorded, out.duplicates_absorbed = await _host_counts(host)
            for viewer in connected:
                await viewer.aclose()
    finally:
        await links.aclose()
    return out


async def _host_counts(host: Host | BaselineHost) -> tuple[int, int]:
    if isinstance(host, Host):
        stats = await host.stats()
        return stats.taps, stats.duplicates
    return host.taps, 0
