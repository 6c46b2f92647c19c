"""Builds side by side, seed by seed, on congested-evening (RESULTS §50): each run's freezes,
by phase (``../playout-stretch-1207/ended.py``: the step 40-42 s of the link's time, the 600 kbps
phase 42-60 s, the rest), the first switch down on the viewer's queue reports after the step
(seconds after it; ``-`` for none within 3 s), and the 1200 kbps phase's delivered share of its
capacity; then a total per build, with its switches down on the reports in that phase.

    python compare.py runs1 runs2
    python compare.py --keys runs1/L-*.trace    # each keyframe freeze, with the switches near it
    python compare.py --step runs1/A-*.trace    # the step: the rate sent before it, the queue after
    python compare.py --held runs1/L-*.trace    # how long frames were held for playout, by phase
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "playout-stretch-1207"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "step-copies-1207"))
from anatomy import QUEUE_LIMIT_MS
from anatomy import STEP_AT_S as STEP_S
from ended import clocks, ended, phase
from replay import HELD_S, releases


def switches(trace: str, link_t0: float) -> list[tuple[float, str]]:
    """The host's rung switches (link time, ``up``, ``down``, or ``qdown``: down on the viewer's
    queue reports)."""
    found = []
    for line in Path(trace).read_text().splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[1] in ("up", "down"):
            found.append((float(fields[0]) - link_t0, fields[1]))
        elif len(fields) > 2 and fields[1] == "QUEUE" and "reason=down" in line:
            found.append((float(fields[0]) - link_t0, "qdown"))
    return found


def run(path: Path) -> tuple[Counter[str], float | None, float]:
    """(freezes by phase, and ``qdowns``: the switches down on the viewer's queue reports in
    the 1200 kbps phase, 23-39.5 s; the first such switch after the step, within 3 s, in
    seconds from it; the 1200 kbps phase's share)."""
    trace = str(path.with_suffix(".trace"))
    started, link_t0 = clocks(trace)
    video = json.loads(path.read_text())["results"][0]["video"]["ours"]
    phases = Counter(phase(started + at - link_t0) for at, _ in video["freezes_at_s"])
    downs = [when for when, kind in switches(trace, link_t0) if kind == "qdown"]
    phases["qdowns"] = sum(23 <= when < 39.5 for when in downs)
    first = next((when - STEP_S for when in downs if 0 <= when - STEP_S < 3), None)
    return phases, first, video["kbps"]["steady_ratio"][1]


def frozen(phases: Counter[str]) -> int:
    """A run's freezes, from its counts by phase."""
    return phases["step"] + phases["600"] + phases["other"]


def keys(traces: list[str]) -> None:
    """Each freeze a keyframe ended (``ended.py``), with the rung switches from 1.5 s before it
    to 0.5 s after (``qdown``: on the viewer's queue reports), in seconds from the freeze."""
    near = 0
    for trace in traces:
        moves = switches(trace, clocks(trace)[1])
        for freeze in ended(trace, Counter()):
            if not freeze.endswith("KEY"):
                continue
            at = float(freeze.split("/")[0])
            seen = [f"{kind}@{when - at:+.2f}" for when, kind in moves if -1.5 < when - at < 0.5]
            near += bool(seen)
            print(f"{Path(trace).stem:28} {freeze:16} {' '.join(seen)}")
    print(f"{near} with a switch near")


def step(traces: list[str]) -> None:
    """For each run: the rate sent (``sent=``), the estimate and the copies at the host's last
    sample before the step; the bottleneck's longest backlog and its drops (the queue's, the
    loss model's) in the 2 s after it; the freezes at the step (40-42 s)."""
    for trace in traces:
        _, link_t0 = clocks(trace)
        last = ""
        for line in Path(trace).read_text().splitlines():
            fields = line.split()
            if len(fields) > 3 and fields[1] != "QUEUE" and float(fields[0]) - link_t0 < STEP_S:
                last = line
        sample = dict(field.split("=", 1) for field in last.split() if "=" in field)
        backlog, drops = 0.0, Counter[str]()
        for when, _, queue_ms, out in (row.split() for row in
                                       Path(trace + ".link").read_text().splitlines()):
            if 0 <= float(when) - link_t0 - STEP_S < 2:
                backlog = max(backlog, float(queue_ms))
                if out == "D":
                    drops["queue" if float(queue_ms) > QUEUE_LIMIT_MS else "loss"] += 1
        phases, _, _ = run(Path(trace).with_suffix(".json"))
        print(f"{Path(trace).stem:28} sent {sample.get('sent', '-'):>5} kbps, estimate "
              f"{sample.get('est', '-'):>5}, copies {sample.get('copy', '-'):>4}; backlog <= "
              f"{backlog:3.0f} ms, drops {drops['queue']:2} queue {drops['loss']:2} loss; "
              f"{phases['step']} freezes at the step")


def held(traces: list[str]) -> None:
    """For each run, the median time a frame held for its playout time went after its expected
    arrival (its RTP time plus the fastest transit of the last 64 frames), by the link's phases
    (seconds)."""
    phases = ((5, 20), (20, 40), (42, 60), (60, 80), (80, 90))
    for trace in traces:
        _, link_t0 = clocks(trace)
        went, came, rtp = releases(trace)
        transit = came - rtp
        floor = np.array([transit[max(0, i - 63):i + 1].min() for i in range(len(went))])
        delay = (went - rtp - floor) * 1000
        kept = went - came > HELD_S  # held, not released as it came
        cells = []
        for start, end in phases:
            mask = kept & (went - link_t0 >= start) & (went - link_t0 < end)
            cells.append(f"{start}-{end} s: {np.median(delay[mask]):.0f}" if mask.any() else "-")
        print(f"{Path(trace).stem:28} " + ", ".join(cells) + " ms")


def main(folders: list[str]) -> None:
    runs: dict[int, dict[str, tuple[Counter[str], float | None, float]]] = defaultdict(dict)
    for folder in folders:
        for path in Path(folder).glob("*-congested-evening-*.json"):
            build, seed = path.stem.split("-congested-evening-")
            runs[int(seed)][build] = run(path)
    builds = sorted({build for seeds in runs.values() for build in seeds})
    print("seed  " + "  |  ".join(f"{b}: freezes (step/600/rest) switch share" for b in builds))
    for seed in sorted(runs):
        cells = []
        for b in builds:
            if b not in runs[seed]:
                cells.append(f"{b}: -")
                continue
            phases, switch, share = runs[seed][b]
            when = "-" if switch is None else f"{switch:.2f}"
            cells.append(f"{b}: {frozen(phases)} ({phases['step']}/{phases['600']}/"
                         f"{phases['other']}) {when} {share:.2f}")
        print(f"{seed:4}  " + "  |  ".join(cells))
    for b in builds:
        done = [seeds[b] for seeds in runs.values() if b in seeds]
        total = sum((phases for phases, _, _ in done), Counter())
        qdowns = total.pop("qdowns", 0)
        firsts = [first for _, first, _ in done if first is not None]
        print(f"{b}: {len(done)} runs, {total.total()} freezes (step {total['step']} / 600 "
              f"{total['600']} / rest {total['other']}), {sum(frozen(p) <= 1 for p, _, _ in done)}"
              f" runs with at most one; first switch after the step, median "
              f"{statistics.median(firsts):.2f} s ({len(firsts)} runs); {qdowns} switches down on "
              f"the reports in the 1200 kbps phase; its share, median "
              f"{statistics.median(s for _, _, s in done):.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "--keys":
        keys(sys.argv[2:])
    elif sys.argv[1] == "--step":
        step(sys.argv[2:])
    elif sys.argv[1] == "--held":
        held(sys.argv[2:])
    else:
        main(sys.argv[1:])
