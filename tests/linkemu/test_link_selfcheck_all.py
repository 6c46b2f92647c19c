"""The emulator self-check over every shipped profile: 2000 UDP pings each, run side by side."""

from __future__ import annotations

import asyncio

from rtc_interact.linkemu import load_profiles
from rtc_interact.linkemu.selfcheck import ping_check


async def test_every_profile_reproduces_its_rtt_and_loss() -> None:
    profiles = list(load_profiles().values())
    results = await asyncio.gather(*(ping_check(p, count=2000) for p in profiles))
    failed = [r for r in results if not r.passed]
    assert not failed, failed
    assert {r.profile for r in results} == {p.name for p in profiles}
