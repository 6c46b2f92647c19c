"""Freezes of short video runs (RESULTS.md §33), per profile and build, over the seeds every
build ran, with where each freeze came (s from the start).

    cd benchmarks/results/startup-1205 && python start_table.py runs-12 base vW
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
from pathlib import Path
from typing import Any


def main(folder: Path, builds: list[str]) -> None:
    rows: dict[str, dict[str, list[tuple[Any, ...]]]] = collections.defaultdict(dict)
    for build in builds:
        for path in sorted(folder.glob(f"{build}-*.json")):
            result = json.loads(path.read_text())["results"][0]
            video = result["video"]["ours"]
            seed = int(path.stem.rsplit("-", 1)[1])
            rows[result["profile"]].setdefault(build, []).append(
                (seed, [at for at, _ in video["freezes_at_s"]], video["freeze_s"],
                 (video["g2g_ms"] or {}).get("p50")))
    print("| profile | build | runs | freezes | in the first 0.5 s | frozen s | g2g p50 (median) |")
    print("|---|---|---|---|---|---|---|")
    for profile in sorted(rows):
        seeds = set.intersection(*[{r[0] for r in rows[profile].get(b, [])} for b in builds])
        for build in builds:
            runs = [r for r in rows[profile][build] if r[0] in seeds]
            ats = sorted(at for r in runs for at in r[1])
            print(f"| {profile} | {build} | {len(runs)} | {len(ats)} "
                  f"({', '.join(f'{a:.2f}' for a in ats)}) | {sum(a < 0.5 for a in ats)} | "
                  f"{sum(r[2] for r in runs):.2f} | "
                  f"{statistics.median(r[3] for r in runs if r[3] is not None):.0f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
