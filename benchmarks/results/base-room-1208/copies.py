"""The copies (kbps) and the estimate the controller chose in congested-evening's 1200 kbps
(25-40 s of the link's time) and 600 kbps (44-60 s) phases, median over every sample of every
traced run of each build, with the share of samples under 150 kbps of copies (RESULTS §53).

    python copies.py runs1 A C
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "playout-stretch-1207"))
from ended import clocks

SAMPLE = re.compile(r"(\S+) \S+ r\d est=(\S+) pad=\S+ copy=(\S+)")
PHASES = {"1200": (25.0, 40.0), "600": (44.0, 60.0)}


def phase(t: float) -> str | None:
    return next((name for name, (start, end) in PHASES.items() if start <= t < end), None)


def main(folder: str, builds: list[str]) -> None:
    for build in builds:
        copies: dict[str, list[float]] = {name: [] for name in PHASES}
        estimates: dict[str, list[float]] = {name: [] for name in PHASES}
        for trace in sorted(Path(folder).glob(f"{build}-congested-evening-*.trace")):
            _, t0 = clocks(str(trace))
            for line in trace.read_text().splitlines():
                sample = SAMPLE.match(line)
                name = sample and phase(float(sample[1]) - t0)
                if sample and name:
                    estimates[name].append(float(sample[2]))
                    copies[name].append(float(sample[3]))
        for name in PHASES:
            low = sum(c < 150 for c in copies[name]) / len(copies[name])
            print(f"{build} {name:>4} kbps phase: copies {statistics.median(copies[name]):.0f} "
                  f"(under 150: {low:.0%}), estimate {statistics.median(estimates[name]):.0f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
