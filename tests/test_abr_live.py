"""Per-viewer ABR over real aiortc peers: a thin emulated link and a clean loopback."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

from rtc_interact import Host, HostConfig, VideoConfig, Viewer, new_secret
from rtc_interact.bench.harness import OursSession, connect, linked_host
from rtc_interact.linkemu import get_profile
from rtc_interact.transport.abr import AbrConfig
from rtc_interact.transport.quality import Quality
from rtc_interact.transport.train import TrainReport


async def test_a_300_kbps_lossy_link_keeps_the_viewer_on_a_rung_that_fits() -> None:
    """With ``knee_cap`` off: with it, a knee noted by the first probe (258 kbps in one run)
    holds the 190 kbps rung's copies near zero for as long as it is remembered (by design,
    ``benchmarks/RESULTS.md`` §28, tested in ``test_abr.py``), and 1 run in 4 sent none."""
    video = VideoConfig(abr=AbrConfig(knee_cap=False))
    async with linked_host("ours", get_profile("abr-300-loss3"), seed=3, video=video) as link:
        session = await connect("ours", link)
        try:
            assert link.host is not None and isinstance(link.host, Host)
            rungs = []
            for _ in range(30):  # 15 s
                await asyncio.sleep(0.5)
                viewer = (await link.host.stats()).viewers[0]
                rungs.append(viewer.rung)
            assert 0 not in rungs  # 530 kbps never sent into 300 kbps
            link_stats = viewer.link
            assert link_stats is not None
            assert link_stats.target_kbps * 1.1 <= 300
            assert link_stats.rtt_ms is not None and link_stats.rtt_ms > 140
            assert link_stats.quality is not Quality.LOST
            assert link_stats.nacks > 0 and link_stats.rtx_sent > 0
            assert link_stats.rtx_echoed > 0  # a base-layer packet's retransmission, twice
            assert link_stats.copy_kbit > 0  # lossy, with room beside the rung: copies
            # counted from the reports: what the 300 kbps link delivered, copies included
            assert link_stats.received_kbps is not None
            assert 0 < link_stats.received_kbps <= 300 * 1.1
            assert isinstance(session, OursSession)
            receiver = session.viewer.stats().receiver
            assert receiver.copies_received > 0
            assert receiver.nack_echoes > 0  # each NACK twice, against NACK loss
            # the viewer saw the probes' queue in its packets' one-way delay and said so
            assert receiver.queue_reports > 0
            assert 0 < link_stats.queue_reports <= receiver.queue_reports
            recent = session.frames.records[-20:]
            assert len(recent) == 20 and sum(r.stamp is not None for r in recent) >= 18
        finally:
            await session.aclose()


async def test_on_a_clean_path_the_viewer_starts_in_the_middle_and_climbs_to_the_top(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rtc_interact.transport.abr_task")  # with its trace
    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(640, 360, 30))
    async with Host(config) as host:
        token = host.mint_token("abr")
        async with Viewer(host.url, token) as viewer:
            first = None
            for _ in range(100):  # up to 25 s
                await asyncio.sleep(0.25)
                stats = (await host.stats()).viewers
                if not stats or stats[0].link is None:
                    continue
                first = stats[0].rung if first is None else first
                if stats[0].rung == 0:
                    break
            assert first == 1
            assert stats[0].rung == 0 and stats[0].switches >= 1
            assert stats[0].link is not None and stats[0].link.padding_kbit > 0
            # no loss here, so no copies: what came twice is the probe's padding
            assert viewer.stats().receiver.copies_received > 0
            assert viewer.connection_state == "connected"
    trace = [r.getMessage() for r in caplog.records if r.getMessage().startswith("abr ")]
    assert any(" up rung 0 " in line for line in trace)


async def test_on_a_long_path_copies_flow_from_the_first_frame_on_a_rung_that_fits_them() -> None:
    """cn-brazil (320 ms): the ICE checks show a long path before any media, so the viewer
    starts on the rung whose packets all fit with a copy (80 kbps: 190 kbps and its copies
    would not fit the start estimate), with no switch: it was put there before its first
    frame, and the first receiver report comes a second or more later."""
    async with linked_host("ours", get_profile("cn-brazil"), seed=1) as link:
        session = await connect("ours", link)
        try:
            assert link.host is not None and isinstance(link.host, Host)
            viewer = (await link.host.stats()).viewers[0]
            assert viewer.rung == 2 and viewer.switches == 0
            await asyncio.sleep(0.5)
            viewer = (await link.host.stats()).viewers[0]
            assert viewer.link is not None and viewer.link.copy_kbit > 0
        finally:
            await session.aclose()


async def test_a_packet_train_goes_out_unpaced_and_comes_back_measured_as_carried() -> None:
    """Real peers on loopback: a train the host's link sends (``transport.train``) passes the
    viewer's wrapped ``_handle_rtp_packet``, is measured, and its report reaches the host's
    feedback log through aiortc's RTCP as carried (loopback holds no queue)."""
    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(640, 360, 30))
    async with Host(config) as host, Viewer(host.url, host.mint_token("train")) as viewer:
        for _ in range(80):  # up to 20 s for the link's first decision
            await asyncio.sleep(0.25)
            links = list(host._video._links.values())
            if links and links[0].decision is not None:
                break
        link = links[0]
        reports: list[TrainReport] = []
        link.feedback.on_train_report = reports.append
        assert link.decision is not None
        link._apply(replace(link.decision, train_kbps=800.0))
        for _ in range(20):
            await asyncio.sleep(0.1)
            if reports:
                break
        assert link.stats().trains == 1 and link.stats().train_reports == 1
        assert viewer.stats().receiver.train_reports == 1
        report = reports[0]
        assert report.sent_kbps > 800  # (the rung's packets beside it)
        assert report.arrived_kbps >= 0.9 * report.sent_kbps
