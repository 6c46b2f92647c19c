"""Shared fixtures: a real host on 127.0.0.1 with a random port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rtc_interact import Host, HostConfig, Limits, RateLimit, VideoConfig, new_secret


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    """A host with a small test pattern and generous tap limits."""
    config = HostConfig(
        secret=new_secret(), port=0, video=VideoConfig(320, 180, 30),
        limits=Limits(taps=RateLimit(1000, 1000), comments=RateLimit(50, 50)),
    )
    async with Host(config) as running:
        yield running
