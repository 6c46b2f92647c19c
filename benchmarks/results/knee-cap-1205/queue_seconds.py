"""Per build and profile (RESULTS.md §28): freezes a minute, and the seconds whose largest
link queue (host to viewer) was over 100 and over 200 ms, from video-suite JSON files named
BUILD-PROFILE-ours-SEED.json (medians over the seeds, then each seed's figures):

    python benchmarks/results/knee-cap-1205/queue_seconds.py benchmarks/results/knee-cap-1205/runs
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path


def main(folder: str) -> None:
    rows: dict[tuple[str, str], list[tuple[int, float, int, int]]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        match = re.fullmatch(r"(\w+)-(.+)-ours-(\d+)\.json", path.name)
        if match is None:
            continue
        build, profile, seed = match.groups()
        video = json.loads(path.read_text())["results"][0]["video"]["ours"]
        queue = video.get("queue_ms_max_per_s")
        if not queue:
            print("failed:", path.name)
            continue
        rows.setdefault((build, profile), []).append(
            (int(seed), video["freezes_per_min"], sum(q > 100 for q in queue),
             sum(q > 200 for q in queue)))
    for (build, profile), runs in sorted(rows.items()):
        runs.sort()
        print(f"{build} {profile}: {len(runs)} runs; medians: freezes/min "
              f"{statistics.median(r[1] for r in runs)}, s with queue > 100 ms "
              f"{statistics.median(r[2] for r in runs)}, > 200 ms "
              f"{statistics.median(r[3] for r in runs)}")
        print("    (seed, freezes/min, s > 100 ms, s > 200 ms):", runs)


if __name__ == "__main__":
    main(sys.argv[1])
