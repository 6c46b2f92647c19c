"""ABR trace probe: one session of ours on a profile; every controller decision (estimate,
rung, copies, padding, reason) beside the link's queue and drops of each second.

    python benchmarks/results/abr-trace-1204/abr_trace.py abr-300-loss3 30 1 out.json

``AbrController.update`` is wrapped in this process to log its feedback and decision.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.linkemu import get_profile
from rtc_interact.transport import abr

LOG: list[dict[str, Any]] = []
UPDATE = abr.AbrController.update


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    decision = UPDATE(self, feedback)
    LOG.append({"t": round(time.monotonic() - START, 2), "loss": feedback.loss,
                "lost": feedback.lost, "rtt": feedback.rtt_ms, "raw": feedback.rtt_raw_ms,
                "ping": getattr(feedback, "ping_rtt_ms", None),
                "remb": feedback.remb_kbps, "nacks": feedback.nacks,
                "sent_kbps": None, **{k: (round(v, 1) if isinstance(v, float) else v)
                                      for k, v in dataclasses.asdict(decision).items()},
                "other": round(self.other_kbps, 1),
                "knee": getattr(self.estimator, "_knee", None),  # the estimator's, if it has
                "sent": round(getattr(self.estimator, "sent_kbps", 0.0), 1)})
    return decision


abr.AbrController.update = update  # type: ignore[method-assign]
START = time.monotonic()


async def main(profile: str, seconds: int, seed: int) -> dict[str, Any]:
    global START
    async with linked_host("ours", get_profile(profile), seed) as link:
        START = time.monotonic()
        session = await connect("ours", link)
        await asyncio.sleep(seconds)
        down = link.emulator.stats().a_to_b.seconds  # type: ignore[attr-defined]
        await session.aclose()
    per_s = [{"s": s.second, "kbps": round(s.delivered_kbps), "queue": round(s.queue_ms_max),
              "drop_q": s.dropped_queue, "drop_l": s.dropped_loss} for s in down]
    for row in per_s:
        near = [e for e in LOG if row["s"] <= e["t"] < row["s"] + 1]
        last = near[-1] if near else {}
        keys = ("rung", "target_kbps", "estimate_kbps", "copy_kbps", "padding_kbps", "reason",
                "rtt", "ping", "loss", "remb", "knee", "sent")
        print(row, {k: last.get(k) for k in keys})
    return {"profile": profile, "seed": seed, "per_s": per_s, "decisions": LOG}


if __name__ == "__main__":
    name, secs, sd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    Path(sys.argv[4]).write_text(json.dumps(asyncio.run(main(name, secs, sd))))
