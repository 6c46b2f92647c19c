"""Congested-evening's step from 1200 to 600 kbps, run by run: the bottleneck's longest queue
and the packets it dropped in the second before the step and the four after it, the freezes
that began in those four seconds, and what the viewer's receiver did.

    python benchmarks/results/queue-report-1206/step_down.py DIR [DIR ...]

Each DIR holds ``BUILD-congested-evening-SEED.json`` files written by
``rtc-interact bench --suite video --profile congested-evening --json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(dirs: list[str]) -> None:
    for folder in dirs:
        for path in sorted(Path(folder).glob("*-congested-evening-*.json")):
            video = json.loads(path.read_text())["results"][0]["video"]["ours"]
            step = next(s["at_s"] for s in video["steps"] if s["to_kbps"] == 600)
            span = slice(step - 1, step + 4)
            freezes = [f for f in video["freezes_at_s"] if step <= f[0] < step + 4]
            receiver = video["viewer_receiver"] or {}
            print(f"{path.stem.replace('-congested-evening', '')}: "
                  f"queue ms {video['queue_ms_max_per_s'][span]}, "
                  f"dropped {video['dropped_queue_per_s'][span]}, freezes (at s, long s) "
                  f"{freezes}, frames abandoned {receiver.get('frames_abandoned')}, "
                  f"keyframes asked {receiver.get('keyframes_requested')}")


if __name__ == "__main__":
    main(sys.argv[1:])
