"""The receiver reports' loss in each 20 s phase of a congested-evening trace
(``startup-1205/why_trace.py``, RESULTS.md §34): how many reports, their mean loss, and the
share of controller runs whose smoothed loss was at or above ``loss_low`` (4%).

    python benchmarks/results/probe-wire-1205/loss_phases.py TRACE.json ...
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

PHASES = ((0, 17), (18, 37), (38, 57), (58, 78), (78, 90))
"""Trace seconds of each phase (the link steps ~2.25 s before the profile's 20 s marks)."""


def main(paths: list[str]) -> None:
    for path in paths:
        out: list[Any] = json.loads(Path(path).read_text())
        est = next(o["est"] for o in out if isinstance(o, dict) and "est" in o)
        start = est[0][0]
        for a, b in PHASES:
            rows = [r for r in est if a <= r[0] - start < b]
            reports = [r[9] for r in rows if r[9] is not None]
            held = sum(r[10] >= 0.04 for r in rows) / max(1, len(rows))
            mean = statistics.mean(reports) if reports else float("nan")
            print(f"{Path(path).name} {a:2d}-{b:2d} s: {len(reports):2d} reports, "
                  f"mean loss {mean:.3f}, smoothed >= 4% in {held:.0%} of runs")


if __name__ == "__main__":
    main(sys.argv[1:])
