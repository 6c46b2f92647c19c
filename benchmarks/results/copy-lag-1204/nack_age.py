"""First-NACK ages at the host (ms from the original's send to its first NACK), one session
of ours on a profile (RESULTS.md §24.1). Writes [seconds in, age ms, the gate's RTT ms] rows.

    python benchmarks/results/copy-lag-1204/nack_age.py mobile-3g-weak 45 1 out.json
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.linkemu import get_profile
from rtc_interact.transport import pacer

AGES: list[tuple[float, float, int]] = []
ALLOW = pacer.RetransmitGate.allow
START = time.monotonic()


def allow(self: pacer.RetransmitGate, seq: int, size: int, now: float) -> bool:
    record = self._sent.get(seq)
    if record is not None and record.nacks == 0:
        AGES.append((round(time.monotonic() - START, 2), round((now - record.at) * 1000, 1),
                     round(self.rtt_s * 1000)))
    return ALLOW(self, seq, size, now)


async def main(profile: str, seconds: int, seed: int) -> None:
    async with linked_host("ours", get_profile(profile), seed) as link:
        session = await connect("ours", link)
        await asyncio.sleep(seconds)
        await session.aclose()


if __name__ == "__main__":
    pacer.RetransmitGate.allow = allow  # type: ignore[method-assign]
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    ages = [age for _, age, _ in AGES]
    quartiles = statistics.quantiles(ages, n=4) if len(ages) > 3 else ages
    print(sys.argv[1], "n", len(ages), "quartiles", [round(x) for x in quartiles])
    Path(sys.argv[4]).write_text(json.dumps(AGES))
