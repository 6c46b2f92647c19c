"""``knee-cap-1205/queue_trace.py`` (RESULTS.md §28) with the viewer held on the ladder's middle
rung or above, whatever the controller chooses (RESULTS.md §31: what the 190 kbps rung does on
mobile-3g-weak when it stays).

    python benchmarks/results/drain-1205/rung_trace.py mobile-3g-weak 90 6 out.json
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knee-cap-1205"))
import queue_trace

from rtc_interact.transport import abr

_DECISION = abr.AbrController._decision


def decision(self: abr.AbrController, reason: str, padding: float = 0.0) -> abr.Decision:
    self.rung = min(self.rung, 1)
    return _DECISION(self, reason, padding)


if __name__ == "__main__":
    abr.AbrController._decision = decision  # type: ignore[method-assign]
    queue_trace.main(sys.argv[1:])
