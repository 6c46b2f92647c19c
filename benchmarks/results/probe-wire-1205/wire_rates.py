"""What went on the wire each 250 ms of a ``knee-cap-1205/queue_trace.py`` trace (RESULTS.md
§34): media (payload type 97) and RTX (98: retransmissions, copies, padding) in kbps, the
link's largest queue, and the controller's smoothed rate sent, padding and copies.

    python benchmarks/results/probe-wire-1205/wire_rates.py TRACE.json [SECONDS]
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any


def main(path: str, seconds: float) -> None:
    out: list[Any] = json.loads(Path(path).read_text())
    rows = {k: v for o in out if isinstance(o, dict) for k, v in o.items() if k in ("pkts", "est")}
    start = rows["est"][0][0] * 1000
    sent: dict[int, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    queue: dict[int, float] = collections.defaultdict(float)
    for packet in rows["pkts"]:
        slot = int((packet[0] - start) // 250)
        sent[slot][packet[3]] += packet[1]
        queue[slot] = max(queue[slot], packet[2])
    runs = {int((r[0] * 1000 - start) // 250): r for r in rows["est"]}
    print("  s   media  rtx  queue | sent(smoothed) padding copies reason")
    for slot in range(int(seconds * 4)):
        r = runs.get(slot)
        tail = "" if r is None else f"| {r[3]:4d} {r[13]:4d} {r[12]:4d} {r[11]}"
        print(f"{slot / 4:5.2f} {sent[slot][97] * 8 / 250:5.0f} {sent[slot][98] * 8 / 250:4.0f} "
              f"{queue[slot]:5.0f} {tail}")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 6.0)
