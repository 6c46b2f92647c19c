"""Video-suite runs side by side (RESULTS.md §36): one line per run, then medians per build
and profile.

    python benchmarks/results/thin-1206/summary.py DIR...

Each DIR holds ``BUILD-PROFILE-SEED.json`` (``rtc-interact bench --suite video --json``) and,
where measured, ``BUILD-PROFILE-SEED.time`` (``/usr/bin/time -f "%U %S %e"``: the process's
user and system CPU seconds and its wall seconds).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

FLOOR = {"mobile-3g-weak": 15, "abr-300-loss3": 15}
"""The fps floor of a 1 s window (issue 5), 20 elsewhere."""


def row(path: Path) -> dict[str, Any]:
    result = json.loads(path.read_text())["results"][0]
    profile, entry = result["profile"], result["video"]["ours"]
    floor = FLOOR.get(profile, 20)
    timing = path.with_suffix(".time")
    cores = None
    if timing.exists():
        user, system, wall = (float(v) for v in timing.read_text().split()[:3])
        cores = round((user + system) / wall, 2)
    link = entry.get("host_link") or {}
    return {"build": path.stem.split("-")[0], "profile": profile,
            "freezes/min": entry["freezes_per_min"],
            "windows >= floor %": entry["fps"][f"windows_ge_{floor}_pct"],
            "g2g p95": (entry["g2g_ms"] or {}).get("p95"), "kbps": entry["kbps"]["mean"],
            "steady": entry["kbps"]["steady_ratio"], "step up s": entry.get("fit_up_max_s"),
            "thinned": link.get("thinned_frames"), "cores": cores,
            "ok": entry["survived"] and not entry["corrupt_frames"]}


def main(dirs: list[str]) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(p for d in dirs for p in Path(d).glob("*.json")):
        r = row(path)
        groups[(r["profile"], r["build"])].append(r)
        print(path.stem, {k: v for k, v in r.items() if k not in ("build", "profile")})
    print("\nmedians: profile, build, runs, freezes/min, windows >= floor %, g2g p95")
    for (profile, build), rows in sorted(groups.items()):
        med = [statistics.median(r[k] for r in rows if r[k] is not None)
               for k in ("freezes/min", "windows >= floor %", "g2g p95")]
        print(f"{profile:18} {build:5} {len(rows)}  " + "  ".join(f"{m:g}" for m in med))


if __name__ == "__main__":
    main(sys.argv[1:])
