"""``knee-cap-1205/queue_trace.py`` (RESULTS.md §28) plus the controller's own state at each
run (RESULTS.md §30): ``{"state": [...]}`` rows of (s, rung, reason, knee the controller keeps,
when noted, its memory s, probe start, the next rung's block end, quiet until, smoothed sent).

    python benchmarks/results/knee-refute-1205/state_trace.py congested-evening 90 2 out.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knee-cap-1205"))
import queue_trace

from rtc_interact.transport import abr

STATE: list[tuple[Any, ...]] = []


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    d = queue_trace.update(self, feedback)
    knee, probe = self._knee, self._probe
    STATE.append((round(time.monotonic(), 3), d.rung, d.reason, knee.kbps and round(knee.kbps),
                  round(knee.at, 2), knee.memory_s, probe.since and round(probe.since, 2),
                  round(probe.blocked_until.get(self.rung - 1, 0.0), 2),
                  round(probe.quiet_until, 2), round(self.estimator.sent_kbps)))
    return d


if __name__ == "__main__":
    queue_trace.main(sys.argv[1:], update, ({"state": STATE},))
