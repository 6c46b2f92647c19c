"""The smallest round trips a traced run saw (RESULTS §46; a trace is §40's
``patches/trace.patch`` output): per trace, the smallest of the receiver reports' round trips
(``rtt=``) and of the ICE pings' (``pnew=``), and the second of the run at which each first fell
under 190, 186, 184, 182, 180 and 178 ms.

    python floor.py TRACE...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LEVELS = (190, 186, 184, 182, 180, 178)


def floors(path: Path, field: str) -> tuple[float, dict[int, int]]:
    """The smallest ``field`` in the controller's lines, and when it first fell under each
    level (seconds from the trace's first line)."""
    lines = path.read_text().splitlines()
    start, smallest, under = float(lines[0].split()[0]), float("inf"), {}
    for line in lines:
        found = re.search(rf" {field}=([0-9.]+)", line)
        if found is None or " est=" not in line:
            continue
        smallest = min(smallest, float(found.group(1)))
        for level in LEVELS:
            if smallest < level and level not in under:
                under[level] = round(float(line.split()[0]) - start)
    return smallest, under


def main(names: list[str]) -> None:
    for name in names:
        shown = []
        for field in ("rtt", "pnew"):
            smallest, under = floors(Path(name), field)
            shown.append(f"{field} {smallest:6.1f} under {under}")
        print(f"{Path(name).name:34} " + "  ".join(shown))


if __name__ == "__main__":
    main(sys.argv[1:])
