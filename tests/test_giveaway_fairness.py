"""The latency-fair window end to end: a viewer whose video runs 800 ms behind live.

Each viewer gets its own emulated link (800 ms host->viewer, 20 ms back). A tap made while the
frame on screen is still inside the window counts even though it reaches the host after the
window closed in host time; a tap made once the screen shows frames from after the close does not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rtc_interact import Host, HostConfig, VideoConfig, Viewer, new_secret
from rtc_interact.bench.harness import PerSessionLinks
from rtc_interact.config import AdvancedSettings
from rtc_interact.errors import ErrorCode, RequestRejected
from rtc_interact.giveaway import PrizeTier, Rules
from rtc_interact.linkemu.profiles import parse_profiles

BEHIND = parse_profiles({"profiles": {"behind-800": {
    "summary": "video 800 ms behind live", "a_to_b": {"delay_ms": 800},
    "b_to_a": {"delay_ms": 20}}}})["behind-800"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(15):
        while not check():  # noqa: ASYNC110 - polls a clock and a frame counter
            await asyncio.sleep(0.01)


async def test_a_viewer_800_ms_behind_enters_on_what_it_saw(tmp_path: Path) -> None:
    links = PerSessionLinks(BEHIND, seed=3)
    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(320, 180, 30),
                        giveaway_store=str(tmp_path / "gw.db"),
                        advanced=AdvancedSettings(sdp_hook=links))
    rules = Rules(giveaway_id="fair", title="Fair window", window_s=2.0, regions=("DE",),
                  tiers=(PrizeTier("Prize", "Mug", 2, 10.0, "EUR"),), organizer="Test")
    try:
        async with Host(config) as host:
            late_seer = Viewer(host.url, host.mint_token("inside", region="DE"))
            too_late = Viewer(host.url, host.mint_token("after", region="DE"))
            await asyncio.gather(late_seer.open(), too_late.open())
            try:
                await host.giveaways.create(rules)
                await host.giveaways.open("fair")
                window = host.giveaways.get("fair").window
                assert window is not None
                # host time is past the close, the screen still shows the window's last frames
                await _until(lambda: _now_ms() > window.close_ms + 100)
                shown = late_seer.shown_media_ms
                assert shown is not None and window.open_ms <= shown <= window.close_ms
                assert _now_ms() - shown >= 700  # the video really runs ~800 ms behind
                receipt = await late_seer.enter("fair")
                entry = host.giveaways.get("fair").entries[0]
                assert receipt.entry == entry.number and entry.arrival_ms > window.close_ms
                # once the screen shows frames from after the close, a tap no longer counts
                await _until(lambda: (too_late.shown_media_ms or 0) > window.close_ms + 50,
                             )
                with pytest.raises(RequestRejected) as refused:
                    await too_late.enter("fair")
                assert refused.value.code == ErrorCode.OUTSIDE_WINDOW
            finally:
                await asyncio.gather(late_seer.aclose(), too_late.aclose())
    finally:
        await links.aclose()
