"""The first seconds of one session (RESULTS.md §33): ``rtx_probe.py``'s packet, NACK and
retransmission log (§25), every frame the viewer decoded (s from the end of ``connect``,
glass-to-glass ms, width), the link's queue each second and the controller's decisions.

    python benchmarks/results/startup-1205/startup_probe.py abr-300-loss3 4 7 out.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quiet-nack-1204"))
import rtx_probe

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.bench.metrics import freeze_gaps
from rtc_interact.linkemu import get_profile
from rtc_interact.transport import abr, nack, pacer


async def main(profile: str, seconds: int, seed: int) -> dict[str, Any]:
    async with linked_host("ours", get_profile(profile), seed) as link:
        begun = time.perf_counter()
        session = await connect("ours", link)
        started = time.perf_counter()
        marks = session.marks()
        await asyncio.sleep(seconds)
        stats = link.emulator.stats()  # type: ignore[attr-defined]
        link_t0 = time.perf_counter() - stats.elapsed_s
        await session.aclose()
    frames = [(round(r.at_s - started, 3), r.g2g_ms and round(r.g2g_ms), r.width)
              for r in session.frames.records]
    times = [r.at_s for r in session.frames.records if r.at_s >= started]
    return {"connect_s": round(started - begun, 3), "marks": marks,
            "freezes": [(round(a - started, 3), round((b - a) * 1000))
                        for a, b in freeze_gaps(times)],
            "frames": frames,
            "log": [(e[0], round(e[1] - started * 1000, 1), *e[2:]) for e in rtx_probe.LOG],
            "queue": [(round(s.second + link_t0 - started, 1), round(s.queue_ms_max),
                       s.dropped_queue) for s in stats.a_to_b.seconds],
            "decisions": [(round(t - started, 2), *rest) for t, *rest in rtx_probe.DECISIONS]}


if __name__ == "__main__":
    nack.NackScheduler.due = rtx_probe.due  # type: ignore[method-assign]
    nack.NackScheduler.on_packet = rtx_probe.on_packet  # type: ignore[method-assign]
    pacer.RetransmitGate.allow = rtx_probe.allow  # type: ignore[method-assign]
    abr.AbrController.update = rtx_probe.update  # type: ignore[method-assign]
    out = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    Path(sys.argv[4]).write_text(json.dumps(out, default=str))
    print("freezes", out["freezes"], "connect", out["connect_s"])
