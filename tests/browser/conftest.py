"""Real Chromium (the system package) against a real host on 127.0.0.1.

A missing Chromium is a failure (``make setup`` installs it), so CI cannot pass these tests
silently. Screenshots go to test-artifacts/ at the repository root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rtc_interact import Host, HostConfig, Limits, RateLimit, VideoConfig, new_secret

if TYPE_CHECKING:
    from playwright.async_api import Browser


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
async def web_host() -> AsyncIterator[Host]:
    """A host with a 640x360 test pattern (the page's size) and generous limits."""
    config = HostConfig(
        secret=new_secret(), port=0, video=VideoConfig(640, 360, 30),
        limits=Limits(taps=RateLimit(1000, 1000), comments=RateLimit(50, 50)),
    )
    async with Host(config) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium with background networking off and only 127.0.0.1 reachable."""
    from playwright.async_api import async_playwright

    from rtc_interact.bench.browser import launch

    async with async_playwright() as playwright:
        running = await launch(playwright)
        try:
            yield running
        finally:
            await running.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots are kept."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
