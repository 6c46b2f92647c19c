"""One line a second of a ``knee-cap-1205/queue_trace.py`` trace (RESULTS.md §29): the link's
largest backlog, the estimate, the rate sent, the knee, the pings' largest excess, each
controller run's reason (first letter: p probe, h hold, w wait-up, u up, d down), the copies and
the most padding.

    python benchmarks/results/knee-ramp-1205/trace_seconds.py TRACE.json
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any


def main(path: str) -> None:
    out: list[Any] = json.loads(Path(path).read_text())
    rows = {k: v for o in out if isinstance(o, dict) for k, v in o.items()
            if k in ("pkts", "est")}
    freezes = [(o["at_s"], o["gap_ms"]) for o in out if isinstance(o, dict) and "gap_ms" in o]
    start = rows["est"][0][0]
    print("freezes (s, gap ms):", freezes)
    queue: dict[int, float] = collections.defaultdict(float)
    for packet in rows["pkts"]:
        second = int(packet[0] / 1000 - start)
        queue[second] = max(queue[second], packet[2])
    runs: dict[int, list[Any]] = collections.defaultdict(list)
    for row in rows["est"]:
        runs[int(row[0] - start)].append(row)
    for second in sorted(runs):
        r = runs[second]
        print(f"{second:3d} queue {queue[second]:4.0f} est {r[0][1]}->{r[-1][2]} sent {r[-1][3]}"
              f" knee {r[-1][4]} ping+ {max(x[7] for x in r)} "
              f"{''.join(x[11][0] for x in r)} copies {r[-1][12]} padding {max(x[13] for x in r)}")


if __name__ == "__main__":
    main(sys.argv[1])
