"""The viewer's robust receiving end to end: real host and viewer through the link emulator."""

from __future__ import annotations

import asyncio
import contextlib
import time

from rtc_interact import Viewer
from rtc_interact.bench.harness import linked_host
from rtc_interact.linkemu import parse_profiles
from rtc_interact.viewer import ReceivedFrame

PROFILES = parse_profiles({"profiles": {
    "rx-loss5": {
        "summary": "60 ms RTT, 5% random loss both ways",
        "both": {"delay_ms": 30, "loss": {"model": "bernoulli", "pct": 5}},
    },
    "rx-clean-150": {
        "summary": "150 ms RTT, nothing lost",
        "both": {"delay_ms": 75},
    },
    "rx-blackout": {
        "summary": "40 ms RTT; host-to-viewer loses everything from 3 s to 4 s",
        "both": {"delay_ms": 20},
        "schedule": [
            {"at_s": 3, "a_to_b": {"loss": {"model": "bernoulli", "pct": 100}}},
            {"at_s": 4, "a_to_b": {"loss": {"model": "bernoulli", "pct": 0}}},
        ],
    },
}})


async def _watch(viewer: Viewer, seconds: float) -> list[ReceivedFrame]:
    frames: list[ReceivedFrame] = []

    async def consume() -> None:
        async for frame in viewer.frames():
            frames.append(frame)

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return frames


async def test_no_damaged_frame_reaches_the_app_on_a_lossy_link() -> None:
    async with (linked_host("ours", PROFILES["rx-loss5"], seed=3) as link,
                Viewer.connect(link.url, token=link.token) as viewer):
        frames = await _watch(viewer, 8.0)
        stats = viewer.stats()
    assert len(frames) > 50
    damaged = [f for f in frames if f.stamp is None]  # stamp CRC failed: a garbled picture
    assert damaged == []
    assert stats.receiver.nacks_sent > 0  # there was loss to repair
    assert stats.receiver.nack_echoes > 0  # each NACK went twice
    assert stats.receiver.decoder_errors == 0
    assert stats.g2g_ms is not None
    assert stats.g2g_ms.max < 5000  # bounded (stock aiortc's buffer reached 18 s)


async def test_after_a_blackout_a_keyframe_is_requested_and_the_picture_recovers() -> None:
    linked_at_ms = time.time() * 1000
    async with (linked_host("ours", PROFILES["rx-blackout"], seed=1) as link,
                Viewer.connect(link.url, token=link.token) as viewer):
        frames = await _watch(viewer, 8.0)
        stats = viewer.stats()
    before = [f for f in frames if f.received_ms < linked_at_ms + 3000]
    after = [f for f in frames if f.received_ms > linked_at_ms + 5000]
    assert len(before) > 10 and len(after) > 30  # the picture came back (stock aiortc: stuck)
    assert all(f.stamp is not None for f in frames)
    stamps = [f.stamp.frame_no for f in after if f.stamp is not None]
    assert stamps == sorted(stamps)  # in order, nothing stale replayed
    # the hole was given up: abandoned, or skipped when the keyframe that followed was due
    assert stats.receiver.frames_abandoned + stats.receiver.frames_skipped >= 1
    assert stats.receiver.keyframes_requested >= 1  # PLI


async def test_from_the_first_packet_the_viewer_holds_frames_by_the_ice_round_trip() -> None:
    """Nothing is lost here, yet frames play out about a round trip late from the start: the
    first loss on a lossy path comes in the first second or two, and without the delay it
    froze the picture (``ReceiveConfig.playout_from_start``)."""
    async with (linked_host("ours", PROFILES["rx-clean-150"], seed=1) as link,
                Viewer.connect(link.url, token=link.token) as viewer):
        frames = await _watch(viewer, 2.0)
        stats = viewer.stats().receiver
    assert len(frames) > 20 and stats.nacks_sent == 0
    # the ICE checks' round trip (~150 ms) less the 30 ms margin, not the NACKs' 200 ms guess
    assert 110 <= stats.playout_ms <= 150 and stats.rtt_ms == 200
