"""One loopback page load under Chromium's tracing: the renderer's main-thread and WebRTC-thread
tasks of 0.15 ms or more between two times (ms from page start), and the page's marks.

    python benchmarks/results/page-critical-1204/main_thread.py 40 160 [TRACE.json]

This is how the page's critical path was read (RESULTS.md §18): the offer is applied on the
WebRTC signalling thread in a few ms, but the page hears of it (``OnSetDescriptionComplete``) only
when the main thread gets to that task.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

import rtc_interact.bench.browser as browser
from rtc_interact import Host, HostConfig, Limits, RateLimit, new_secret

CATEGORIES = ["toplevel", "webrtc", "media", "blink", "v8", "devtools.timeline", "loading",
              "navigation"]
THREADS = ("CrRendererMain", "WebRTC_Signaling", "WebRTC_W_and_N")


async def traced_load() -> tuple[dict[str, float], bytes]:
    config = HostConfig(secret=new_secret(), port=0, limits=Limits(taps=RateLimit(1000, 1000)))
    async with Host(config) as host, async_playwright() as playwright:
        chromium = await browser.launch(playwright)
        try:
            url = browser.viewer_page_url(host.url, host.mint_token("traced"))
            context = await browser.new_viewer_context(chromium, url)
            page = await context.new_page()
            await browser.settle(page)
            await chromium.start_tracing(page=page, categories=CATEGORIES)
            await page.goto(url, wait_until="commit")
            await browser.wait_quietly(page, "window.rtcInteract.state.marks.first_frame", 10)
            marks: dict[str, float] = await page.evaluate("window.rtcInteract.state.marks")
            return marks, await chromium.stop_tracing()
        finally:
            await chromium.close()


def tasks(trace: dict[str, Any], low: float, high: float) -> list[str]:
    events = trace["traceEvents"]
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"}
    start = next(e["ts"] for e in events if e.get("name") == "NavigationTiming navigationStart")
    lines = []
    for e in sorted(events, key=lambda e: e.get("ts", 0)):
        thread = threads.get((e.get("pid"), e.get("tid")), "")
        if e.get("ph") != "X" or e.get("name") != "ThreadControllerImpl::RunTask" \
                or thread not in THREADS or e.get("dur", 0) < 150:
            continue
        at = (e["ts"] - start) / 1000
        if low <= at <= high:
            where = e.get("args", {})
            lines.append(f"{at:7.1f} {e['dur'] / 1000:6.2f} {thread:16} "
                         f"{where.get('src_file', '').split('/')[-1]}:{where.get('src_func', '')}")
    return lines


if __name__ == "__main__":
    found, data = asyncio.run(traced_load())
    if len(sys.argv) > 3:
        Path(sys.argv[3]).write_bytes(data)
    print({name: round(ms, 1) for name, ms in found.items()})
    print("\n".join(tasks(json.loads(data), float(sys.argv[1]), float(sys.argv[2]))))
