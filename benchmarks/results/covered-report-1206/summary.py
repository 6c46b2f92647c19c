"""One line per run of a folder of RESULTS §40: freezes, where they fell, the path's mode and the
step up (``python summary.py DIR``).

A run's files are ``BUILD-PROFILE-SEED.json`` (the bench's JSON) and its trace,
``BUILD-PROFILE-SEED.trace`` (``patches/trace.patch``; ``tar xJf traces.tar.xz`` in this folder
puts them next to the JSON, else "-" is printed): ``covered`` is the share of the
controller's runs 25-37 s into the trace (congested-evening's 1200 kbps phase) on a path the
copies cover, ``probe ends`` the reports that ended a probe from 58.7 s (the 2500 kbps phase).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

STEP_TO_600 = (38.0, 43.0)
"""Video seconds counted as the step from 1200 to 600 kbps (the link's clock runs ~1 s ahead)."""


def trace_facts(path: Path) -> tuple[str, str]:
    """(covered share in the 1200 kbps phase, probe ends by a report after the step up)."""
    if not path.exists():
        return "-", "-"
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    start = float(lines[0][0])
    runs = [f for f in lines if 25 <= float(f[0]) - start < 37 and f[1] != "QUEUE"]
    covered = sum("cov=True" in f for f in runs) / max(1, len(runs))
    ends = [f"{float(f[0]) - start:.1f}:{f[2]}" for f in lines
            if f[1] == "QUEUE" and f[4] != "None" and float(f[0]) - start >= 58.7]
    return f"{covered:.1f}", ",".join(ends) or "none"


def main(folder: Path) -> None:
    rows: dict[tuple[str, str], list[str]] = defaultdict(list)
    per_min: dict[tuple[str, str], list[float]] = defaultdict(list)
    for path in sorted(folder.glob("*.json")):
        build, rest = path.stem.split("-", 1)
        profile, seed = rest.rsplit("-", 1)
        video = json.loads(path.read_text())["results"][0]["video"]["ours"]
        at = [round(a, 1) for a, _ in video["freezes_at_s"]]
        step = sum(1 for a in at if STEP_TO_600[0] <= a < STEP_TO_600[1])
        fits = [s["fit_s"] for s in video["steps"]]
        covered, ends = trace_facts(path.with_suffix(".trace"))
        key = (profile, build)
        per_min[key].append(video["freezes_per_min"])
        rows[key].append(
            f"  seed {int(seed):2d}: {video['freezes_per_min']:.2f}/min ({video['freezes']}, "
            f"{step} at the step to 600) g2g p95 {video['g2g_ms']['p95']:.0f} ms, "
            f"20 fps {video['fps']['windows_ge_20_pct']}%, steady {video['kbps']['steady_ratio']}, "
            f"fits {fits}, covered {covered}, probe ends {ends}; freezes at {at}")
    for key in sorted(rows):
        print(f"== {key[0]} {key[1]}: median {statistics.median(per_min[key]):.2f} freezes a "
              f"minute over {len(per_min[key])} runs")
        print("\n".join(sorted(rows[key], key=lambda r: int(r.split()[1].rstrip(":")))))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
