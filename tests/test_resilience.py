"""A session survives its round trip swinging above one second for ten seconds."""

from __future__ import annotations

import asyncio

from rtc_interact import Viewer
from rtc_interact.bench.harness import linked_host
from rtc_interact.linkemu import parse_profiles

SWING = parse_profiles({"profiles": {"rtt-swing": {
    "summary": "150 ms RTT, then 1100 ms from 3 s to 13 s, then 150 ms again",
    "both": {"delay_ms": 75},
    "schedule": [
        {"at_s": 3, "a_to_b": {"delay_ms": 550}, "b_to_a": {"delay_ms": 550}},
        {"at_s": 13, "a_to_b": {"delay_ms": 75}, "b_to_a": {"delay_ms": 75}},
    ],
}}})["rtt-swing"]


async def test_session_survives_a_ten_second_rtt_swing_above_one_second() -> None:
    async with (linked_host("ours", SWING, seed=1) as link,
                Viewer.connect(link.url, token=link.token) as viewer):
        taps = []
        for _ in range(16):  # one tap a second across the swing
            taps.append(asyncio.ensure_future(viewer.tap()))
            await asyncio.sleep(1.0)
        receipts = await asyncio.gather(*taps)
        slow = [r.rtt_ms for r in receipts if r.rtt_ms > 1000]
        assert slow, "the swing must have been felt"
        frames_before = viewer.stats().frames
        await asyncio.sleep(2.0)
        assert viewer.connection_state == "connected"
        assert viewer.stats().frames > frames_before  # video still flowing after the swing
        assert (await viewer.tap()).rtt_ms < 400
