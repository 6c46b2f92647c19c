"""``stepdown-1205/remb_trace.py`` (RESULTS.md §32) plus, at each controller run, why it held
(RESULTS.md §33): ``{"why": [(monotonic s, rung, room, next rung's target, s left of its
back-off, s left of the quiet after a decrease, knee kbps, s since the knee, knee memory s,
reason)]}``.

    python benchmarks/results/startup-1205/why_trace.py congested-evening 75 7 out.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knee-cap-1205"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stepdown-1205"))
import queue_trace
import remb_trace

from rtc_interact.transport import abr, abr_task

WHY: list[tuple[Any, ...]] = []


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    decision = queue_trace.update(self, feedback)
    now, probe, knee = feedback.now, self._probe, self._knee
    target = self._up_target(self.rates[self.rung - 1]) if self.rung > 0 else None
    blocked = probe.blocked_until.get(self.rung - 1) if self.rung > 0 else None
    WHY.append((round(time.monotonic(), 3), self.rung, round(self.room),
                target and round(target), blocked and round(blocked - now, 2),
                round(max(-1.0, probe.quiet_until - now), 2), knee.kbps and round(knee.kbps),
                round(min(99.0, now - knee.at), 1), knee.memory_s, decision.reason))
    return decision


if __name__ == "__main__":
    abr_task.FeedbackLog.on_remb = remb_trace.on_remb  # type: ignore[method-assign]
    queue_trace.main(sys.argv[1:], wrap=update, extra=({"remb": remb_trace.REMB}, {"why": WHY}))
