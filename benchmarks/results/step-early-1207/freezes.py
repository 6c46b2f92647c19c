"""Every freeze of a traced run (RESULTS §48): when (the link's seconds), how long, what ended
it, and the viewer's rung and copies then. Runs traced with ``../step-copies-1207/patches/
trace.patch`` (see ``../step-copies-1207/anatomy.py`` for the files it leaves).

    python freezes.py runs1/A-congested-evening-*.trace

What ended a freeze, as ``anatomy.py`` says: KEY a keyframe (frames with holes were skipped),
HOLEn a frame whose packets came n ms apart (a loss filled late), LATE a frame that came late
whole. Then ``r1 c190`` is the rung and the copies (kbps) of the controller's last sample
before the freeze, and ``T`` marks thinning. A last column counts the freezes by phase:
``step`` 40-42 s (the step to 600 kbps), ``600`` 42-60 s, ``other`` the rest.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SAMPLE = re.compile(r"(\S+) \S+ r(\d) .*copy=(\d+) thin=(\w+)")


def _phase(t: float) -> str:
    return "step" if 40 <= t < 42 else "600" if 42 <= t < 60 else "other"


def freezes(trace: str) -> tuple[list[str], dict[str, int]]:
    clocks = dict(re.findall(r"(\w+)=(\S+)", Path(trace + ".bench").read_text()))
    started, t0 = float(clocks["started"]), float(clocks["link_t0"])
    run = json.loads(Path(trace.removesuffix(".trace") + ".json").read_text())
    video = run["results"][0]["video"]["ours"]
    released = [line.split() for line in Path(trace + ".rx").read_text().splitlines()]
    samples = [(float(m[1]), m[2], m[3], m[4] == "True")
               for m in map(SAMPLE.match, Path(trace).read_text().splitlines()) if m]
    out, phases = [], {"step": 0, "600": 0, "other": 0}
    for at, frozen in video["freezes_at_s"]:
        t = started + at
        after = next((r for r in released if float(r[0]) > t + 0.01), None)
        if after is None:
            continue
        span = float(after[3]) - float(after[2])
        kind = "KEY" if after[6] == "1" else f"HOLE{span:.0f}" if span > 100 else "LATE"
        before = [s for s in samples if s[0] <= t]
        state = f" r{before[-1][1]} c{before[-1][2]}{'T' if before[-1][3] else ''}" \
            if before else ""
        out.append(f"{t - t0:.1f}/{frozen:.2f} {kind}{state}")
        phases[_phase(t - t0)] += 1
    return out, phases


def main(traces: list[str]) -> None:
    total = {"step": 0, "600": 0, "other": 0}
    for trace in traces:
        out, phases = freezes(trace)
        for k, v in phases.items():
            total[k] += v
        print(f"{Path(trace).stem:26} {out} {phases}")
    print("total", total)


if __name__ == "__main__":
    main(sys.argv[1:])
