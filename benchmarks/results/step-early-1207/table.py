"""One table row per build from the runs' JSON (RESULTS §48): freezes a minute per seed, their
median, all freezes, the 1200 kbps phase's delivered share of capacity (median), glass-to-glass
p95 (median), the runs whose steps up fitted within 10 s, and the least share of 1 s windows at
20 fps.

    python table.py runs1 runs2 runs3
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def main(folders: list[str]) -> None:
    runs: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for folder in folders:
        for path in Path(folder).glob("*-congested-evening-*.json"):
            build, seed = path.stem.split("-congested-evening-")
            video = json.loads(path.read_text())["results"][0]["video"]["ours"]
            runs[f"{folder}/{build}"].append((int(seed), video))
    for name, seeds in sorted(runs.items()):
        seeds.sort(key=lambda run: run[0])
        videos = [v for _, v in seeds]
        per_min = [v["freezes_per_min"] for v in videos]
        fits = sum(1 for v in videos if all(
            step["fit_s"] is not None and step["fit_s"] <= 10
            for step in v["steps"] if step["to_kbps"] > step["from_kbps"]))
        fps = min(v["fps"]["windows_ge_20_pct"] for v in videos)
        print(f"{name:14} seeds {seeds[0][0]}-{seeds[-1][0]}: {per_min} "
              f"median {statistics.median(per_min):.2f}, {sum(v['freezes'] for v in videos)} "
              f"freezes; 1200 kbps phase "
              f"{statistics.median(v['kbps']['steady_ratio'][1] for v in videos):.2f}; "
              f"g2g p95 {statistics.median(v['g2g_ms']['p95'] for v in videos):.0f} ms; "
              f"steps up within 10 s {fits} of {len(videos)}; 1 s windows at 20 fps >= {fps}%")


if __name__ == "__main__":
    main(sys.argv[1:])
