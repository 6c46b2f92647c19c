"""Video-suite runs of several builds, side by side (RESULTS.md §20), one row per profile and seed.

    python benchmarks/results/abr-trace-1204/compare.py DIR base raw cap

DIR holds ``BUILD-PROFILE-IMPL-SEED.json`` (``rtc-interact bench --suite video --json``) for
each BUILD named. Each cell lists the builds' values in the order named; the last row per
profile and viewer holds the medians over the seeds every build ran.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from rtc_interact.config import VideoConfig

FLOOR = {"mobile-3g-weak": 15, "abr-300-loss3": 15}
"""The fps floor of a 1 s window (issue 5), 20 elsewhere."""
COLUMNS = ("freezes/min", "frozen s", "windows >= floor %", "g2g p95 ms", "kbps",
           "queue drops", "copy kbit", "step up s", "top rung s")
STEP_UP_TARGET_S = 10
"""Issue 5: after a step up, on the best rung that fits within this long."""


def measures(path: Path) -> dict[str, Any]:
    result = json.loads(path.read_text())["results"][0]
    entry = result["video"].get("chromium") or result["video"]["ours"]
    floor = FLOOR.get(result["profile"], 20)
    link = entry.get("host_link") or {}
    return {"freezes/min": entry["freezes_per_min"], "frozen s": entry["freeze_s"],
            "windows >= floor %": entry["fps"][f"windows_ge_{floor}_pct"],
            "g2g p95 ms": (entry["g2g_ms"] or {}).get("p95"), "kbps": entry["kbps"]["mean"],
            "queue drops": sum(entry.get("dropped_queue_per_s") or []),
            "copy kbit": link.get("copy_kbit"),
            "step up s": entry.get("fit_up_max_s"),  # -1: not within the phase
            "top rung s": _first_on_top(entry.get("width_per_s") or []),
            "ok": entry["survived"] and not entry["corrupt_frames"]}


def _first_on_top(widths: list[int | None]) -> int | None:
    """The first second on the top rung (the source's width, ``VideoConfig``), -1: never."""
    top = VideoConfig().width
    return next((i for i, w in enumerate(widths) if w == top), -1) if widths else None


def _median(column: str, values: list[float]) -> str:
    """The median, or for the step up how many seeds fitted it in time (a miss is -1)."""
    if not values:
        return "-"
    if column == "step up s":
        return f"{sum(0 <= v <= STEP_UP_TARGET_S for v in values)} of {len(values)} <= 10"
    return one(statistics.median(values))


def one(x: float | None) -> str:
    if x is None:
        return "-"
    return "none" if x < 0 else f"{x:.2f}".rstrip("0").rstrip(".")


def main(folder: Path, builds: list[str]) -> None:
    runs: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    first = builds[0]
    for path in sorted(folder.glob(f"{first}-*.json")):
        profile, impl, seed = path.stem[len(first) + 1:].rsplit("-", 2)
        paths = [path.with_name(f"{b}-{profile}-{impl}-{seed}.json") for b in builds]
        if all(p.exists() for p in paths):
            runs.setdefault((profile, impl), {})[seed] = [measures(p) for p in paths]
    print(f"Each cell: {' / '.join(builds)}.\n")
    print("| profile | viewer | seed | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    for (profile, impl), seeds in sorted(runs.items()):
        for seed, row in sorted(seeds.items()):
            flag = "" if all(m["ok"] for m in row) else " (lost or corrupt!)"
            print(f"| {profile} | {impl} | {seed}{flag} | "
                  + " | ".join(" / ".join(one(m[c]) for m in row) for c in COLUMNS) + " |")
        if len(seeds) > 1:
            cells = []
            for c in COLUMNS:
                per_build = [[row[i][c] for row in seeds.values() if row[i][c] is not None]
                             for i in range(len(builds))]
                cells.append(" / ".join(_median(c, v) for v in per_build))
            print(f"| {profile} | {impl} | **median** | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
