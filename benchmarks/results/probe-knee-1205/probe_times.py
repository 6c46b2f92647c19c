"""Freezes beside the controller's probes (RESULTS.md §26), from an ``rtx_probe.py`` output:

    python benchmarks/results/probe-knee-1205/probe_times.py \
        benchmarks/results/probe-knee-1205/probes/rtx-29e6220-abr-300-loss3-3.json

Prints the freezes' times, then each change of the controller's reason (s, reason, padding,
rung kbps, estimate, copies) with the link's largest queue in that second (ms).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> None:
    data = json.loads(Path(path).read_text())
    summary = data[-1]
    queue = {round(row[0]): row[1] for row in summary["queue"]}
    print("freezes at s:", [f["at_s"] if isinstance(f, dict) else f[0] for f in data[:-1]])
    previous = None
    for row in summary["decisions"]:
        if row[1] != previous:
            print(round(row[0], 2), row[1:], "queue", queue.get(round(row[0])))
        previous = row[1]


if __name__ == "__main__":
    main(sys.argv[1])
