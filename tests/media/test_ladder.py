"""The encode-once ladder: configuration, keyframe gate, and real libvpx encoding of a source."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import av
import pytest

from rtc_interact import ConfigurationError
from rtc_interact.media.ladder import (
    TIME_BASE,
    KeyframeGate,
    Ladder,
    LadderEncoder,
    Rung,
    RungTrack,
    default_ladder,
)
from rtc_interact.media.sources import TestPatternTrack
from rtc_interact.media.stamp import FrameStamp, luma_of, read_stamp
from rtc_interact.media.vp8 import LayerMark, droppable, mark_layer, marked_droppable


def test_default_ladder_of_720p_has_three_rungs_topped_by_the_source_size() -> None:
    ladder = default_ladder(1280, 720, 30)
    assert [(r.width, r.height) for r in ladder.rungs] == [(1280, 720), (640, 360), (320, 180)]
    assert ladder.rungs[0].kbps == 1500
    assert ladder.rungs[0].kbps > ladder.rungs[1].kbps > ladder.rungs[2].kbps
    assert [r.fps for r in ladder.rungs] == [30, 30, 30]


def test_default_ladder_never_goes_below_the_stamp_width() -> None:
    assert [r.width for r in default_ladder(640, 360, 30).rungs] == [640, 320, 176]
    assert [r.width for r in default_ladder(320, 180, 30).rungs] == [320, 176]
    assert [r.width for r in default_ladder(176, 96, 30).rungs] == [176]


@pytest.mark.parametrize("make", [
    lambda: Ladder(()),
    lambda: Ladder((Rung(320, 180, 30, 200), Rung(640, 360, 30, 500))),
    lambda: Rung(641, 360, 30, 500),
    lambda: Rung(640, 360, 0, 500),
    lambda: Rung(640, 360, 30, 5),
    lambda: Ladder((Rung(640, 360, 30, 500),), keyframe_gap_s=-1),
    lambda: Ladder((Rung(640, 360, 30, 500),), base_layer_share=0),
    lambda: Ladder((Rung(640, 360, 30, 500),), base_layer_share=1),
])
def test_bad_ladders_are_configuration_errors(make: Any) -> None:
    with pytest.raises(ConfigurationError):
        make()


def test_keyframe_gate_serves_the_first_frame_and_rate_limits_requests() -> None:
    gate = KeyframeGate(0.5)
    assert gate.take(10.0)  # the first frame
    assert not gate.take(10.03)  # nothing asked
    gate.request()
    assert not gate.take(10.2)  # inside the gap: kept, not lost
    assert not gate.take(10.4)
    assert gate.take(10.5)
    assert not gate.take(10.53)
    gate.request()
    gate.request()  # two requests, one keyframe
    assert gate.take(11.1)
    assert not gate.take(11.7)


async def _decode(track: RungTrack, decoder: Any, count: int) -> list[tuple[Any, av.VideoFrame]]:
    out: list[tuple[Any, av.VideoFrame]] = []
    async with asyncio.timeout(10):
        while len(out) < count:
            packet = await track.recv()
            out.extend((packet, frame) for frame in decoder.decode(packet))
    return out


def _stamp(frame: av.VideoFrame) -> FrameStamp | None:
    return read_stamp(luma_of(frame.reformat(format="yuv420p")))


@contextlib.asynccontextmanager
async def _encoding(ladder: Ladder) -> AsyncIterator[LadderEncoder]:
    """``ladder`` encoding a test pattern of its top rung's size; closed on the way out."""
    top = ladder.rungs[0]
    source = TestPatternTrack(top.width, top.height, top.fps)
    encoder = LadderEncoder(source, ladder)
    try:
        yield encoder
    finally:
        await encoder.aclose()
        source.stop()


async def test_every_rung_decodes_with_readable_stamps_and_one_timeline() -> None:
    async with _encoding(default_ladder(640, 360, 30)) as encoder:
        tracks = [encoder.subscribe(i) for i in range(3)]
        results = await asyncio.gather(*(
            _decode(t, av.CodecContext.create("libvpx", "r"), 12) for t in tracks))
    pts_by_frame: dict[int, set[int]] = {}
    for rung, decoded in zip(default_ladder(640, 360, 30).rungs, results, strict=True):
        assert decoded[0][0].is_keyframe
        assert {(f.width, f.height) for _, f in decoded} == {(rung.width, rung.height)}
        stamps = [_stamp(f) for _, f in decoded]
        assert sum(s is not None for s in stamps) >= 10
        for (packet, _), stamp in zip(decoded, stamps, strict=True):
            assert packet.time_base == TIME_BASE
            if stamp is not None:
                pts_by_frame.setdefault(stamp.frame_no, set()).add(packet.pts)
    assert all(len(pts) == 1 for pts in pts_by_frame.values())  # same frame, same pts
    stats = encoder.stats()
    assert [s.keyframes for s in stats] >= [1, 1, 1]
    assert abs(stats[2].frames - stats[0].frames) <= 2  # every rung at the source rate


