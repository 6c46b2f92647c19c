"""Congested-evening's climb after the step up to 2500 kbps, read from the controller's traces
(RESULTS §43; a trace is §40's ``patches/trace.patch`` output):

    python climb.py anatomy TRACE...   # per run: the first probe sample after the step up, the
                                       # first padding, the up-switch (seconds after the step),
                                       # and the 600 kbps phase's knee at the switch: above its
                                       # target, refuted first, or cleared by the switch
    python climb.py ends TRACE...      # probes ended from 1 s to 20 s after the step up, and
                                       # what ended each: a queue report since the sample
                                       # before, the estimate's cut, loss, or else "ping": a
                                       # ping sign (or a round trip or REMB sign while the
                                       # pings are not calm; the trace does not tell them apart)

A trace's clock starts with the controller, 1-3 s after the link's, so the step up is placed
``STEP_GAP_S`` after the step down to 600 kbps, which is taken as ``REPORT_LAG_S`` before the
first queue report of half the deepest or more within ``STEP_WITHIN_S`` of the trace.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

FIELD = re.compile(r"(\w+)=(\S+)")
STEP_GAP_S, REPORT_LAG_S, STEP_WITHIN_S = 20.0, 0.3, (36.0, 43.0)


def samples(path: Path) -> list[tuple[float, str, dict[str, str]]]:
    """(time from the first line, reason, fields) per line; a queue report's reason is QUEUE,
    its field ``queue`` the ms reported (beside the controller's state: ``since``, ``pad``)."""
    lines = [line.split(maxsplit=2) for line in path.read_text().splitlines()]
    start = float(lines[0][0])
    return [(float(at) - start, reason, ({"queue": rest.split()[0]} if reason == "QUEUE" else {})
             | dict(FIELD.findall(rest))) for at, reason, rest in lines]


def step_up(trace: list[tuple[float, str, dict[str, str]]]) -> float:
    """Trace time of the step up to 2500 kbps (see the module docstring)."""
    reports = [(t, int(fields["queue"])) for t, reason, fields in trace
               if reason == "QUEUE" and STEP_WITHIN_S[0] <= t <= STEP_WITHIN_S[1]]
    deepest = max(queue for _, queue in reports)
    first = next(t for t, queue in reports if queue >= deepest / 2)
    return first - REPORT_LAG_S + STEP_GAP_S


def anatomy(path: Path) -> str:
    probe = padding = up = forgotten = None
    trace = samples(path)
    start = step_up(trace)
    for t, reason, fields in trace:
        if t < start or reason == "QUEUE":
            continue
        if probe is None and reason in ("probe", "wait-up"):
            probe = t
        if probe is not None and padding is None and float(fields["pad"]) > 0:
            padding = t
        if forgotten is None and fields["knee"] == "None":
            forgotten = t  # (the switch's own sample when the switch cleared it)
        if reason == "up":
            up = t
            break
    shown = ["-" if t is None else f"+{t - start:.1f}" for t in (probe, padding, up)]
    knee = "no switch" if up is None else "above the target" if forgotten is None \
        else "refuted first" if up - forgotten > 0.1 else "cleared by the switch"
    return f"{path.name:34} probe {shown[0]:>6} padding {shown[1]:>6} up {shown[2]:>6} ({knee})"


def ends(path: Path, causes: Counter[str]) -> list[str]:
    out, before, report_at = [], None, float("-inf")
    trace = samples(path)
    start = step_up(trace) + 1
    stop = start + STEP_GAP_S - 1
    for t, reason, fields in trace:
        if reason == "QUEUE":
            report_at = t
            continue
        if before is not None and start <= t <= stop and fields["quiet"] != before[1]["quiet"] \
                and before[0] in ("probe", "wait-up"):
            loss, lost = fields["loss"], fields["lost"]
            if report_at > before[2]:
                cause = "report"
            elif float(fields["est"]) < 0.99 * float(before[1]["est"]):
                cause = "estimate"
            elif loss != "None" and float(loss) > 0.04 and lost != "None" and int(lost) > 1:
                cause = "loss"
            else:
                cause = "ping"
            causes[cause] += 1
            out.append(f"{path.name:34} +{t - start + 1:5.2f} {cause:8} pnew={fields['pnew'][:5]}")
        before = (reason, fields, t)
    return out


def main(args: list[str]) -> None:
    if args[0] == "anatomy":
        for name in args[1:]:
            print(anatomy(Path(name)))
        return
    causes: Counter[str] = Counter()
    for name in args[1:]:
        for line in ends(Path(name), causes):
            print(line)
    print(dict(causes))


if __name__ == "__main__":
    main(sys.argv[1:])
