"""Chromium as a viewer: the host's own page (rtc_interact/web) driven through Playwright.

Chromium runs headless from the system package (``/usr/bin/chromium``, or
``$RTC_INTERACT_CHROMIUM``) with everything that would contact the outside switched off, a fresh
temporary profile per launch (Playwright makes one), and mDNS hiding of host candidates turned
off so that its candidates are plain addresses aiortc and the link emulator understand. Granting
the page camera and microphone permission is what makes Chromium offer its loopback candidate;
the page itself then trickles only 127.0.0.1 candidates when the host is on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from ..media.stamp import FrameStamp
from ..web.routes import page_url
from .harness import STAGES
from .metrics import FrameLog

CHROMIUM_ENV = "RTC_INTERACT_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--autoplay-policy=no-user-gesture-required",
    # plain host candidates instead of random .local names nobody here can resolve
    "--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate",
    # loopback candidates are only offered with these and a granted media permission
    "--allow-loopback-in-peer-connection",
    "--use-fake-ui-for-media-stream",
    # no name is ever resolved: every host name but 127.0.0.1 and localhost fails at once
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--proxy-server=direct://",
)


SETTLE_S = 0.2
"""How long a new tab idles before it navigates (see ``settle``)."""

READY = ("window.rtcInteract && (s => s.marks.channel_open || s.error)(window.rtcInteract.state)")
"""True once the page's event channel is open or connecting failed."""


def chromium_path() -> str:
    """The Chromium executable; RuntimeError saying how to install it if there is none."""
    path = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not Path(path).is_file():
        raise RuntimeError(f"no Chromium at {path}: run `make setup` (apt-get install chromium) "
                           f"or set ${CHROMIUM_ENV}")
    return path


async def launch(playwright: Playwright) -> Browser:
    """A headless Chromium with the flags above."""
    return await playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS),
        timeout=30_000,
    )


async def new_viewer_context(browser: Browser, page_url: str) -> BrowserContext:
    """A fresh context (cookies, storage) allowed to use the loopback interface for WebRTC."""
    parts = urlsplit(page_url)
    context = await browser.new_context(viewport={"width": 1000, "height": 560})
    await context.grant_permissions(["camera", "microphone"],
                                    origin=f"{parts.scheme}://{parts.netloc}")
    return context


def viewer_page_url(whep_url: str, token: str, host_offer: bool = True) -> str:
    """The page on the same origin as ``whep_url`` (through a link's relay, if any); with the
    host's offer in it, or (``host_offer`` False) making its own offer (``web.routes.page_url``)."""
    return page_url(whep_url, token, host_offer)


async def wait_for(page: Page, expression: str, timeout_s: float) -> Any:
    """Poll a JavaScript expression until it is truthy; its value."""
    handle = await page.wait_for_function(expression, timeout=timeout_s * 1000, polling=10)
    return await handle.json_value()


_QUIET_POLL = """([expression, timeoutMs]) => new Promise((resolve, reject) => {
  const until = performance.now() + timeoutMs;
  const check = () => {
    let value = null;
    try { value = (0, eval)(expression); } catch (e) { value = null; }
    if (value) resolve(value);
    else if (performance.now() > until) reject(new Error(`not true in ${timeoutMs} ms`));
    else setTimeout(check, 10);
  };
  check();
})"""


async def wait_quietly(page: Page, expression: str, timeout_s: float) -> Any:
    """``wait_for`` without Playwright's poller: the first ``wait_for_function`` of a page
    installs Playwright's injected script (hundreds of kB, 10-15 ms of the page's main thread
    on this machine), which, right after navigation, lands in the middle of the connection
    being measured. This polls with a plain timer in the page instead."""
    return await page.evaluate(_QUIET_POLL, [expression, timeout_s * 1000])


async def settle(page: Page, idle_s: float = SETTLE_S) -> None:
    """Let a new tab finish starting (its renderer builds the view and applies Playwright's
    per-page settings after ``new_page`` returns) before it navigates, so that "page start" is
    a navigation in an open, idle tab, as a viewer clicking a link has, not a race with the
    tab's own start-up."""
    await page.evaluate("0")
    await asyncio.sleep(idle_s)


RECEIVER_STATS = """async () => {
  const pc = window.rtcInteract.state.pc;
  const out = {connection_state: pc ? pc.connectionState : null};
  if (!pc) return out;
  const names = ["framesReceived", "framesDecoded", "framesDropped", "keyFramesDecoded",
                 "freezeCount", "totalFreezesDuration", "pauseCount", "nackCount", "pliCount",
                 "firCount", "packetsReceived", "packetsLost", "retransmittedPacketsReceived",
                 "jitterBufferDelay", "jitterBufferEmittedCount"];
  (await pc.getStats()).forEach(s => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      for (const name of names) if (name in s) out[name] = s[name];
    }
  });
  return out;
}"""
"""Chromium's own view of the video it received (``inbound-rtp``), for the video suite."""

