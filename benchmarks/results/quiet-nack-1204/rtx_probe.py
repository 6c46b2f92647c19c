"""Retransmission probe (RESULTS.md §25): one session of ours on a profile; for each freeze, every
packet the viewer's NACK scheduler saw, every NACK it sent and every answer of the host's
retransmission gate, from 600 ms before the freeze to its end, on one clock (ms); then the
controller's decisions and the link's queue each second.

    python benchmarks/results/quiet-nack-1204/rtx_probe.py abr-300-loss3 60 2 out.json

Rows: ("arr", ms, seq), ("nack", ms, seq, try, guessed), ("rtx", ms, seq, resent). The last
element of the output is {"decisions": [(s, reason, padding, target, estimate, copies)],
"queue": [(s, max queue ms, queue drops)]}, seconds from the watch's start.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.bench.metrics import freeze_gaps
from rtc_interact.linkemu import get_profile
from rtc_interact.transport import abr, nack, pacer

LOG: list[tuple[Any, ...]] = []
DECISIONS: list[tuple[Any, ...]] = []
DUE, ON_PACKET = nack.NackScheduler.due, nack.NackScheduler.on_packet
ALLOW, UPDATE = pacer.RetransmitGate.allow, abr.AbrController.update


def due(self: nack.NackScheduler, now_ms: float) -> list[int]:
    out = DUE(self, now_ms)
    for seq in out:
        entry = self._missing[seq]
        LOG.append(("nack", now_ms, seq % 65536, entry.tries, entry.guessed))
    return out


def on_packet(self: nack.NackScheduler, seq: int, now_ms: float) -> None:
    LOG.append(("arr", now_ms, seq % 65536))
    ON_PACKET(self, seq, now_ms)


def allow(self: pacer.RetransmitGate, seq: int, size: int, now: float) -> bool:
    resent = ALLOW(self, seq, size, now)
    LOG.append(("rtx", now * 1000, seq, resent))  # the host's clock is time.monotonic too
    return resent


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    d = UPDATE(self, feedback)
    DECISIONS.append((time.monotonic(), d.reason, round(d.padding_kbps), round(d.target_kbps),
                      round(self.estimate), round(d.copy_kbps)))
    return d


async def main(profile: str, seconds: int, seed: int) -> list[dict[str, Any]]:
    async with linked_host("ours", get_profile(profile), seed) as link:
        session = await connect("ours", link)
        started = time.perf_counter()  # the same clock as time.monotonic on Linux
        await asyncio.sleep(seconds)
        stats = link.emulator.stats()  # type: ignore[attr-defined]
        link_t0 = time.perf_counter() - stats.elapsed_s
        await session.aclose()
    times = [r.at_s for r in session.frames.records if r.at_s >= started]
    rows: list[dict[str, Any]] = [
        {"at_s": round(a - started, 2), "gap_ms": round((b - a) * 1000), "start_ms": a * 1000,
         "context": [e for e in LOG if a * 1000 - 600 <= e[1] <= b * 1000 + 20]}
        for a, b in freeze_gaps(times)]
    rows.append({"decisions": [(round(t - started, 2), *rest) for t, *rest in DECISIONS],
                 "queue": [(round(link_t0 + s.second - started, 1), round(s.queue_ms_max),
                            s.dropped_queue) for s in stats.a_to_b.seconds]})
    return rows


if __name__ == "__main__":
    nack.NackScheduler.due = due  # type: ignore[method-assign]
    nack.NackScheduler.on_packet = on_packet  # type: ignore[method-assign]
    pacer.RetransmitGate.allow = allow  # type: ignore[method-assign]
    abr.AbrController.update = update  # type: ignore[method-assign]
    out = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    Path(sys.argv[4]).write_text(json.dumps(out, default=str))
    print(len(out) - 1, "freezes")
