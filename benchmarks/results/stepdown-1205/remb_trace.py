"""``knee-cap-1205/queue_trace.py`` (RESULTS.md §28) plus the arrival of each REMB at the host
(RESULTS.md §32): ``{"remb": [...]}`` rows of (monotonic ms, kbps).

    python benchmarks/results/stepdown-1205/remb_trace.py congested-evening 45 4 out.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knee-cap-1205"))
import queue_trace

from rtc_interact.transport import abr_task

REMB: list[tuple[float, float]] = []
ON_REMB = abr_task.FeedbackLog.on_remb


def on_remb(self: abr_task.FeedbackLog, bps: int) -> None:
    REMB.append((round(time.monotonic() * 1000, 1), round(bps / 1000)))
    ON_REMB(self, bps)


if __name__ == "__main__":
    abr_task.FeedbackLog.on_remb = on_remb  # type: ignore[method-assign]
    queue_trace.main(sys.argv[1:], extra=({"remb": REMB},))
