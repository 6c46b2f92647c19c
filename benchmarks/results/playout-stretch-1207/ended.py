"""What ended each freeze of a traced run (RESULTS §49), by phase, counted over the runs given.
Runs traced with ``../step-copies-1207/patches/trace.patch`` (``NAME.trace.rx``: each frame the
viewer's buffer released: when, RTP time, first and last packets' arrivals, packets, droppable,
keyframe, first sequence number).

    python ended.py runs1/T-*.trace

The frame that ended a freeze was a keyframe (KEY: the frames with a hole were given up), a
frame that came after a later one (RECOV: a loss filled by a retransmission or a copy; the
number is how much later, ms), or one that came in order (INORDER: a late path). Phases of
the link: ``step`` 40-42 s, ``600`` 42-60 s, ``other``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path


def clocks(trace: str) -> tuple[float, float]:
    """(the bench's start, the link's start) on the monotonic clock."""
    fields = dict(re.findall(r"(\w+)=(\S+)", Path(trace + ".bench").read_text()))
    return float(fields["started"]), float(fields["link_t0"])


def phase(t: float) -> str:
    return "step" if 40 <= t < 42 else "600" if 42 <= t < 60 else "other"


def ended(trace: str, counts: Counter[tuple[str, str]]) -> list[str]:
    started, t0 = clocks(trace)
    run = json.loads(Path(trace.removesuffix(".trace") + ".json").read_text())
    rows = [line.split() for line in Path(trace + ".rx").read_text().splitlines()]
    out = []
    for at, frozen in run["results"][0]["video"]["ours"]["freezes_at_s"]:
        t = started + at
        i = next((k for k, r in enumerate(rows) if float(r[0]) > t + 0.01), None)
        if i is None:
            continue
        row, arrived = rows[i], float(rows[i][3]) / 1000
        later = [float(r[2]) / 1000 for r in rows[i + 1:i + 30] if int(r[7]) > int(row[7])]
        if row[6] == "1":
            kind, label = "KEY", "KEY"
        elif later and min(later) < arrived - 0.03:
            kind, label = "RECOV", f"RECOV{(arrived - min(later)) * 1000:.0f}"
        else:
            kind, label = "INORDER", "INORDER"
        counts[(phase(t - t0), kind)] += 1
        out.append(f"{t - t0:.1f}/{frozen:.2f} {label}")
    return out


def main(traces: list[str]) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for trace in traces:
        print(f"{Path(trace).stem:28} {ended(trace, counts)}")
    for (where, kind), n in sorted(counts.items()):
        print(f"{where:6} {kind:8} {n}")


if __name__ == "__main__":
    main(sys.argv[1:])
