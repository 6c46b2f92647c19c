"""One line per run of a folder of RESULTS §41 (``python summary.py DIR``): freezes and where
they fell, glass-to-glass, the step fits, what the first twelve pings said of the path, and the
share of the run the copies covered. Each build's first line adds its freezes, those at the step
to 600 kbps and the runs whose step up to 2500 kbps fitted within 10 s (RESULTS §43).

A run's files are ``BUILD-PROFILE-SEED.json`` (the bench's JSON) and its trace,
``BUILD-PROFILE-SEED.trace`` (``tar xJf traces.tar.xz`` in this folder puts them next to the
JSON, else "-" is printed). ``q25``: the fourth lowest of the first twelve pings (ms), what
``patches/vP.patch`` compares with ``long_quartile_ms``; ``covered``: the share of the
controller's runs on a covered path, and the seconds into the trace where that changed.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

STEP_TO_600 = (38.0, 43.0)
"""Video seconds counted as congested-evening's step from 1200 to 600 kbps."""
PING = re.compile(r"pnew=([0-9.]+)")


def trace_facts(path: Path) -> str:
    """The pings' lower quartile and the covered share (see the module docstring)."""
    if not path.exists():
        return "q25 -, covered -"
    runs = [line.split() for line in path.read_text().splitlines() if " est=" in line]
    start = float(runs[0][0])
    pings = [float(m.group(1)) for f in runs if (m := PING.search(" ".join(f)))][:12]
    covered = ["cov=True" in f for f in runs]
    flips = [f"{float(f[0]) - start:.0f}" for f, before, now in
             zip(runs[1:], covered, covered[1:], strict=False) if before != now]
    q25 = f"{sorted(pings)[3]:.0f}" if len(pings) == 12 else "-"
    return f"q25 {q25}, covered {sum(covered) / len(covered):.2f} (flips at {flips})"


def step_freezes(video: dict[str, Any]) -> int:
    """A run's freezes at the step to 600 kbps (``STEP_TO_600``; times rounded to 0.1 s)."""
    return sum(STEP_TO_600[0] <= round(at, 1) < STEP_TO_600[1] for at, _ in video["freezes_at_s"])


def main(folder: Path) -> None:
    rows: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    per_min: dict[tuple[str, str], list[float]] = defaultdict(list)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    """Per profile and build: freezes, those at the step to 600, step ups fitted within 10 s."""
    for path in sorted(folder.glob("*.json")):
        build, rest = path.stem.split("-", 1)
        profile, seed = rest.rsplit("-", 1)
        video = json.loads(path.read_text())["results"][0]["video"]["ours"]
        at = [round(a, 1) for a, _ in video["freezes_at_s"]]
        step = step_freezes(video)
        fits = [s["fit_s"] for s in video["steps"]]
        per_min[(profile, build)].append(video["freezes_per_min"])
        up = fits[2] if len(fits) > 2 else None
        count = counts[(profile, build)]
        count[0] += video["freezes"]
        count[1] += step
        count[2] += up is not None and up <= 10
        rows[(profile, build)].append((int(seed), (
            f"  seed {int(seed):2d}: {video['freezes_per_min']:.2f}/min ({video['freezes']}, "
            f"{step} at the step to 600) g2g p95 {video['g2g_ms']['p95']:.0f} ms, "
            f"20 fps {video['fps']['windows_ge_20_pct']}%, "
            f"steady {video['kbps']['steady_ratio']}, fits {fits}, "
            f"{trace_facts(path.with_suffix('.trace'))}; freezes at {at}")))
    for key in sorted(rows):
        freezes, step, up = counts[key]
        print(f"== {key[0]} {key[1]}: median {statistics.median(per_min[key]):.2f} freezes a "
              f"minute over {len(per_min[key])} runs; {freezes} freezes, {step} at the step to "
              f"600; the step up fitted within 10 s on {up}")
        print("\n".join(row for _, row in sorted(rows[key])))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
