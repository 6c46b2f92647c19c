"""Where congested-evening's freezes fall: per build, the freezes of each run counted by phase
(the 3 s after each capacity step, and the rest of each phase), with the medians of freezes a
minute and of the step up's time to fit.

    python benchmarks/results/ce-steps-1206/phases.py DIR [DIR ...]

Each DIR holds ``BUILD-congested-evening-SEED.json`` files written by
``rtc-interact bench --suite video --profile congested-evening --json``.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

STEP_S = 3
"""Seconds after a step whose freezes count as the step's."""


def _phase(at_s: float, steps: list[dict]) -> str:
    """The name of the part of the run that ``at_s`` falls in."""
    name = "start"
    for step in steps:
        if at_s < step["at_s"]:
            break
        kind = f"{step['from_kbps']:.0f}->{step['to_kbps']:.0f}"
        name = f"step {kind}" if at_s < step["at_s"] + STEP_S else f"at {step['to_kbps']:.0f}"
    return name


def main(dirs: list[str]) -> None:
    runs: dict[str, list[dict]] = defaultdict(list)
    for folder in dirs:
        for path in sorted(Path(folder).glob("*-congested-evening-*.json")):
            build = path.name.split("-congested-evening-")[0]
            video = json.loads(path.read_text())["results"][0]["video"]["ours"]
            runs[build].append(video)
    for build, videos in sorted(runs.items()):
        counts: Counter[str] = Counter()
        for video in videos:
            counts.update(_phase(at, video["steps"]) for at, _ in video["freezes_at_s"])
        ups = [next((s["fit_s"] for s in v["steps"] if s["to_kbps"] > s["from_kbps"]
                     and s["from_kbps"] < 1000), None) for v in videos]
        fitted = sum(u is not None and u <= 10 for u in ups)
        step = sum(n for phase, n in counts.items() if phase == "step 1200->600")
        print(f"{build}: {len(videos)} runs, freezes/min median "
              f"{statistics.median(v['freezes_per_min'] for v in videos)}, "
              f"windows % median {statistics.median(v['fps']['windows_ge_20_pct'] for v in videos)}"
              f", g2g p95 median {statistics.median(v['g2g_ms']['p95'] for v in videos)}, "
              f"step up fitted within 10 s in {fitted}; freezes {sum(counts.values())}, "
              f"{step} at the step to 600; by phase: {dict(counts)}")


if __name__ == "__main__":
    main(sys.argv[1:])
