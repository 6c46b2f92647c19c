"""Pairs of video-suite runs, before and after a change (RESULTS.md §19), one row per pair.

    python benchmarks/results/droppable-marks-1204/compare.py DIR

DIR holds ``base-PROFILE-IMPL-SEED.json`` and ``new-PROFILE-IMPL-SEED.json`` (``rtc-interact
bench --suite video --json``). Each cell is "before / after"; the last rows per profile and
viewer are the medians.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

FLOOR = {"mobile-3g-weak": 15, "abr-300-loss3": 15}
"""The fps floor of a 1 s window (issue 5), 20 elsewhere."""
COLUMNS = ("freezes/min", "frozen s", "windows >= floor %", "g2g p95 ms", "kbps",
           "skipped frames", "Chromium freezeCount", "step up s")


def measures(path: Path) -> dict[str, float | None]:
    doc = json.loads(path.read_text())
    result = doc["results"][0]
    video = result["video"]
    entry = video.get("chromium") or video["ours"]
    floor = FLOOR.get(result["profile"], 20)
    receiver = entry.get("viewer_receiver") or {}
    return {"freezes/min": entry["freezes_per_min"], "frozen s": entry["freeze_s"],
            "windows >= floor %": entry["fps"][f"windows_ge_{floor}_pct"],
            "g2g p95 ms": (entry["g2g_ms"] or {}).get("p95"), "kbps": entry["kbps"]["mean"],
            "skipped frames": receiver.get("frames_skipped"),  # (Python viewer only)
            "Chromium freezeCount": receiver.get("freezeCount"),
            "step up s": entry.get("fit_up_max_s"),  # -1: not within the phase
            "survived": entry["survived"],
            "corrupt": entry["corrupt_frames"]}


def cell(a: float | None, b: float | None) -> str:
    def one(x: float | None) -> str:
        if x is None:
            return "-"
        return "none" if x < 0 else f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{one(a)} / {one(b)}"


def main(folder: Path) -> None:
    pairs: dict[tuple[str, str], list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for new in sorted(folder.glob("new-*.json")):
        base = new.with_name("base-" + new.name[4:])
        if not base.exists():
            continue
        profile, impl, seed = new.stem[4:].rsplit("-", 2)
        pairs.setdefault((profile, impl), []).append((seed, measures(base), measures(new)))
    print("| profile | viewer | seed | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    for (profile, impl), rows in sorted(pairs.items()):
        for seed, a, b in rows:
            flags = "" if a["survived"] and b["survived"] and not a["corrupt"] \
                and not b["corrupt"] else " (lost or corrupt!)"
            print(f"| {profile} | {impl} | {seed}{flags} | "
                  + " | ".join(cell(a[c], b[c]) for c in COLUMNS) + " |")
        if len(rows) > 1:
            medians = [cell(*(statistics.median(x[c] for x in side if x[c] is not None)
                              if any(x[c] is not None for x in side) else None
                              for side in ([r[1] for r in rows], [r[2] for r in rows])))
                       if c != "step up s" else "" for c in COLUMNS]
            print(f"| {profile} | {impl} | **median** | " + " | ".join(medians) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
