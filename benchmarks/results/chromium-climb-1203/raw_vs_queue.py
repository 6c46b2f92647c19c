"""Each raw round trip of a trace (trace.py) beside the bottleneck's queue in that second (RESULTS
§16.6):

    python raw_vs_queue.py trace/1d6e933-congested-evening-ours-2.log \
        trace/1d6e933-congested-evening-ours-2.json

A sample's second is counted from the first ABR line of the log, which is within about a second
of the session's start.
"""

from __future__ import annotations

import json
import sys


def main(log_path: str, json_path: str) -> None:
    with open(json_path) as fh:
        video = json.load(fh)["results"][0]["video"]
    entry = video.get("ours") or video["chromium"]
    queue = entry["queue_ms_max_per_s"]
    with open(log_path) as fh:
        lines = [line.split() for line in fh]
    start = next(int(p[0]) for p in lines if len(p) > 1 and p[1] == "abr")
    rows = []  # (excess over the smallest raw round trip, queue that second, sign)
    for p in lines:
        second = (int(p[0]) - start) // 1000
        if len(p) > 6 and p[1] == "raw" and 0 <= second < len(queue):
            rows.append((float(p[2]) - float(p[4]), queue[second], p[6] == "True"))
    signs = [(round(x), round(q)) for x, q, sign in rows if sign]
    print(f"samples {len(rows)}, queue signs {len(signs)} (excess ms, queue ms): {signs}")
    for label, test in (("queue > 60 ms", lambda q: q > 60), ("queue < 20 ms", lambda q: q < 20)):
        chosen = [sign for _, q, sign in rows if test(q)]
        print(f"samples in a second with {label}: {len(chosen)}, signs {sum(chosen)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