COLLECT_S = 0.5
"""How often the frames the page showed are taken into ``ChromiumSession.frames``."""


class ChromiumSession:
    """One Chromium page watching the host: the bench's Session protocol.

    The page decodes; every frame it shows (with its burned-in stamp, read from the picture)
    is taken from the page every ``COLLECT_S`` into ``frames``, timed on this process's
    ``perf_counter`` clock, so the video suite summarises Chromium as it does the Python viewer.
    """

    def __init__(self, playwright: Playwright, browser: Browser, page: Page) -> None:
        self.playwright, self.browser, self.page = playwright, browser, page
        self.frames = FrameLog()
        self._marks: dict[str, float | None] = dict.fromkeys(STAGES)
        self._tasks: list[asyncio.Task[None]] = []
        self._state: str | None = None
        self._clock_offset_s = time.perf_counter() - time.time()

    def start_polling(self) -> None:
        """Start keeping ``marks()``, ``connected()`` and ``frames`` current."""
        self._tasks = [asyncio.ensure_future(self._poll()), asyncio.ensure_future(self._collect())]

    async def _poll(self) -> None:
        """Keep ``marks()`` current (the harness reads it without awaiting)."""
        while self._marks.get("first_frame") is None:
            await asyncio.sleep(0.02)
            await self.refresh()

    async def _collect(self) -> None:
        try:
            while True:
                await asyncio.sleep(COLLECT_S)
                await self.take_frames()
                self._state = await self.page.evaluate(
                    "window.rtcInteract.state.pc && window.rtcInteract.state.pc.connectionState")
        except PlaywrightError:  # the page or the browser is gone: no longer connected
            self._state = "gone"

    async def take_frames(self) -> int:
        """Move the frames the page showed since the last call into ``frames``; how many."""
        shown: list[dict[str, Any]] = await self.page.evaluate("window.rtcInteract.takeShown()")
        for item in shown:
            at_wall_ms = float(item["t"])
            stamp = None if item["f"] is None else FrameStamp(int(item["f"]), int(item["c"]))
            self.frames.add_shown(at_wall_ms / 1000 + self._clock_offset_s,
                                  int(at_wall_ms) % 2**48, stamp, int(item["w"]))
        return len(shown)

    async def receiver_stats(self) -> dict[str, Any] | None:
        """Chromium's ``inbound-rtp`` counters of the video and the connection's state (the
        page's newest frames are taken first, so ``frames`` is complete up to now)."""
        await self.take_frames()
        stats: dict[str, Any] = await self.page.evaluate(RECEIVER_STATS)
        return stats

    async def refresh(self) -> dict[str, float | None]:
        """Read the page's marks (ms from page start) into ``marks()``."""
        marks: dict[str, float] = await self.page.evaluate("window.rtcInteract.state.marks")
        self._marks = {stage: marks.get(stage) for stage in (*STAGES, "connect_start", "offer")}
        return self._marks

    def marks(self) -> dict[str, float | None]:
        return {stage: self._marks.get(stage) for stage in STAGES}

    def connected(self) -> bool:
        """DTLS came up and, once collecting, the connection was last seen connected."""
        return self._marks.get("dtls") is not None and self._state in (None, "connected")

    async def tap(self) -> float:
        rtt: float = await self.page.evaluate("window.rtcInteract.tap().then(a => a.rtt)")
        return rtt

    async def first_ack(self) -> float:
        """Ms from page start until the first tap, made as soon as the channel opened, was acked."""
        ack_at: float = await self.page.evaluate(
            "window.rtcInteract.tap().then(() => performance.now())")
        await self.refresh()
        return ack_at

    async def aclose(self) -> None:
        """Leave (the host stops sending at once, not when ICE consent expires), then quit."""
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(PlaywrightError, TimeoutError):
            await asyncio.wait_for(self.page.evaluate("window.rtcInteract.leave()"), 2.0)
        await self.browser.close()
        await self.playwright.stop()


async def connect_chromium(url: str, token: str, timeout_s: float = 30.0,
                           cold_tab: bool = False) -> ChromiumSession:
    """Open the host's page in a fresh headless Chromium and wait until its channel is open.
    With ``cold_tab`` the page navigates the moment its tab exists (see ``settle``)."""
    playwright = await async_playwright().start()
    try:
        browser = await launch(playwright)
    except BaseException:
        await playwright.stop()
        raise
    try:
        url = viewer_page_url(url, token)
        context = await new_viewer_context(browser, url)
        page = await context.new_page()
        if not cold_tab:
            await settle(page)
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        session = ChromiumSession(playwright, browser, page)
        await wait_quietly(page, READY, timeout_s)
        error = await page.evaluate("window.rtcInteract.state.error")
        if error:
            raise RuntimeError(f"the page could not connect: {error}")
        await session.refresh()
        session.start_polling()
        return session
    except BaseException:
        await browser.close()
        await playwright.stop()
        raise