@contextlib.asynccontextmanager
async def _ladder_640() -> AsyncIterator[tuple[LadderEncoder, Any]]:
    """A 640x360 test pattern's default ladder, and a VP8 decoder."""
    async with _encoding(default_ladder(640, 360, 30)) as encoder:
        yield encoder, av.CodecContext.create("libvpx", "r")


async def test_switch_happens_at_a_keyframe_of_the_target_rung() -> None:
    async with _ladder_640() as (encoder, decoder):
        track = encoder.subscribe(0)
        before = await _decode(track, decoder, 5)
        track.switch(1)
        assert track.target is not None
        after = await _decode(track, decoder, 25)
    assert {f.width for _, f in before} == {640}
    first_small = next(i for i, (_, f) in enumerate(after) if f.width == 320)
    assert after[first_small][0].is_keyframe
    assert all(f.width == 320 for _, f in after[first_small:])
    assert track.target is None
    assert (track.rung, track.switches) == (1, 1)
    stamps = [s.frame_no for s in map(_stamp, (f for _, f in before + after)) if s]
    assert stamps == sorted(set(stamps))  # no frame twice, none backwards across the switch
    with pytest.raises(ConfigurationError):
        track.switch(3)


async def test_a_switch_before_the_sender_starts_is_made_at_once() -> None:
    async with _ladder_640() as (encoder, decoder):
        track = encoder.subscribe(1)
        track.switch(2)  # nothing has been asked for yet
        assert (track.rung, track.target, track.switches) == (2, None, 0)
        frames = await _decode(track, decoder, 5)
    assert frames[0][0].is_keyframe
    assert encoder.ladder is not None
    assert {f.width for _, f in frames} == {encoder.ladder.rungs[2].width}


async def test_a_sender_that_falls_behind_restarts_at_a_keyframe() -> None:
    ladder = Ladder((Rung(320, 180, 30, 200),), keyframe_gap_s=0.2, queue_frames=3)
    async with _encoding(ladder) as encoder:
        track = encoder.subscribe(0)
        async with asyncio.timeout(10):
            await track.recv()  # the sender starts...
            for _ in range(200):  # ...then reads nothing more, so the queue overflows
                await asyncio.sleep(0.05)
                if track.skips:
                    break
            first = await track.recv()
    assert first.is_keyframe  # the queue was emptied: the decoder restarts at a keyframe
    assert encoder.stats()[0].keyframes >= 2


async def test_ladder_from_the_first_frame_when_none_is_given() -> None:
    source = TestPatternTrack(320, 180, 30)
    encoder = LadderEncoder(source, None, fps=30)
    try:
        with pytest.raises(ConfigurationError):
            encoder.subscribe(1)  # unknown until the first frame
        track = encoder.subscribe(0)
        decoded = await _decode(track, av.CodecContext.create("libvpx", "r"), 2)
    finally:
        await encoder.aclose()
        source.stop()
    assert decoded[0][1].width == 320
    assert encoder.ladder == default_ladder(320, 180, 30)
    assert track.readyState == "ended"


@contextlib.asynccontextmanager
async def _one_rung_320(keyframe_gap_s: float) -> AsyncIterator[LadderEncoder]:
    """A one-rung 320x180 ladder over a test pattern, with a join cache that never expires."""
    ladder = Ladder((Rung(320, 180, 30, 200),), keyframe_gap_s=keyframe_gap_s, join_frames=1000)
    async with _encoding(ladder) as encoder:
        yield encoder


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():  # noqa: ASYNC110 - polls the encoder's frame counters
            await asyncio.sleep(0.01)


async def test_a_viewer_starts_from_a_recent_keyframe_and_ignores_frames_before_it_starts(
) -> None:
    async with _one_rung_320(keyframe_gap_s=5.0) as encoder:
        first = encoder.subscribe(0)
        assert (await first.recv()).is_keyframe  # the encoder's first frame
        late = encoder.subscribe(0)
        await asyncio.sleep(0.3)  # frames flow; the late track keeps none (not started)
        assert not late._queue
        joined = await late.recv()  # starts from the cached keyframe: no new one, no gap wait
        assert joined.is_keyframe and encoder.stats()[0].keyframes == 1


