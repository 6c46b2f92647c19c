"""``knee-cap-1205/queue_trace.py`` (RESULTS.md §28) plus the controller's own state at each
run (RESULTS.md §30): ``{"state": [...]}`` rows of (s, rung, reason, knee the controller keeps,
when noted, its memory s, probe start, the next rung's block end, quiet until, smoothed sent).

    python benchmarks/results/knee-refute-1205/state_trace.py congested-evening 90 2 out.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knee-cap-1205"))
import queue_trace
import rtx_probe

from rtc_interact.linkemu.relay import LinkEmulator
from rtc_interact.transport import abr, abr_task, nack, pacer

STATE: list[tuple[Any, ...]] = []


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    d = queue_trace.update(self, feedback)
    knee, probe = self._knee, self._probe
    STATE.append((round(time.monotonic(), 3), d.rung, d.reason, knee.kbps and round(knee.kbps),
                  round(knee.at, 2), knee.memory_s, probe.since and round(probe.since, 2),
                  round(probe.blocked_until.get(self.rung - 1, 0.0), 2),
                  round(probe.quiet_until, 2), round(getattr(self, "_sent_kbps", 0.0))))
    return d


if __name__ == "__main__":
    nack.NackScheduler.due = rtx_probe.due  # type: ignore[method-assign]
    nack.NackScheduler.on_packet = rtx_probe.on_packet  # type: ignore[method-assign]
    pacer.RetransmitGate.allow = rtx_probe.allow  # type: ignore[method-assign]
    abr.AbrController.update = update  # type: ignore[method-assign]
    LinkEmulator._relay = queue_trace.relay  # type: ignore[method-assign]
    abr_task.FeedbackLog.on_ping = queue_trace.on_ping  # type: ignore[method-assign]
    out: list[Any] = asyncio.run(rtx_probe.main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    out += [{"pkts": queue_trace.PKTS}, {"est": queue_trace.EST}, {"pings": queue_trace.PINGS},
            {"state": STATE}]
    Path(sys.argv[4]).write_text(json.dumps(out, default=str))
    print(len(out) - 5, "freezes,", len(queue_trace.PKTS), "packets")
