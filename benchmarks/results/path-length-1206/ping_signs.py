"""How far the pings' 1 s window rose over the path's floor in a stretch of each trace, RESULTS
§41.6 (``python ping_signs.py FROM TO TRACE...``, seconds into the trace; 62 79 is
congested-evening's 2500 kbps phase): samples, those over 40 ms (``PingWatch.sign`` at
``ping_queue_ms`` 60), and the excess's median, 90th percentile and largest.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PING = re.compile(r"pnew=([0-9.]+)")
WINDOW_S = 1.0
SIGN_MS = 40.0


def excesses(path: Path, start: float, end: float) -> list[float]:
    """The window's lowest ping less the lowest so far, at each controller run in the stretch."""
    floor, window, out = float("inf"), [], []
    lines = [line for line in path.read_text().splitlines() if " QUEUE " not in line]
    t0 = float(lines[0].split()[0])
    for line in lines:
        now = float(line.split()[0]) - t0
        if m := PING.search(line):
            floor = min(floor, float(m.group(1)))
            window.append((now, float(m.group(1))))
        window = [(at, rtt) for at, rtt in window if at > now - WINDOW_S]
        if start <= now < end and window:
            out.append(min(rtt for _, rtt in window) - floor)
    return out


def main(start: float, end: float, paths: list[Path]) -> None:
    for path in paths:
        found = sorted(excesses(path, start, end))
        if not found:
            continue
        print(f"{path.name}: {len(found)} samples, {sum(e > SIGN_MS for e in found)} over "
              f"{SIGN_MS:.0f} ms; median {found[len(found) // 2]:.0f}, "
              f"p90 {found[int(len(found) * 0.9)]:.0f}, max {found[-1]:.0f} ms")


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
