"""The interarrival jitter the viewer's receiver reports carry, beside each report's raw round
trip, for one short video session (RESULTS §16.7):

    python jitter_probe.py PROFILE IMPL SEED SECONDS

Prints the reports' jitter (RFC 3550 section 6.4.1, 90 kHz units, shown in ms) and the raw
round trip's excess over the smallest, as medians and 90th percentiles.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from typing import Any

from rtc_interact.bench.runner import BenchPlan, run
from rtc_interact.transport import aiortc_sender

samples: list[tuple[float, float]] = []  # (jitter ms, raw round trip ms)
stock = aiortc_sender.report_rtt


def report_rtt(report: Any, ntp_time: int | None = None) -> float | None:
    rtt = stock(report, ntp_time)
    if rtt is not None:
        samples.append((report.jitter / 90.0, rtt * 1000))
    return rtt


def pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))]


def main(profile: str, impl: str, seed: str, seconds: str) -> None:
    aiortc_sender.report_rtt = report_rtt
    plan = BenchPlan(profiles=(profile,), suites=("video",), video_s=int(seconds),
                     seed=int(seed), implementations=(impl,))
    asyncio.run(run(plan, progress=False))
    jitter = [j for j, _ in samples]
    smallest = min(r for _, r in samples)
    excess = [r - smallest for _, r in samples]
    over = sum(1 for x in excess if x > 60) / len(excess)
    print(f"{profile} {impl}: {len(samples)} reports; jitter ms median "
          f"{statistics.median(jitter):.1f} p90 {pct(jitter, 0.9):.1f}; raw excess ms median "
          f"{statistics.median(excess):.0f} p90 {pct(excess, 0.9):.0f}; over 60 ms {over:.0%}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
