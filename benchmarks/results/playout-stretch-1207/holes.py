"""What the host did with the NACKs of the holes that cost the viewer a keyframe (RESULTS §49.4),
in runs traced with ``patches/holes-trace.patch`` as well as ``trace.patch``: ``NAME.trace.holes``
(each hole the viewer asked a keyframe for while waiting, ``early``, gave up, ``abandon``, or
skipped to a keyframe, ``skip-to-key``) and ``NAME.trace.rtx`` (each NACKed sequence number the
host got: resent, ``ok``, or not, with the gate's reason; a ``no`` with no reason is the
viewer's second copy of a NACK already answered).

    python holes.py runs3/D-*.trace
    python holes.py --refused runs3/D-*.trace     # first NACKs refused for the budget, by phase

Each hole is printed with the host's answers, in seconds from when the viewer acted.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from ended import clocks

PHASES = ((20, "4000"), (40, "1200"), (42, "step"), (60, "600"), (999, "after"))


def phase(t: float) -> str:
    return next(name for end, name in PHASES if t < end)


def answers(trace: str) -> dict[int, list[tuple[float, str, str]]]:
    """Per sequence number: (link time, ok/no, reason) of each NACK the host got."""
    t0, out = clocks(trace)[1], {}
    for line in Path(trace + ".rtx").read_text().splitlines():
        at, seq, verdict, *rest = line.split()
        reason = rest[0] if len(rest) > 1 else ""
        out.setdefault(int(seq), []).append((float(at) - t0, verdict, reason))
    return out


def holes(trace: str) -> None:
    t0, resent, seen = clocks(trace)[1], answers(trace), set()
    print(Path(trace).stem)
    for line in Path(trace + ".holes").read_text().splitlines():
        at, event, seq = line.split()[:3]
        t = float(at) - t0
        if int(seq) in seen:
            continue
        seen.add(int(seq))
        got = [(round(a - t, 2), v, r) for a, v, r in resent.get(int(seq), []) if abs(a - t) < 1.5]
        print(f"    {t:5.1f} {phase(t):5} {event:11} {seq:>5} {got}")


def refused(traces: list[str]) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for trace in traces:
        for at, verdict, reason in (a for v in answers(trace).values() for a in v):
            if verdict == "ok" or reason == "over_budget":
                counts[(phase(at), "over_budget" if reason else "resent")] += 1
    for (where, what), n in sorted(counts.items()):
        print(f"{where:6} {what:12} {n}")


if __name__ == "__main__":
    if sys.argv[1] == "--refused":
        refused(sys.argv[2:])
    else:
        for name in sys.argv[1:]:
            if Path(name + ".holes").exists():
                holes(name)
