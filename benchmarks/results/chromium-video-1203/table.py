"""The Markdown table of RESULTS.md §15 from video-suite JSON files (one session each).

    cd benchmarks/results/chromium-video-1203 && python table.py after/*.json

With ``--climb`` first, the table gives instead how the viewer climbed (RESULTS §16): the
second it was first on the top rung, the seconds it spent there, and the delivered share of
capacity in each steady phase.
"""

from __future__ import annotations

import json
import sys
from typing import Any

FLOOR = {"mobile-3g-weak": 15, "abr-300-loss3": 15}
TOP_WIDTH = 640
"""The top rung's width in the video suite (the 640x360 test pattern)."""
"""The fps floor of a 1 s window (issue 5), 20 elsewhere."""


def row(path: str) -> dict[str, Any]:
    with open(path) as fh:
        doc = json.load(fh)
    result = doc["results"][0]
    video = result["video"]
    impl = "chromium" if video.get("chromium") else "ours"
    entry = video[impl]
    floor = FLOOR.get(result["profile"], 20)
    return {
        "profile": result["profile"], "seed": doc["plan"]["seed"], "impl": impl,
        "freezes": entry["freezes_per_min"], "frozen": entry["freeze_s"],
        "chrome": (entry.get("viewer_receiver") or {}).get("freezeCount"),
        "windows": entry["fps"][f"windows_ge_{floor}_pct"],
        "g2g": (entry["g2g_ms"] or {}).get("p95"), "kbps": entry["kbps"]["mean"],
        "keyframes": entry["keyframes"], "stuck": (entry.get("host_link") or {}).get("stuck"),
        "survived": entry["survived"], "widths": [w or 0 for w in entry["width_per_s"]],
        "steady": entry["kbps"].get("steady_ratio") or [],
    }


def dash(value: object) -> object:
    return "-" if value is None else value


def main(paths: list[str]) -> None:
    print("| profile | seed | viewer | freezes/min | Chromium's freezeCount | frozen s "
          "| windows >= floor % | g2g p95 ms | kbps | keyframes | stuck | survived |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted((row(p) for p in paths), key=lambda r: (r["profile"], r["seed"], r["impl"])):
        print(f"| {r['profile']} | {r['seed']} | {r['impl']} | {r['freezes']:.2f} "
              f"| {dash(r['chrome'])} | {r['frozen']:.2f} | {r['windows']:.1f} "
              f"| {r['g2g']:.0f} | {r['kbps']:.0f} | {r['keyframes']} | {dash(r['stuck'])} "
              f"| {'yes' if r['survived'] else 'NO'} |")


def climb(paths: list[str]) -> None:
    print("| profile | seed | viewer | first on the top rung, s | s on the top rung "
          "| delivered / capacity, steady phases | kbps | freezes/min |")
    print("|---|---|---|---|---|---|---|---|")
    for r in sorted((row(p) for p in paths), key=lambda r: (r["profile"], r["seed"], r["impl"])):
        widths = r["widths"]
        first = next((i for i, w in enumerate(widths) if w == TOP_WIDTH), None)
        on_top = sum(1 for w in widths if w == TOP_WIDTH)
        steady = ", ".join(f"{x:.2f}" for x in r["steady"])
        print(f"| {r['profile']} | {r['seed']} | {r['impl']} | {dash(first)} | {on_top} "
              f"| {steady} | {r['kbps']:.0f} | {r['freezes']:.2f} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--climb"]:
        climb(sys.argv[2:])
    else:
        main(sys.argv[1:])
