"""The viewer's queue reports against the path's own queue (RESULTS §44.4), from congested-evening
runs with their traces (§40's ``patches/trace.patch``) beside their JSON:

    python reports.py RUN.trace...

A run of reports is reports each within ``RUN_GAP_S`` of the one before. For every run that
reaches ``DEEP_MS`` (what ends a probe, ``AbrConfig.queue_probe_ms``), the path's queue is the
bottleneck's largest backlog (the bench's ``queue_ms_max_per_s``) from the second before the
run's first report to the second after its last, placed on the video's clock as ``climb.py``
places the step up. A run is *false* where that stayed under 40 ms, *real* from 60 ms. Counted
apart by whether a probe ran at the run's first report (the trace's ``since``), with how many of
them each rule would take for a probe's queue:

* ``any``: a report of ``DEEP_MS`` or more (the code's rule);
* ``two``: two such reports within 0.2 s (``abr.DEEP_REPORTS_WITHIN_S``; §43.4's vQ);
* ``grown``: such a report after a shallower one of the same run;
* ``grown or two``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "probe-signs-1206"))
from climb import samples, step_up

RUN_GAP_S, DEEP_MS, TWO_WITHIN_S = 0.25, 100, 0.2
RULES = ("any", "two", "grown", "grown or two")


def runs_of_reports(trace: list[tuple[float, str, dict[str, str]]],
                    ) -> list[list[tuple[float, int, bool]]]:
    """(trace time, queue ms, whether a probe ran) of each report, grouped in runs."""
    runs: list[list[tuple[float, int, bool]]] = []
    for at, reason, fields in trace:
        if reason != "QUEUE":
            continue
        report = (at, int(fields["queue"]), fields.get("since", "None") != "None")
        if runs and at - runs[-1][-1][0] <= RUN_GAP_S:
            runs[-1].append(report)
        else:
            runs.append([report])
    return runs


def rules(run: list[tuple[float, int, bool]]) -> dict[str, bool]:
    """Which rules the run's reports meet."""
    shallow, deep_at, two, grown = False, None, False, False
    for at, queue, _ in run:
        if queue < DEEP_MS:
            shallow = True
            continue
        two = two or (deep_at is not None and at - deep_at <= TWO_WITHIN_S)
        grown = grown or shallow
        deep_at = at
    return {"any": True, "two": two, "grown": grown, "grown or two": grown or two}


def main() -> None:
    counts: Counter[tuple[str, str, str]] = Counter()
    for trace in map(Path, sys.argv[1:]):
        result = trace.with_suffix(".json")
        if not result.exists():
            continue
        path = json.loads(result.read_text())["results"][0]["video"]["ours"]["queue_ms_max_per_s"]
        lines = samples(trace)
        offset = step_up(lines) - 60.0
        for run in runs_of_reports(lines):
            if max(queue for _, queue, _ in run) < DEEP_MS:
                continue
            first, last = int(run[0][0] - offset), int(run[-1][0] - offset)
            if first < 1 or last + 2 > len(path):
                continue
            queued = max(path[first - 1:last + 2])
            kind = "false" if queued < 40 else "real" if queued >= 60 else "between"
            when = "probing" if run[0][2] else "not probing"
            for rule, met in rules(run).items():
                counts[(when, kind, rule)] += met
    print(f"{'at the first report':20} {'path':8} " + " ".join(f"{r:>13}" for r in RULES))
    for when in ("probing", "not probing"):
        for kind in ("false", "between", "real"):
            print(f"{when:20} {kind:8} "
                  + " ".join(f"{counts[(when, kind, r)]:13}" for r in RULES))


if __name__ == "__main__":
    main()
