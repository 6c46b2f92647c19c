"""The packet trains of traced runs (RESULTS §45; a trace is §40's ``patches/trace.patch``
output with ``patches/train-trace.patch`` on top, which adds a ``TRAIN`` line per train sent
and a ``TRAINREP`` line per report of one):

    python trainlog.py TRACE...

Per run, each train: seconds from congested-evening's step up to 2500 kbps
(``climb.step_up``; negative: before it; on other profiles, from the trace's start), the rate
asked for, and its report (sent and arrived kbps, whether it refuted the knee; "-" if none
came); then, over all runs, before the step up and after it (congested-evening) and on the
other profiles: the trains, those answered, and those that arrived at 0.9 x the rate sent or
faster (T's and T3's rule) or at 1.2 x the 530 kbps rung's target or faster (T4's).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "probe-signs-1206"))
from climb import samples, step_up

AS_SENT, AT_RUNG = 0.9, 1.2 * 530 * 1.15
"""A train counted as arriving as fast as it was sent (T's and T3's rule), or at
``train.TRAIN_MARGIN`` x the 530 kbps rung's target or faster (T4's, for a climb to that rung)."""


def trains(path: Path) -> list[tuple[float, float, tuple[float, float, bool] | None]]:
    """(seconds from the step up, kbps asked for, report or None) per train of the run."""
    trace = samples(path)
    start = step_up(trace) if "congested-evening" in path.name else 0.0
    out: list[tuple[float, float, tuple[float, float, bool] | None]] = []
    for t, reason, fields in trace:
        if reason == "TRAIN":
            out.append((t - start, float(fields["kbps"]), None))
        elif reason == "TRAINREP" and out and out[-1][2] is None:
            report = (float(fields["sent"]), float(fields["arr"]), fields["refuted"] == "True")
            out[-1] = (out[-1][0], out[-1][1], report)
    return out


def main(names: list[str]) -> None:
    totals = {"before the step up": [0, 0, 0, 0], "after the step up": [0, 0, 0, 0],
              "on the other profiles": [0, 0, 0, 0]}  # trains, answered, as sent, at the rung
    for name in names:
        other = "congested-evening" not in name
        for at, kbps, report in trains(Path(name)):
            phase = totals["on the other profiles" if other else
                           "after the step up" if at >= 0 else "before the step up"]
            phase[0] += 1
            shown = "-"
            if report is not None:
                sent, arrived, refuted = report
                phase[1] += 1
                phase[2] += arrived >= AS_SENT * sent
                phase[3] += arrived >= AT_RUNG
                shown = f"sent {sent:5.0f} arrived {arrived:5.0f}" + (" refuted" if refuted else "")
            print(f"{Path(name).name:34} {at:+6.1f} s {kbps:4.0f} kbps: {shown}")
    for phase, (sent, answered, fast, rung) in totals.items():
        print(f"{phase}: {sent} trains, {answered} answered, {fast} at 0.9 x the rate sent or "
              f"faster, {rung} at {AT_RUNG:.0f} kbps or faster")


if __name__ == "__main__":
    main(sys.argv[1:])
