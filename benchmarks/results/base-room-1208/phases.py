"""Two or more builds' congested-evening runs on the seeds they share (RESULTS §53): freezes by
phase of the link (``../playout-stretch-1207/ended.py``: the step 40-42 s, the 600 kbps phase
42-60 s, the rest) and by what ended them, runs with at most one, frozen seconds, the median
delivered share of each steady phase, and glass-to-glass p95 (median, most).

    python phases.py runs1 A C
"""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "playout-stretch-1207"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "base-short-1207"))
from ended import ended
from pairs import video


def seeds(folder: str, builds: list[str]) -> list[str]:
    """The seeds every build ran."""
    each = [{p.stem.rsplit("-", 1)[1] for p in Path(folder).glob(f"{b}-congested-evening-*.json")}
            for b in builds]
    return sorted(set.intersection(*each), key=int)


def row(folder: str, build: str, shared: list[str]) -> str:
    counts: Counter[tuple[str, str]] = Counter()
    freezes, frozen, g2g, shares = [], 0.0, [], []
    for seed in shared:
        trace = f"{folder}/{build}-congested-evening-{seed}.trace"
        ended(trace, counts)
        run = video(Path(trace.removesuffix(".trace") + ".json"))
        freezes.append(run["freezes"])
        frozen += run["freeze_s"]
        g2g.append(run["g2g_ms"]["p95"])
        shares.append(run["kbps"]["steady_ratio"])
    where, kinds = Counter(), Counter()
    for (phase, kind), n in counts.items():
        where[phase] += n
        kinds[kind] += n
    steady = [round(statistics.median(s[i] for s in shares if len(s) > i), 2)
              for i in range(max(map(len, shares)))]
    return (f"{build}: {len(shared)} runs, {sum(freezes)} freezes (step {where['step']}, 600 "
            f"{where['600']}, rest {where['other']}; {dict(kinds)}), "
            f"{sum(f <= 1 for f in freezes)} with at most 1, {frozen:.1f} s frozen, steady "
            f"{steady}, g2g p95 {statistics.median(g2g):.0f} ms ({max(g2g):.0f})")


def main(folder: str, builds: list[str]) -> None:
    shared = seeds(folder, builds)
    for build in builds:
        print(row(folder, build, shared))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