async def test_prepare_before_anyone_subscribed_encodes_and_leaves_a_keyframe_to_join_on(
) -> None:
    async with _one_rung_320(keyframe_gap_s=0.0) as encoder:
        encoder.prepare(0)  # a host offer went out: no track yet
        await _until(lambda: encoder.stats()[0].frames >= 3)  # encoding without a subscriber
        assert encoder.stats()[0].keyframes == 1  # the first frame
        encoder.prepare(0)  # again (the answer): the next frame is a keyframe
        await _until(lambda: encoder.stats()[0].keyframes >= 2)
        joined = await encoder.subscribe(0).recv()  # from the cache, no new keyframe
        assert joined.is_keyframe and encoder.stats()[0].keyframes == 2


@pytest.mark.parametrize("layers", [True, False])
async def test_every_other_frame_is_droppable_and_dropping_it_changes_nothing_else(
        layers: bool) -> None:
    """With temporal layers, the frames the ladder marks droppable (``mark_layer``) can be
    left out: every other frame decodes to the same picture as with all frames decoded."""
    ladder = Ladder((Rung(320, 180, 30, 190),), temporal_layers=layers)
    async with _encoding(ladder) as encoder:
        full = await _decode(encoder.subscribe(0), av.CodecContext.create("libvpx", "r"), 40)
    marks = [marked_droppable(packet) for packet, _ in full]
    assert marks == [droppable(packet) for packet, _ in full]
    assert not marks[0] and full[0][0].is_keyframe
    if not layers:
        assert not any(marks)
        return
    assert 18 <= sum(marks) <= 20 and not any(a and b for a, b in itertools.pairwise(marks))
    decoder = av.CodecContext.create("libvpx", "r")
    for (packet, frame), mark in zip(full, marks, strict=True):
        if not mark:
            (picture,) = decoder.decode(packet)
            assert (picture.to_ndarray() == frame.to_ndarray()).all()


@pytest.mark.parametrize("share", [Ladder((Rung(320, 180, 30, 190),)).base_layer_share, 0.6])
async def test_the_base_layer_takes_its_share_of_the_rate_and_droppable_frames_the_rest(
        share: float) -> None:
    """``Ladder.base_layer_share``: libvpx keeps to the split, so a packet lost at random falls
    in a droppable frame (one frame fewer on screen) about ``1 - share`` of the time."""
    async with _encoding(Ladder((Rung(320, 180, 30, 190),), base_layer_share=share)) as encoder:
        full = await _decode(encoder.subscribe(0), av.CodecContext.create("libvpx", "r"), 40)
    sizes = [(len(bytes(packet)), marked_droppable(packet)) for packet, _ in full[4:]]
    base = sum(size for size, mark in sizes if not mark)
    assert base / sum(size for size, _ in sizes) == pytest.approx(share, abs=0.06)


@pytest.mark.parametrize("droppable_mark", [True, False])
def test_a_packets_mark_outlives_other_packets_with_the_same_mark(droppable_mark: bool) -> None:
    """The ladder frees packets all the time (rungs no one watches, frames sent). PyAV keeps an
    opaque value under its ``id()`` and forgets it when any packet that carried it is freed; with
    a shared ``True`` as the mark, a sender read almost every frame as not droppable."""
    kept, freed = av.Packet(b"\x11" * 10), av.Packet(b"\x11" * 10)
    mark_layer(kept, droppable_mark)
    mark_layer(freed, droppable_mark)
    del freed
    gc.collect()
    assert marked_droppable(kept) is droppable_mark
    assert isinstance(kept.opaque, LayerMark)


def test_a_frame_that_is_not_an_inter_frame_header_is_not_droppable() -> None:
    assert not droppable(b"")
    assert not droppable(b"\x10\x02\x00\x9d\x01\x2a" + bytes(40))  # P bit 0: a keyframe


async def test_a_thinned_track_skips_the_droppable_frames_and_only_them() -> None:
    """``RungTrack.thin`` (``AbrConfig.thin_ping_ms``): while set, the viewer gets the base
    layer alone, which decodes on its own; cleared, every frame again."""
    async with _encoding(Ladder((Rung(320, 180, 30, 190),))) as encoder:
        track = encoder.subscribe(0)
        decoder = av.CodecContext.create("libvpx", "r")
        first = await _decode(track, decoder, 4)
        track.thin = True
        thinned = (await _decode(track, decoder, 14))[2:]  # two may have been queued
        track.thin = False
        after = await _decode(track, decoder, 6)
    assert not any(marked_droppable(packet) for packet, _ in thinned)
    assert track.thinned >= 10
    stamps = [_stamp(frame) for _, frame in thinned]
    numbers = [s.frame_no for s in stamps if s is not None]
    assert len(numbers) >= 10 and all(b - a == 2 for a, b in itertools.pairwise(numbers))
    assert any(marked_droppable(packet) for packet, _ in first + after)
