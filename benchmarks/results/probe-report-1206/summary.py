"""Congested-evening and abr-300-loss3 runs of RESULTS §39, per build: freezes a minute per
seed, where congested-evening's freezes fall, and the step up's time to fit.

    python benchmarks/results/probe-report-1206/summary.py DIR

vB (seeds 1-6, abr-300-loss3 seed 1) and vL (the rest) are the landed behaviour in two
worktrees (vB the trial's code, vL the landed code before its review), counted together as
"landed". ``runs-vD/`` holds §39.5's trial (vD) beside the landed code (L).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ce-steps-1206"))
from phases import _phase  # (that folder is no package)

SAME = {"vB": "landed", "vL": "landed"}


def main(folder: str) -> None:
    runs: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for path in sorted(Path(folder).glob("*.json")):
        build, rest = path.stem.split("-", 1)
        profile, seed = rest.rsplit("-", 1)
        video = json.loads(path.read_text())["results"][0]["video"]["ours"]
        runs[(profile, SAME.get(build, build))][int(seed)] = video
    for (profile, build), by_seed in sorted(runs.items()):
        seeds = sorted(by_seed)
        rates = [by_seed[s]["freezes_per_min"] for s in seeds]
        freezes = sum(len(by_seed[s]["freezes_at_s"]) for s in seeds)
        line = (f"{profile} {build}: seeds {seeds[0]}-{seeds[-1]}, freezes a minute {rates}, "
                f"median {statistics.median(rates)}, freezes {freezes}")
        if profile == "congested-evening":
            phases: Counter[str] = Counter()
            ups = []
            for s in seeds:
                steps = by_seed[s]["steps"]
                phases.update(_phase(at, steps) for at, _ in by_seed[s]["freezes_at_s"])
                ups.append(next(st["fit_s"] for st in steps if st["to_kbps"] > st["from_kbps"]
                                and st["from_kbps"] < 1000))
            within = sum(u is not None and u <= 10 for u in ups)
            line += f"; step up fit (s) {ups}, within 10 s {within}; by phase {dict(phases)}"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
