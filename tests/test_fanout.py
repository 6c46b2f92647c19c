"""Encode-once fan-out with real aiortc peers on loopback: rung switches, PLI, the stock path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket

from rtc_interact import ConfigurationError, Host, HostConfig, VideoConfig, Viewer, new_secret
from rtc_interact.viewer import ReceivedFrame


def _config(encode_once: bool = True) -> HostConfig:
    return HostConfig(secret=new_secret(), port=0,
                      video=VideoConfig(640, 360, 30, encode_once=encode_once, abr=None))


async def _frames(viewer: Viewer, count: int, width: int | None = None,
                  timeout_s: float = 10.0) -> list[ReceivedFrame]:
    """The next ``count`` frames (of ``width``, when given)."""
    out: list[ReceivedFrame] = []
    async with asyncio.timeout(timeout_s):
        async for frame in viewer.frames():
            if width is None or frame.frame.width == width:
                out.append(frame)
            if len(out) == count:
                break
    return out


async def _viewer_id(host: Host) -> str:
    stats = await host.stats()
    assert len(stats.viewers) == 1
    return stats.viewers[0].viewer_id


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    async with Host(_config()) as running:
        yield running


async def test_set_rung_moves_the_viewer_and_stamps_stay_readable(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("a")) as viewer:
        top = await _frames(viewer, 5)
        assert {f.frame.width for f in top} == {640}
        viewer_id = await _viewer_id(host)
        host.set_rung(viewer_id, 1)
        small = await _frames(viewer, 10, width=320)
        assert sum(f.stamp is not None for f in small) >= 8
        stats = await host.stats()
        with pytest.raises(ConfigurationError):
            host.set_rung(viewer_id, 7)
    assert (stats.viewers[0].rung, stats.viewers[0].switches) == (1, 1)
    assert [r.viewers for r in stats.rungs] == [0, 1, 0]
    numbers = [f.stamp.frame_no for f in top + small if f.stamp is not None]
    assert numbers == sorted(numbers)


async def test_many_viewers_share_one_encoder_per_rung(host: Host) -> None:
    viewers = [Viewer.connect(host.url, token=host.mint_token(f"v{i}")) for i in range(3)]
    try:
        await asyncio.gather(*(v.open() for v in viewers))
        await asyncio.gather(*(_frames(v, 10) for v in viewers))
        stats = await host.stats()
    finally:
        await asyncio.gather(*(v.aclose() for v in viewers))
    top = stats.rungs[0]
    assert top.viewers == 3
    produced = host._source._count  # type: ignore[attr-defined]
    assert 0 < top.frames <= produced  # once per source frame, not once per viewer
    assert top.keyframes <= 1 + 3 + 2 * stats.uptime_s  # joins and the gap, not one per frame


async def test_picture_loss_from_the_viewer_asks_its_rung_for_a_keyframe(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("a")) as viewer:
        await _frames(viewer, 30)  # past the join's keyframe gap
        before = (await host.stats()).rungs[0].keyframes
        session = host._sessions[await _viewer_id(host)]
        sender = next(s for s in session.pc.getSenders() if s.kind == "video")
        await sender._handle_rtcp_packet(
            RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=sender._ssrc))
        await _frames(viewer, 3)
        after = (await host.stats()).rungs[0].keyframes
    assert after == before + 1


async def test_per_viewer_encoding_is_still_available() -> None:
    async with (Host(_config(encode_once=False)) as host,
                Viewer.connect(host.url, token=host.mint_token("a")) as viewer):
        frames = await _frames(viewer, 5)
        stats = await host.stats()
        with pytest.raises(ConfigurationError):
            host.set_rung(stats.viewers[0].viewer_id, 1)
    assert frames[0].frame.width == 640
    assert stats.rungs == () and stats.viewers[0].rung is None


async def test_fanout_benchmark_measures_a_host_that_really_sends() -> None:
    from rtc_interact.bench.fanout import run_fanout

    run = await run_fanout("ours", 2, window_s=1.0, warmup_s=0.5)
    assert run.viewers == 2 and run.cores > 0 and run.join_cores > 0
    assert run.settle_s is None or run.settle_s >= 1.0  # settled: a full quiet second seen
    assert run.fps_min > 0 and run.decoded > 0  # every viewer got frames; the first decoded
