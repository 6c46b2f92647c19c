"""Congested-evening's last 5 s at 1200 kbps, per traced run (RESULTS §44.2): the controller's mean
estimate, copies and rate sent, beside the run's freezes at the step to 600 kbps
(``../path-length-1206/summary.py``'s count) and in all.

    python atstep.py RUN.trace...

The step up to 2500 kbps is placed as ``../probe-signs-1206/climb.py`` places it; the 1200 kbps
phase ends 20 s before it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "probe-signs-1206"))
sys.path.insert(0, str(Path(__file__).parent.parent / "path-length-1206"))
from climb import samples, step_up
from summary import step_freezes


def line(trace: Path) -> str | None:
    result = trace.with_suffix(".json")
    if not result.exists():
        return None
    runs = samples(trace)
    up = step_up(runs)
    last = [fields for at, reason, fields in runs
            if reason != "QUEUE" and up - 26 <= at <= up - 21]
    if not last:
        return None

    def mean(key: str) -> float:
        return sum(float(fields[key]) for fields in last) / len(last)

    video = json.loads(result.read_text())["results"][0]["video"]["ours"]
    step = step_freezes(video)
    return (f"{trace.stem:30} estimate {mean('est'):5.0f}, copies {mean('copy'):4.0f}, sent "
            f"{mean('sent'):5.0f} kbps; freezes at the step {step}, in all {video['freezes']}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        shown = line(Path(name))
        if shown is not None:
            print(shown)
