"""Taps on the fast channel: before the connection is up, through loss, exactly once; clock sync."""

from __future__ import annotations

import asyncio

from rtc_interact import Host, Viewer, ViewerConfig
from rtc_interact.bench.harness import linked_host
from rtc_interact.bench.tcpdelay import TcpDelayProxy
from rtc_interact.linkemu import get_profile


async def test_tap_sent_while_connecting_is_acknowledged(host: Host) -> None:
    viewer = Viewer(host.url, host.mint_token("early"))
    try:
        opening = asyncio.ensure_future(viewer.open())
        receipt = await viewer.tap("early")  # issued before the channel exists
        await opening
        assert receipt.n == 1
        timings = viewer.connect_timings()
        assert timings.channel_open is not None
    finally:
        await viewer.aclose()


async def test_clock_sync_estimates_offset_on_one_machine(host: Host) -> None:
    async with Viewer.connect(host.url, token=host.mint_token("clock")) as viewer:
        for _ in range(3):
            await viewer.ping()
        estimate = viewer.clock()
        assert estimate is not None and estimate.samples >= 3
        assert abs(estimate.offset_ms) <= estimate.error_ms + 2  # same clock on both ends


async def test_taps_through_a_lossy_link_are_recorded_exactly_once() -> None:
    profile = get_profile("rtt150-loss2")
    async with linked_host("ours", profile, seed=5) as link:
        async with Viewer.connect(link.url, token=link.token) as viewer:
            receipts = await asyncio.gather(*(viewer.tap(f"t{i}") for i in range(150)))
        assert sorted(r.n for r in receipts) == list(range(1, 151))
        assert max(r.rtt_ms for r in receipts) < 1000  # no 1 s SCTP retransmission floor
        stats = link.emulator.stats()
        assert stats.b_to_a.counters.dropped_loss > 0  # the link really lost packets


async def test_a_burst_of_taps_travels_bundled_and_is_recorded_exactly_once() -> None:
    profile = get_profile("rtt150-loss2")
    async with linked_host("ours", profile, seed=11) as link:
        # events only: upstream then carries SCTP alone, no RTCP feedback on lossy video
        config = ViewerConfig(receive_video=False)
        async with Viewer.connect(link.url, token=link.token, config=config) as viewer:
            await viewer.tap("warm-up")
            before = link.emulator.stats().b_to_a.counters.submitted
            receipts = await asyncio.gather(*(viewer.tap("burst") for _ in range(200)))
            upstream_packets = link.emulator.stats().b_to_a.counters.submitted - before
        assert sorted(r.n for r in receipts) == list(range(2, 202))  # each recorded once
        # 200 taps as separate messages would take 200 packets or more; bundled, each of the
        # 4 copies is 2 bundles, and retransmissions and SACKs add a few (13-17 measured)
        assert upstream_packets < 50


async def test_tap_made_while_connecting_is_answered_by_signaling() -> None:
    async with linked_host("ours", get_profile("rtt150"), seed=1) as link:
        viewer = Viewer(link.url, link.token)
        try:
            opening = asyncio.ensure_future(viewer.open())
            receipt = await viewer.tap("early")
            # answered with the SDP answer: ~2 RTT, long before the channel could open
            assert viewer.connect_timings().channel_open is None
            assert 300 <= receipt.rtt_ms < 600
            await opening
            assert (await viewer.tap("later")).n == 2
        finally:
            await viewer.aclose()


async def test_prepare_saves_the_http_handshake_round_trip() -> None:
    async with linked_host("ours", get_profile("rtt150"), seed=2) as link:
        port = int(link.url.split(":")[2].split("/")[0])
        # a zero-delay relay in front of the link's, counting the TCP connections viewers open
        async with TcpDelayProxy(("127.0.0.1", port), 0, 0) as counter:
            url = link.url.replace(f":{port}/", f":{counter.port}/")
            cold, warm = Viewer(url, link.token), Viewer(url, link.token)
            try:
                await cold.open()
                assert counter.connections == 1  # the offer paid for a TCP handshake
                await warm.prepare()
                assert counter.connections == 2
                await warm.open()
                assert counter.connections == 2  # the offer rode the warmed connection
                assert warm.connect_timings().signaling is not None
            finally:
                await cold.aclose()
                await warm.aclose()
