"""Replay a traced run's frame releases with stretching (RESULTS §49), offline: each frame
whose next frame had not come when it went, while a later frame had (a loss), is held ``S`` ms
more than the frame before it (up to ``B`` ms above the run's own release), and the extra
shrinks by ``D`` ms a frame after; with ``--late`` a next frame not yet come is enough (T), and
with ``--static`` every frame is held (``python replay.py --static 40 40 0``: a playout delay 40
ms longer throughout, RESULTS §50); with ``--follow`` the playout clock follows a queue (RESULTS
§51): a frame goes by the fastest arrival of the ``FOLLOW_FRAMES`` frames before it rather than
of the last ``LAG_WINDOW``, by ``B`` at most and by no more than its own, rising by ``S`` a
frame at most and falling at once (``python replay.py --follow 20 150 0``). A
frame never goes before it came, nor before the frame ahead of it. Prints the freezes (the W3C rule,
``bench.metrics``) of the run as it was and as replayed, and how much later frames went.

    python replay.py 40 120 10 ../step-early-1207/runs3/A-*.trace
    python replay.py --late 40 120 10 ../step-early-1207/runs3/A-*.trace

Traces as in ``ended.py``. This is the receive buffer's stretching of ``patches/T2.patch``
(``--late``: with ``patches/T.patch``) on the same arrivals; live runs differ in all else too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from rtc_interact.bench.metrics import count_freezes
from rtc_interact.transport.receive_buffer import LAG_WINDOW

FOLLOW_FRAMES = 3
"""Frames whose fastest arrival the playout clock follows (``--follow``: the rule of
``../playout-follow-1207/patches/Q2.patch``)."""

HELD_S = 0.002
"""A frame that went this long or more after its last packet came was held for its time."""


def releases(trace: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The traced frames' releases, their last packets' arrivals (s) and RTP times (s)."""
    rows = [line.split() for line in Path(trace + ".rx").read_text().splitlines()]
    went = np.array([float(r[0]) for r in rows])
    came = np.array([float(r[3]) / 1000 for r in rows])
    rtp = np.unwrap(np.array([int(r[1]) for r in rows], dtype=float), period=2.0**32) / 90000
    return went, came, rtp


def replay(trace: str, step: float, most: float, relax: float,
           rule: str) -> tuple[int, int, np.ndarray]:
    went, came, rtp = releases(trace)
    lag = came - rtp
    out = np.empty(len(went))
    extra, offset = 0.0, 0.0
    for i in range(len(went)):
        held = went[i] - came[i] > HELD_S
        if held or i == 0:
            offset = went[i] - rtp[i]  # the playout clock: release less RTP time
        due = went[i] if held else rtp[i] + offset
        if rule == "--follow":
            recent = lag[max(0, i - FOLLOW_FRAMES):i].min(initial=np.inf)
            floor = lag[max(0, i - LAG_WINDOW):i].min(initial=np.inf)
            extra = max(0.0, min(most, extra + step, recent - floor, lag[i] - floor)) if i else 0.0
        else:
            waiting = rule == "--static" or (i + 1 < len(went) and came[i + 1] > went[i] and (
                rule == "--late" or bool((came[i + 2:i + 30] <= went[i]).any())))
            extra = min(most, extra + step) if waiting else max(0.0, extra - relax)
        out[i] = max(came[i], due + extra, out[i - 1] if i else 0.0)
    return count_freezes(list(went))[0], count_freezes(list(out))[0], out - went


def main(args: list[str]) -> None:
    rule = args[0] if args[0] in ("--late", "--static", "--follow") else ""
    args = args[bool(rule):]
    step, most, relax = (float(a) / 1000 for a in args[:3])
    before = after = 0
    shifts = []
    for trace in args[3:]:
        b, a, shift = replay(trace, step, most, relax, rule)
        before, after = before + b, after + a
        shifts.append(shift)
        print(f"{Path(trace).stem:28} freezes {b} -> {a}, later by {shift.mean() * 1000:.0f} ms "
              f"on average")
    every = np.concatenate(shifts)
    print(f"all: freezes {before} -> {after}; frames later by {every.mean() * 1000:.1f} ms on "
          f"average, p95 {np.percentile(every, 95) * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
