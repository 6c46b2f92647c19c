"""RESULTS §42's two looks at a folder of runs (``python analyse.py counters|probes DIR``).

counters: one line per run, the freezes beside the Python viewer's receive counters (frames
skipped, abandoned, keyframes asked for). probes: per build and profile, how many freezes fell
within a probe or the 3 s after it (``ABR_TRACE`` traces: a probe is a run of ``probe`` and
``wait-up`` decisions), against the share of the run's time those spans cover."""

from __future__ import annotations

import sys
from collections import defaultdict
from json import load
from pathlib import Path
from typing import Any

AFTER_S = 3.0
"""A freeze this long after a probe's end still counts as the probe's."""


def find(tree: Any, key: str) -> Any:
    """The first value under ``key`` anywhere in a bench JSON."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = find(item, key)
            if found is not None:
                return found
    return None


def counters(folder: Path) -> None:
    for path in sorted(folder.glob("*.json")):
        run = load(path.open())
        receiver = find(run, "viewer_receiver") or {}
        print(f"{path.stem:34} freezes {find(run, 'freezes'):2} skipped "
              f"{receiver.get('frames_skipped')!s:>3} abandoned {receiver.get('frames_abandoned')} "
              f"keyframes asked {receiver.get('keyframes_requested')}")


def probe_spans(trace: Path) -> list[tuple[float, float]]:
    """(start, end) of each probe after the first 3 s, in seconds from the trace's start."""
    rows = [line.split() for line in trace.open() if " QUEUE " not in line]
    spans, start, before = [], 0.0, ""
    for row in rows:
        at, probing = float(row[0]) - float(rows[0][0]), row[1] in ("probe", "wait-up")
        if probing and before not in ("probe", "wait-up"):
            start = at
        if not probing and before in ("probe", "wait-up") and start > 3:
            spans.append((start, at))
        before = row[1]
    return spans


def probes(folder: Path) -> None:
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for path in sorted(folder.glob("*.trace")):
        json_path = path.with_suffix(".json")
        if not json_path.exists():
            continue
        build, rest = path.stem.split("-", 1)
        profile = f"{build} {rest.rsplit('-', 1)[0]}"
        spans = probe_spans(path)
        freezes = [at for at, _ in find(load(json_path.open()), "freezes_at_s") if at > 3]
        near = sum(any(s + 0.5 <= at <= e + AFTER_S for s, e in spans) for at in freezes)
        tenths = {i for s, e in spans for i in range(int((s + 0.5) * 10), int((e + AFTER_S) * 10))}
        row = totals[profile]
        row[0] += len(freezes)
        row[1] += near
        row[2] += len([i for i in tenths if 30 <= i < 900]) / 870
        row[3] += 1
    for profile, (freezes, near, share, runs) in sorted(totals.items()):
        print(f"{profile}: {runs} runs, {freezes} freezes, {near} within a probe or "
              f"{AFTER_S:.0f} s after; those spans cover {share / runs:.0%} of the time")


if __name__ == "__main__":
    {"counters": counters, "probes": probes}[sys.argv[1]](Path(sys.argv[2]))
