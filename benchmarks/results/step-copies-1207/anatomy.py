"""What happened at congested-evening's step from 1200 to 600 kbps in a traced run (RESULTS
§47), in seconds from the step (link time 40 s). A run traced with ``patches/trace.patch``
leaves, beside ``NAME.json``: ``NAME.trace`` (the host's controller samples and the viewer's
reports as the host got them), ``NAME.trace.bench`` (the bench's clocks), ``NAME.trace.rx``
(each frame the viewer's buffer released: when, its first and last packets' arrivals, packets,
droppable, keyframe) and ``NAME.trace.link`` (each packet into the bottleneck, 37-46 s: when,
size, backlog, delivery time or D for a drop).

    python anatomy.py freezes TRACE...   each freeze near the step: what ended it, and the
                                         controller's copies (c), rung and thinning (T)
    python anatomy.py gaps TRACE         the frames released around the step, with their gaps
    python anatomy.py link TRACE         the bottleneck per 50 ms: packets, drops, backlog
    python anatomy.py switches TRACE...  rung switches, and seconds on each rung at 1200 kbps

A freeze ended by a keyframe (KEY) skipped frames that had holes; by a frame whose packets came
over 100 ms apart (HOLE), a loss filled late (a copy or a retransmission); otherwise (LATE) the
frame itself came late.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

STEP_AT_S = 40.0
QUEUE_LIMIT_MS = 500.0


def _clocks(trace: str) -> tuple[float, float]:
    """(the bench's start, the step) on the monotonic clock."""
    fields = dict(re.findall(r"(\w+)=(\S+)", Path(trace + ".bench").read_text()))
    return float(fields["started"]), float(fields["link_t0"]) + STEP_AT_S


def _rows(path: str) -> list[list[str]]:
    return [line.split() for line in Path(path).read_text().splitlines()]


def freezes(trace: str) -> None:
    started, step = _clocks(trace)
    video = json.loads(Path(trace.replace(".trace", ".json")).read_text())
    run = video["results"][0]["video"]["ours"]
    released = _rows(trace + ".rx")
    link = _rows(trace + ".link") if Path(trace + ".link").exists() else []
    dropped = sum(1 for r in link if r[3] == "D" and float(r[2]) > QUEUE_LIMIT_MS
                  and -1 < float(r[0]) - step < 3)
    out = []
    for at, frozen in run["freezes_at_s"]:
        t = started + at - step
        after = next((r for r in released if float(r[0]) - step > t + 0.01), None)
        if not -0.5 < t < 3 or after is None:
            continue
        span = float(after[3]) - float(after[2])
        kind = "KEY" if after[6] == "1" else f"HOLE{span:.0f}" if span > 100 else "LATE"
        out.append(f"{t:+.2f}/{frozen:.2f} {kind}")
    samples = []
    for line in Path(trace).read_text().splitlines():
        m = re.match(r"(\S+) (\w)[\w-]* r(\d) .*copy=(\d+) thin=(\w+)", line)
        if m and -0.5 < float(m.group(1)) - step < 2:
            thin = "T" if m.group(5) == "True" else ""
            samples.append(f"{float(m.group(1)) - step:+.2f}{m.group(2)}{m.group(3)}"
                           f"c{m.group(4)}{thin}")
    print(f"{Path(trace).stem:26} dropped by the queue {dropped:2d}: {out}")
    print("    ", " ".join(samples))


def gaps(trace: str) -> None:
    _, step = _clocks(trace)
    previous = None
    for r in _rows(trace + ".rx"):
        t = float(r[0]) - step
        if -0.1 < t < 2.2:
            first, last = float(r[2]) / 1000 - step, float(r[3]) / 1000 - step
            gap = 0.0 if previous is None else t - previous
            mark = " <<<" if gap > 0.15 else ""
            print(f"  {t:+.3f} gap={gap * 1000:4.0f} hold={(t - last) * 1000:5.0f} "
                  f"span={(last - first) * 1000:5.0f} packets={r[4]} droppable={r[5]} "
                  f"key={r[6]}{mark}")
            previous = t


def link(trace: str) -> None:
    _, step = _clocks(trace)
    bins: dict[int, list[float]] = {}
    for t, size, backlog, out in _rows(trace + ".link"):
        k = int((float(t) - step) * 20)
        if -10 <= k <= 50:
            e = bins.setdefault(k, [0, 0, 0, 0, 0.0])
            e[0] += 1
            e[4] = max(e[4], float(backlog))
            if out == "D":
                e[1 if float(backlog) > QUEUE_LIMIT_MS else 2] += 1
            else:
                e[3] += int(size)
    for k in sorted(bins):
        sent, queue, loss, size, backlog = bins[k]
        print(f"  {k / 20:+.2f} packets={sent:3.0f} kbps={size * 8 / 50:5.0f} "
              f"queue-drops={queue:2.0f} loss-drops={loss:2.0f} backlog={backlog:4.0f} ms")


def switches(trace: str) -> None:
    _, step = _clocks(trace)
    rung = last = None
    moves, on = [], {}
    for line in Path(trace).read_text().splitlines():
        m = re.match(r"(\S+) [\w-]+ r(\d) ", line)
        if not m:
            continue
        t, now = float(m.group(1)) - step, m.group(2)
        if last is not None and rung is not None and -19 < t <= 0:
            on[rung] = on.get(rung, 0.0) + t - last
        if rung is not None and now != rung:
            moves.append(f"{t:+.1f}:{rung}>{now}")
        rung, last = now, t
    print(f"{Path(trace).stem:26}", {k: round(v) for k, v in sorted(on.items())},
          " ".join(moves))


def main(command: str, traces: list[str]) -> None:
    show = {"freezes": freezes, "gaps": gaps, "link": link, "switches": switches}[command]
    for trace in traces:
        if command in ("gaps", "link"):
            print(trace)
        show(trace)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
