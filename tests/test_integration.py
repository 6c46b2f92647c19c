"""Real aiortc peers over loopback UDP: host and viewers as an application uses them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import msgpack
import numpy as np
import pytest

from rtc_interact import (
    AdvancedSettings,
    Announcement,
    CommentPosted,
    ConfigurationError,
    ErrorCode,
    Host,
    HostConfig,
    Limits,
    RateLimit,
    RateLimited,
    RetransmitPolicy,
    TapReceived,
    VideoConfig,
    Viewer,
    ViewerConfig,
    ViewerJoined,
    ViewerLeft,
    file_track,
    new_secret,
)
from rtc_interact.datachannel.codec import decode_downstream, encode
from rtc_interact.datachannel.messages import Ack, ErrorReply, Tap, Welcome
from rtc_interact.events import HostEvent
from rtc_interact.testing.rawpeer import raw_peer


async def _next_event(host: Host, kind: type[HostEvent], timeout_s: float = 5.0) -> HostEvent:
    async with asyncio.timeout(timeout_s):
        async for event in host.events():
            if isinstance(event, kind):
                return event
    raise AssertionError("event stream ended")


async def test_frames_arrive_with_readable_stamps(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("alice")) as viewer:
        frames = []
        async with asyncio.timeout(10):
            async for frame in viewer.frames():
                frames.append(frame)
                if len(frames) == 10:
                    break
        stamps = [f.stamp for f in frames if f.stamp is not None]
        assert len(stamps) >= 8
        numbers = [s.frame_no for s in stamps]
        assert numbers == sorted(numbers)
        assert frames[0].to_ndarray().shape == (180, 320, 3)
        timings = viewer.connect_timings()
        assert timings.signaling is not None and timings.channel_open is not None
        assert timings.first_frame is not None and timings.first_frame >= timings.signaling


async def test_200_taps_are_all_acknowledged_once_each(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("alice")) as viewer:
        receipts = await asyncio.gather(*(viewer.tap(f"t{i}") for i in range(200)))
        assert sorted(r.n for r in receipts) == list(range(1, 201))
        assert len({r.id for r in receipts}) == 200
        assert viewer.stats().taps_acked == 200
        assert (await host.stats()).taps == 200
    taps = []
    async with asyncio.timeout(5):
        async for event in host.events():
            if isinstance(event, TapReceived):
                taps.append(event)
            if len(taps) == 200:
                break
    assert {t.target for t in taps} == {f"t{i}" for i in range(200)}


async def test_comment_from_one_viewer_reaches_another(host: Host) -> None:
    async with (Viewer.connect(host.url, token=host.mint_token("alice")) as alice,
                Viewer.connect(host.url, token=host.mint_token("bob")) as bob):
        bob_events = bob.events()
        receipt = await alice.comment("hello bob")
        async with asyncio.timeout(5):
            event = await anext(bob_events)
        assert event == CommentPosted(n=receipt.n, author="alice", text="hello bob",
                                      hts=receipt.host_ms)


async def test_answers_to_a_requests_copies_are_dropped_not_handed_out_as_events(
        host: Host) -> None:
    # three copies leave together, and the host answers each: only the first answer counts
    copies = AdvancedSettings(retransmit=RetransmitPolicy(copy_offsets_s=(0.0, 0.0, 0.0)),
                              clock_interval_s=0)
    async with Viewer.connect(host.url, token=host.mint_token("alice"),
                              config=ViewerConfig(advanced=copies)) as viewer:
        events = viewer.events()
        await viewer.ping()
        await viewer.tap("t")
        await host.broadcast(Announcement("sale", "50% off"))
        async with asyncio.timeout(5):
            event = await anext(events)
        assert isinstance(event, Announcement) and (event.topic, event.text) == ("sale", "50% off")
        async with asyncio.timeout(5):  # the ping's other two answers (the tap's are quiet)
            while viewer.stats().duplicate_answers < 2:  # noqa: ASYNC110 - polls a counter
                await asyncio.sleep(0.01)


async def test_broadcast_and_send_reach_viewers(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("alice")) as viewer:
        events = viewer.events()
        assert await host.broadcast(Announcement("sale", "50% off")) == 1
        assert viewer.welcome is not None
        await host.send(viewer.welcome.viewer, Announcement("dm", "you won"))
        async with asyncio.timeout(5):
            got = [await anext(events), await anext(events)]
        assert [(e.topic, e.text) for e in got if isinstance(e, Announcement)] == [
            ("sale", "50% off"), ("dm", "you won")]


async def test_malformed_message_gets_error_reply_and_session_keeps_working(host: Host) -> None:
    async with raw_peer(host.url, host.mint_token("mallory")) as peer:
        assert isinstance(decode_downstream(await peer.receive()), Welcome)
        for bad in (b"\xc1\xc1", "text", msgpack.packb({"v": 1, "t": "tap", "id": "x"}),
                    msgpack.packb({"v": 9, "t": "tap", "id": 1}), b"\x00" * 9000):
            peer.send(bad)
            reply = decode_downstream(await peer.receive())
            assert isinstance(reply, ErrorReply), reply
        peer.send(encode(Tap(id=42)))
        ack = decode_downstream(await peer.receive())
        assert isinstance(ack, Ack) and ack.id == 42
        stats = await host.stats()
        assert stats.viewers[0].rejected == 5
        assert peer.pc.connectionState == "connected"


async def test_rate_limit_gives_typed_error() -> None:
    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(176, 96, 10),
                        limits=Limits(taps=RateLimit(1, 3)))
    async with (Host(config) as host,
                Viewer.connect(host.url, token=host.mint_token("fast"),
                               config=ViewerConfig(receive_video=False)) as viewer):
        results = await asyncio.gather(*(viewer.tap() for _ in range(6)), return_exceptions=True)
        assert sum(not isinstance(r, Exception) for r in results) == 3
        limited = [r for r in results if isinstance(r, RateLimited)]
        assert len(limited) == 3 and limited[0].code is ErrorCode.RATE_LIMITED
        await asyncio.sleep(1.1)  # one token refills at 1 tap/s
        assert (await viewer.tap()).n == 4


async def test_viewer_join_and_leave_are_noticed(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("carol")):
        joined = await _next_event(host, ViewerJoined)
        assert isinstance(joined, ViewerJoined) and joined.identity == "carol"
    left = await _next_event(host, ViewerLeft)
    assert isinstance(left, ViewerLeft) and left.identity == "carol"
    assert left.viewer_id == joined.viewer_id
    assert (await host.stats()).viewers == ()


async def test_viewer_that_vanishes_without_delete_is_noticed(host: Host) -> None:
    viewer = Viewer(host.url, host.mint_token("dave"), ViewerConfig(receive_video=False))
    await viewer.open()
    await _next_event(host, ViewerJoined)
    viewer._location = None  # skip the DELETE: only the peer connection closes
    await viewer.aclose()
    left = await _next_event(host, ViewerLeft, timeout_s=10)
    assert isinstance(left, ViewerLeft) and left.reason in ("closed", "failed")


async def test_unreachable_host_is_a_clear_signaling_error() -> None:
    from rtc_interact import SignalingError

    with pytest.raises(SignalingError, match="cannot reach"):
        async with Viewer.connect("http://127.0.0.1:9/whep", token="x"):
            pass


async def test_media_file_source_reaches_the_viewer(tmp_path: Path) -> None:
    path = str(tmp_path / "clip.webm")
    with av.open(path, "w") as container:
        stream = container.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for i in range(30):
            rgb = np.full((180, 320, 3), (i * 8) % 255, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    config = HostConfig(secret=new_secret(), port=0)
    async with (Host(config, source=file_track(path)) as host,
                Viewer.connect(host.url, token=host.mint_token("f")) as viewer):
        async with asyncio.timeout(10):
            frame = await anext(viewer.frames())
        assert (frame.frame.width, frame.frame.height) == (320, 180)
        assert frame.stamp is None


def test_missing_media_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot open"):
        file_track(str(tmp_path / "nope.mp4"))


async def test_the_host_asks_for_a_keyframe_as_soon_as_it_answers() -> None:
    """So that one is ready when DTLS ends on a short path, before ICE has even completed."""
    import aiortc

    from rtc_interact.transport.signaling import WhepClient

    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(320, 180, 30))

    def keyframes() -> int:
        return sum(r.keyframes for r in host._video.rung_stats())

    async with Host(config) as host, \
            Viewer.connect(host.url, token=host.mint_token("first")) as first:
        async for _ in first.frames():
            break  # the ladder is encoding
        await asyncio.sleep(0.4)  # past keyframe_gap_s
        before = keyframes()
        pc = aiortc.RTCPeerConnection()  # offers, but never takes the answer: no ICE, no DTLS
        client = WhepClient(host.url, host.mint_token("early"))
        try:
            pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            await client.offer(pc.localDescription.sdp)
            for _ in range(100):  # bounded: 2 s
                if keyframes() > before:
                    break
                await asyncio.sleep(0.02)
            assert keyframes() > before
        finally:
            await client.aclose()
            await pc.close()
