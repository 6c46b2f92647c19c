"""Per build (RESULTS.md §30): each seed's freezes a minute and seconds to fit the first step
up (None: not within its phase), the median freezes, how many steps up fit within 10 s, and
the median glass-to-glass p95, from video-suite JSON files named BUILD-PROFILE-ours-SEED.json:

    cd benchmarks/results/knee-refute-1205 && python step_up.py runs congested-evening
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

Row = tuple[float, int | None, float]


def main(folder: str, profile: str) -> None:
    builds: dict[str, dict[int, Row]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        match = re.fullmatch(r"(\w+)-(.+)-ours-(\d+)\.json", path.name)
        if match is None or match.group(2) != profile:
            continue
        video = json.loads(path.read_text())["results"][0]["video"]["ours"]
        ups = [s["fit_s"] for s in video["steps"] if s["to_kbps"] > s["from_kbps"]]
        builds.setdefault(match.group(1), {})[int(match.group(3))] = (
            video["freezes_per_min"], ups[0] if ups else None, video["g2g_ms"]["p95"])
    for build, seeds in builds.items():
        rows = seeds.values()
        within = sum(1 for _, up, _ in rows if up is not None and up <= 10)
        print(f"{build:6} " + " ".join(f"{s}:{seeds[s][0]}/{seeds[s][1]}" for s in sorted(seeds))
              + f" | median freezes/min {statistics.median(r[0] for r in rows)}"
              + f" | step up within 10 s: {within} of {len(seeds)}"
              + f" | g2g p95 median {statistics.median(r[2] for r in rows)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
