"""Chromium page loads through an emulated cn-us-west link, the page's two signaling modes in
alternating order (one fresh link and seed per load), each load's marks in round trips.

    python benchmarks/results/browser-hostoffer-1204/pairs.py 10 OUT.json whep,hostoffer

``hostoffer`` opens ``/?token=`` (the host's offer in the page), ``whep`` opens ``/#token=``
(the page POSTs its own offer). Prints one line per load; OUT.json has every load's marks
(ms / RTT) and Chromium's ``inbound-rtp`` counters.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import rtc_interact.bench.browser as browser
from rtc_interact.bench.harness import linked_host
from rtc_interact.linkemu import get_profile

STATS = """async () => {
  const out = {};
  (await window.rtcInteract.state.pc.getStats()).forEach(s => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      Object.assign(out, {nack: s.nackCount, pli: s.pliCount, lost: s.packetsLost,
                          key: s.keyFramesDecoded});
    }
  });
  return out;
}"""


async def one_load(mode: str, seed: int) -> dict[str, Any]:
    stock = browser.viewer_page_url
    profile = get_profile("cn-us-west")
    browser.viewer_page_url = (  # type: ignore[assignment]
        lambda url, token: stock(url, token, host_offer=(mode == "hostoffer")))
    try:
        async with linked_host("ours", profile, seed=seed) as link:
            session = await browser.connect_chromium(link.url, link.token)
            try:
                await browser.wait_quietly(session.page,
                                           "window.rtcInteract.state.marks.first_frame", 10.0)
                marks = await session.page.evaluate("window.rtcInteract.state.marks")
                stats = await session.page.evaluate(STATS)
            finally:
                await session.aclose()
    finally:
        browser.viewer_page_url = stock  # type: ignore[assignment]
    row: dict[str, Any] = {k: round(v / profile.rtt_ms, 2) for k, v in marks.items()}
    return {**row, **stats}


async def main(loads: int, modes: list[str]) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for i in range(loads):
        for mode in modes if i % 2 == 0 else modes[::-1]:
            row = await one_load(mode, 1 + i)
            results[mode].append(row)
            print(mode, {k: row.get(k) for k in ("signaling", "ice", "dtls", "rtp",
                                                  "first_frame", "scripts", "key")}, flush=True)
    return results


if __name__ == "__main__":
    found = asyncio.run(main(int(sys.argv[1]), sys.argv[3].split(",")))
    Path(sys.argv[2]).write_text(json.dumps(found), encoding="utf-8")
