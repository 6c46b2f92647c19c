"""How many runs a comparison of two builds on congested-evening needs (RESULTS §51.3): the
base's freezes per 90 s run, pooled over the runs given, and the runs per build that a two-sided
test at 5% needs to find a cut of 20, 30 or 50% in them 80% of the time (normal approximation).

    python power.py runs1/A-*.json ../step-window-1207/runs1/A-*.json \\
        ../playout-stretch-1207/runs*/A*-*.json
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

Z = 1.96 + 0.84
"""Two-sided 5% plus 80% power, in standard deviations."""


def main(paths: list[str]) -> None:
    freezes = [json.loads(Path(p).read_text())["results"][0]["video"]["ours"]["freezes"]
               for p in paths]
    mean, var = statistics.mean(freezes), statistics.variance(freezes)
    print(f"{len(freezes)} runs: {mean:.2f} freezes a run, variance {var:.2f}; "
          f"{sum(f <= 1 for f in freezes)} runs with at most one")
    for cut in (0.2, 0.3, 0.5):
        print(f"a cut of {cut:.0%}: {math.ceil(2 * Z * Z * var / (mean * cut) ** 2)} runs a build")


if __name__ == "__main__":
    main(sys.argv[1:])
