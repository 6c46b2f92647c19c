"""Loopback page loads in Chromium, the page's two signaling modes round-robin on one host.

    python benchmarks/results/browser-hostoffer-1204/loopback_modes.py 12 OUT.json hostoffer,whep

Prints the median of each page mark (ms from page start) per mode; OUT.json has every load.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import rtc_interact.bench.browser as browser
from rtc_interact import Host, HostConfig, Limits, RateLimit, new_secret

MARKS = ("() => Object.assign({html: performance.getEntriesByType('navigation')[0].responseEnd},"
         " window.rtcInteract.state.marks)")
STAGES = ("html", "connect_start", "offer", "local", "answer", "signaling", "ice", "dtls",
          "channel_open", "first_frame", "first_ack")


async def one_load(host: Host, mode: str, name: str) -> dict[str, Any]:
    stock = browser.viewer_page_url
    browser.viewer_page_url = (  # type: ignore[assignment]
        lambda url, token: stock(url, token, host_offer=(mode == "hostoffer")))
    try:
        session = await browser.connect_chromium(host.url, host.mint_token(name))
    finally:
        browser.viewer_page_url = stock  # type: ignore[assignment]
    try:
        ack = await session.first_ack()
        await browser.wait_quietly(session.page, "window.rtcInteract.state.marks.first_frame", 5)
        marks: dict[str, Any] = await session.page.evaluate(MARKS)
        return {**marks, "first_ack": ack}
    finally:
        await session.aclose()


async def main(rounds: int, modes: list[str]) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    config = HostConfig(secret=new_secret(), port=0, limits=Limits(taps=RateLimit(1000, 1000)))
    async with Host(config) as host:
        for r in range(rounds):
            for mode in modes[r % len(modes):] + modes[:r % len(modes)]:
                results[mode].append(await one_load(host, mode, f"{mode}-{r}"))
    print("mode".ljust(12), " ".join(s[:9].rjust(9) for s in STAGES))
    for mode, loads in results.items():
        medians = [statistics.median(x[s] for x in loads if s in x) for s in STAGES]
        print(mode.ljust(12), " ".join(f"{m:9.1f}" for m in medians), len(loads))
    return results


if __name__ == "__main__":
    found = asyncio.run(main(int(sys.argv[1]), sys.argv[3].split(",")))
    Path(sys.argv[2]).write_text(json.dumps(found), encoding="utf-8")
