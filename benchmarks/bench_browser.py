"""Chromium (the host's page) as the viewer, beside the Python viewer: connect stages and taps.

    python benchmarks/bench_browser.py --runs 10 --profile cn-us-west --json browser.json

The page is opened as ``/?token=``: the host's offer comes in the page (docs/PROTOCOL.md §2.6).
Loopback: one host on 127.0.0.1, a fresh headless Chromium per run; stages in ms from page start
(navigation start, in a tab that has finished starting; ``--cold-tab`` navigates at once) for
Chromium and from ``connect()`` for the Python viewer. Then ``--taps``
sequential taps from one page. Emulated link: the runner's connect suite with ``--impl chromium``
and ``--impl ours`` on the same profile and seeds (the page is loaded through the link's relay).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import time
from typing import Any

from rtc_interact import Host, HostConfig, Limits, RateLimit, Viewer, ViewerConfig, new_secret
from rtc_interact.bench import report
from rtc_interact.bench.browser import connect_chromium, wait_quietly
from rtc_interact.bench.runner import commit, machine
from rtc_interact.bench.suites import run_connect
from rtc_interact.linkemu import get_profile

STAGES = ("offer", "signaling", "ice", "dtls", "channel_open", "first_frame")
PAGE_STAGES = ("html", "connect_start", "offer", "local", "answer", "signaling", "ice", "dtls",
               "channel_open", "rtp", "first_frame")
"""The page's timeline: ``html`` is the end of the page's response (navigation timing),
``offer`` the host's offer applied (the page makes no offer of its own when the host put one in
it, ``/?token=``), ``local`` the answer applied, ``answer`` the response to the PATCH that took
it to the host, ``rtp`` the first video packet (the track unmuted); the rest as ``STAGES``."""
PAGE_MARKS = """() => Object.assign(
  {html: performance.getEntriesByType("navigation")[0].responseEnd},
  window.rtcInteract.state.marks)"""


async def chromium_loopback(host: Host, runs: int, taps: int,
                            cold_tab: bool = False) -> dict[str, Any]:
    stages: dict[str, list[float]] = {s: [] for s in (*PAGE_STAGES, "first_ack")}
    rtts: list[float] = []
    for run in range(runs):
        session = await connect_chromium(host.url, host.mint_token(f"chromium-{run}"),
                                         cold_tab=cold_tab)
        try:
            stages["first_ack"].append(await session.first_ack())
            await wait_quietly(session.page, "window.rtcInteract.state.marks.first_frame", 5.0)
            marks = await session.page.evaluate(PAGE_MARKS)
            for name in stages:
                if name in marks:
                    stages[name].append(marks[name])
            if run == runs - 1:
                for _ in range(taps):
                    rtts.append(await session.tap())
                    await asyncio.sleep(0.02)
        finally:
            await session.aclose()
    start = "page start (a cold tab)" if cold_tab else "page start (an idle tab)"
    return {"from": start, "stages_ms": {k: summary(v) for k, v in stages.items()},
            "tap_rtt_ms": summary(rtts)}


async def python_loopback(host: Host, runs: int, taps: int) -> dict[str, Any]:
    stages: dict[str, list[float]] = {}
    rtts: list[float] = []
    for run in range(runs):
        viewer = Viewer(host.url, host.mint_token(f"python-{run}"), ViewerConfig())
        started = time.perf_counter()
        await viewer.open()
        try:
            await viewer.tap()
            stages.setdefault("first_ack", []).append((time.perf_counter() - started) * 1000)
            async for _ in viewer.frames():
                break
            for name, value in dataclasses.asdict(viewer.connect_timings()).items():
                if value is not None:
                    stages.setdefault(name, []).append(value)
            if run == runs - 1:
                for _ in range(taps):
                    rtts.append((await viewer.tap()).rtt_ms)
                    await asyncio.sleep(0.02)
        finally:
            await viewer.aclose()
    return {"from": "connect()", "stages_ms": {k: summary(v) for k, v in stages.items()},
            "tap_rtt_ms": summary(rtts)}


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(values), "p50": round(statistics.median(ordered), 2),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
            "min": round(ordered[0], 2), "max": round(ordered[-1], 2)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    config = HostConfig(secret=new_secret(), port=0, limits=Limits(taps=RateLimit(1000, 1000)))
    out: dict[str, Any] = {"name": "browser", "machine": machine(), "commit": commit(),
                           "runs": args.runs}
    async with Host(config) as host:
        chromium = await chromium_loopback(host, args.runs, args.taps, args.cold_tab)
        out["loopback"] = {"chromium": chromium,
                           "python": await python_loopback(host, args.runs, args.taps)}
    for name in args.profile:
        profile = get_profile(name)
        entry: dict[str, Any] = {"rtt_ms": profile.rtt_ms}
        for impl in ("chromium", "ours"):
            runs = await run_connect(impl, profile, args.runs, args.seed, lambda _: None)
            entry[impl] = report.connect_entry(runs, profile.rtt_ms)
        out[name] = entry
    return out


def table(doc: dict[str, Any]) -> str:
    rows = ["loopback (Chromium: ms from page start; Python: ms from connect())",
            f"  {'stage':<14}{'chromium p50':>14}{'python p50':>12}"]
    chromium, python = doc["loopback"]["chromium"], doc["loopback"]["python"]
    for stage in (*PAGE_STAGES, "first_ack"):
        c = chromium["stages_ms"].get(stage, {}).get("p50", "-")
        p = python["stages_ms"].get(stage, {}).get("p50", "-")
        rows.append(f"  {stage:<14}{c!s:>14}{p!s:>12}")
    rows.append(f"  {'tap rtt':<14}{chromium['tap_rtt_ms'].get('p50')!s:>14}"
                f"{python['tap_rtt_ms'].get('p50')!s:>12}")
    for name, entry in doc.items():
        if isinstance(entry, dict) and "chromium" in entry and "rtt_ms" in entry:
            rows.append(f"{name} (RTT {entry['rtt_ms']:.0f} ms; ms from page start / connect())")
            for stage in ("signaling", "ice", "dtls", "channel_open", "first_frame", "first_ack"):
                c = (entry["chromium"].get(f"{stage}_ms") or {}).get("p50")
                p = (entry["ours"].get(f"{stage}_ms") or {}).get("p50")
                rtts = (entry["chromium"].get(f"{stage}_rtts") or {}).get("p50")
                rows.append(f"  {stage:<14}{c!s:>14}{p!s:>12}   chromium {rtts} RTT")
    return "\n".join(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--taps", type=int, default=200)
    parser.add_argument("--profile", action="append", default=[],
                        help="emulated link profile (repeatable), e.g. cn-us-west")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cold-tab", action="store_true",
                        help="navigate the moment the tab exists (racing its start-up), "
                             "not once it is idle")
    parser.add_argument("--json", dest="json_path")
    arguments = parser.parse_args()
    result = asyncio.run(main(arguments))
    print(table(result))
    if arguments.json_path:
        with open(arguments.json_path, "w") as fh:
            json.dump(result, fh, indent=1)
