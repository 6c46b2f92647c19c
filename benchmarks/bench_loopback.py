"""Loopback baseline: connect stages and tap round trips, host and viewer in one process.

Runs ``--runs`` fresh viewers against one host on 127.0.0.1; each connects, sends ``--taps`` taps
back to back (one in flight at a time) and leaves. Prints a short table and, with ``--json PATH``,
writes the numbers (median over runs for each stage; tap percentiles over all taps).

    python benchmarks/bench_loopback.py --runs 10 --taps 200 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
from typing import Any

from rtc_interact import Host, HostConfig, Limits, RateLimit, VideoConfig, Viewer, new_secret
from rtc_interact.bench.runner import commit, machine
from rtc_interact.stats import Percentiles


async def _one_run(host: Host, taps: int) -> tuple[dict[str, float | None], list[float]]:
    async with Viewer.connect(host.url, token=host.mint_token("bench")) as viewer:
        rtts = [(await viewer.tap()).rtt_ms for _ in range(taps)]
        for _ in range(200):  # first frame usually lands within ~100 ms of channel open
            if viewer.connect_timings().first_frame is not None:
                break
            await asyncio.sleep(0.01)
        return dataclasses.asdict(viewer.connect_timings()), rtts


async def bench(runs: int, taps: int) -> dict[str, Any]:
    """Run the benchmark and return the JSON result."""
    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(640, 360, 30),
                        limits=Limits(taps=RateLimit(10_000, 10_000)))
    stages: dict[str, list[float]] = {}
    all_rtts: list[float] = []
    async with Host(config) as host:
        for _ in range(runs):
            timings, rtts = await _one_run(host, taps)
            all_rtts += rtts
            for stage, value in timings.items():
                if value is not None:
                    stages.setdefault(stage, []).append(value)
    taps_summary = Percentiles.of(all_rtts)
    return {
        "name": "loopback", "implementation": "rtc-interact", "runs": runs,
        "loop": type(asyncio.get_running_loop()).__module__.split(".")[0], "unit": "ms",
        "connect_ms_median": {k: round(statistics.median(v), 2) for k, v in stages.items()},
        "connect_ms": {k: p.as_dict() for k, v in stages.items() if (p := Percentiles.of(v))},
        "tap_rtt_ms": taps_summary.as_dict() if taps_summary else None,
        "machine": machine(),
        "commit": commit(),
    }


def table(result: dict[str, Any]) -> str:
    """Short human-readable table."""
    lines = [f"loopback, {result['runs']} runs, loop={result['loop']}, "
             f"{result['machine']['cpu_count']} cores"]
    for stage, p in result["connect_ms"].items():
        lines.append(f"  {stage:<13} p50 {p['p50']:8.2f} ms  p95 {p['p95']:8.2f} ms")
    t = result["tap_rtt_ms"]
    lines.append(f"  {'tap rtt':<13} p50 {t['p50']:8.3f} ms  p95 {t['p95']:8.3f} ms  "
                 f"p99 {t['p99']:8.3f} ms  (n={t['n']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--taps", type=int, default=200)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(bench(args.runs, args.taps))
    else:
        result = asyncio.run(bench(args.runs, args.taps))
    print(table(result))
    if args.json_path:
        with open(args.json_path, "w") as fh:
            json.dump(result, fh, indent=1)
    else:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
