"""``knee-cap-1205/queue_trace.py`` (RESULTS.md §28) plus the drain's state at each controller
run (RESULTS.md §31): ``{"drain": [...]}`` rows of (s, reason, rung, shed, ping excess, estimate,
smoothed sent, copies). It reads ``Decision.shed``, so it runs on a tree with
``trials/vH-drain.patch`` applied.

    python benchmarks/results/drain-1205/drain_trace.py congested-evening 50 1 out.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knee-cap-1205"))
import queue_trace

from rtc_interact.transport import abr

DRAIN: list[tuple[Any, ...]] = []


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    d = queue_trace.update(self, feedback)
    DRAIN.append((round(time.monotonic(), 3), d.reason, d.rung, d.shed,
                  round(self._pings.excess), round(d.estimate_kbps),
                  round(self.estimator.sent_kbps), round(d.copy_kbps)))
    return d


if __name__ == "__main__":
    queue_trace.main(sys.argv[1:], update, ({"drain": DRAIN},))
