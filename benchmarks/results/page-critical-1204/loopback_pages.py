"""Loopback page loads in Chromium, round-robin over hosts that serve different copies of the
page's files (``web/``), all with this checkout's Python code.

    python benchmarks/results/page-critical-1204/loopback_pages.py 24 OUT.json DIR_A,DIR_B

Prints the machine's steal and busy share over the run and each variant's median marks (ms from
page start); OUT.json has every load's marks.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import rtc_interact.bench.browser as browser
import rtc_interact.web.routes as routes
from rtc_interact import Host, HostConfig, Limits, RateLimit, new_secret

STAGES = ("connect_start", "offer", "local", "ice", "dtls", "channel_open", "first_frame",
          "first_ack")


def cpu_jiffies() -> list[int]:
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]


async def start_host(web_dir: str) -> Host:
    stock = routes.add_web_routes.__defaults__
    assert stock is not None
    routes.add_web_routes.__defaults__ = (Path(web_dir), *stock[1:])
    try:
        host = Host(HostConfig(secret=new_secret(), port=0,
                               limits=Limits(taps=RateLimit(1000, 1000))))
        await host.__aenter__()
    finally:
        routes.add_web_routes.__defaults__ = stock
    return host


async def one_load(host: Host, name: str) -> dict[str, Any]:
    session = await browser.connect_chromium(host.url, host.mint_token(name))
    try:
        ack = await session.first_ack()
        await browser.wait_quietly(session.page, "window.rtcInteract.state.marks.first_frame", 5)
        marks: dict[str, Any] = await session.page.evaluate("window.rtcInteract.state.marks")
        return {**marks, "first_ack": ack}
    finally:
        await session.aclose()


async def main(rounds: int, dirs: list[str]) -> dict[str, list[dict[str, Any]]]:
    hosts = {d: await start_host(d) for d in dirs}
    results: dict[str, list[dict[str, Any]]] = {d: [] for d in dirs}
    try:
        for r in range(rounds):
            for d in dirs[r % len(dirs):] + dirs[:r % len(dirs)]:
                results[d].append(await one_load(hosts[d], f"r{r}"))
    finally:
        for host in hosts.values():
            await host.__aexit__(None, None, None)
    return results


def summary(results: dict[str, list[dict[str, Any]]]) -> None:
    for d, loads in results.items():
        medians = " ".join(f"{k} {statistics.median(x[k] for x in loads if k in x):.1f}"
                           for k in STAGES)
        print(d, medians)


if __name__ == "__main__":
    before = cpu_jiffies()
    found = asyncio.run(main(int(sys.argv[1]), sys.argv[3].split(",")))
    spent = [b - a for a, b in zip(before, cpu_jiffies(), strict=True)]
    print(f"steal {100 * spent[7] / sum(spent):.1f}% busy {100 - 100 * spent[3] / sum(spent):.1f}%")
    summary(found)
    Path(sys.argv[2]).write_text(json.dumps(found), encoding="utf-8")
