"""Freeze anatomy probe (RESULTS.md §10, §14.3): one session of ours on a profile; for each
freeze, what the frame that ended it waited for, whether that frame was droppable, and how many
redundant copies the host made of each packet that a retransmission filled (``fills_ms_tries``:
ms after the hole, NACKs sent, copies made).

    python benchmarks/results/base-twice-1203/probe-copies.py cn-brazil 60 1 out.json

The viewer's ``NackScheduler`` and ``FrameBuffer`` are wrapped in this process to log holes
filled (how long after the hole was seen, after how many NACKs), frames released, frames
abandoned and keyframe requests. Kinds: ``rtx`` (a packet came a round trip after its hole),
``keyframe-after-abandon`` (a hole was given up and a keyframe ended the wait), ``copy/reorder``,
``keyframe``, ``late-arrival`` (nothing was missing: the frame itself came late).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import sys
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.bench.suites import _host_link
from rtc_interact.linkemu import get_profile
from rtc_interact.transport import aiortc_sender as snd
from rtc_interact.transport import receive_buffer as rb

EVENTS: dict[str, list[tuple[Any, ...]]] = {"fill": [], "deliver": [], "abandon": [], "pli": []}
ON_PACKET, DELIVER = rb.NackScheduler.on_packet, rb.FrameBuffer._deliver
ABANDON, WANT_KEYFRAME = rb.FrameBuffer._abandon_if_stale, rb.FrameBuffer.want_keyframe


def on_packet(self: rb.NackScheduler, seq: int, now_ms: float) -> None:
    hole = self._missing.get(seq)
    if hole is not None:
        EVENTS["fill"].append((now_ms, seq, now_ms - hole.first_seen, hole.tries))
    ON_PACKET(self, seq, now_ms)


def deliver(self: rb.FrameBuffer, span: Any) -> rb.Frame:
    arrived = max(self._packets[s].arrived_ms for s in range(span.first, span.last + 1))
    drop = self._packets[span.first].droppable
    frame = DELIVER(self, span)
    EVENTS["deliver"].append((time.monotonic() * 1000, span.first, span.last, frame.keyframe,
                              arrived, self._delay, drop))
    return frame


def abandon(self: rb.FrameBuffer, head: int, span: Any, now_ms: float) -> bool:
    gave_up = ABANDON(self, head, span, now_ms)
    if gave_up:
        EVENTS["abandon"].append((now_ms, span.last + 1))
    return gave_up


def want_keyframe(self: rb.FrameBuffer, now_ms: float) -> bool:
    asked = WANT_KEYFRAME(self, now_ms)
    if asked:
        EVENTS["pli"].append((now_ms,))
    return asked


def freezes(times_s: list[float]) -> list[tuple[float, float]]:
    """(start, end) in ms of gaps over max(3 x mean, mean + 150 ms), mean of the last 30."""
    recent: deque[float] = deque(maxlen=30)
    out = []
    for a, b in itertools.pairwise(times_s):
        mean = sum(recent) / len(recent) if len(recent) >= 5 else None
        if mean is not None and b - a > max(3 * mean, mean + 0.15):
            out.append((a * 1000, b * 1000))
        recent.append(b - a)
    return out


def classify(start_ms: float, end_ms: float) -> dict[str, Any]:
    released = [d[0] for d in EVENTS["deliver"]]
    i = bisect.bisect_left(released, start_ms + 5)  # the next frame out (decoding takes a few ms)
    if i == len(released):
        return {"kind": "?"}
    at, first, last, keyframe, arrived, delay, drop = EVENTS["deliver"][i]
    fills = [f for f in EVENTS["fill"] if first <= f[1] <= last]
    abandoned = any(start_ms - 1500 <= a[0] <= end_ms for a in EVENTS["abandon"])
    if keyframe and abandoned:
        kind = "keyframe-after-abandon"
    elif fills:
        kind = "rtx" if any(f[3] > 0 and f[2] > 200 for f in fills) else "copy/reorder"
    else:
        kind = "keyframe" if keyframe else "late-arrival"
    fills_out = [(round(f[2]), f[3], COPIES[f[1] % 65536]) for f in fills]
    return {"kind": kind, "fills_ms_tries": fills_out,
            "released_after_arrival_ms": round(at - arrived), "playout_delay_ms": round(delay),
            "keyframe": keyframe, "droppable": drop, "packets": last - first + 1}


async def main(profile: str, seconds: int, seed: int) -> dict[str, Any]:
    async with linked_host("ours", get_profile(profile), seed) as link:
        session = await connect("ours", link)
        started = time.perf_counter()  # the same clock as time.monotonic on Linux
        await asyncio.sleep(seconds)
        host_link = await _host_link(link)
        await session.aclose()
    times = [r.at_s for r in session.frames.records if r.at_s >= started]
    rows = [{"at_s": round(a / 1000 - started, 2), "gap_ms": round(b - a), **classify(a, b)}
            for a, b in freezes(times)]
    doc = {"profile": profile, "seed": seed, "seconds": seconds, "freezes": rows,
           "host_link": host_link, "events": {k: len(v) for k, v in EVENTS.items()},
           "fills": EVENTS["fill"]}
    for row in rows:
        print(row)
    print(Counter(r["kind"] for r in rows), doc["events"])
    return doc


COPIES: Counter[int] = Counter()
"""Copies scheduled per 16-bit RTP sequence number."""
COPY_LATER = snd._copy_later


def copy_later(sender: Any, counter: Any, data: bytes) -> None:
    COPIES[int.from_bytes(data[2:4], "big")] += 1
    COPY_LATER(sender, counter, data)


if __name__ == "__main__":
    snd._copy_later = copy_later
    rb.NackScheduler.on_packet = on_packet  # type: ignore[method-assign]
    rb.FrameBuffer._deliver = deliver  # type: ignore[method-assign]
    rb.FrameBuffer._abandon_if_stale = abandon  # type: ignore[method-assign]
    rb.FrameBuffer.want_keyframe = want_keyframe  # type: ignore[method-assign]
    result = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    Path(sys.argv[4]).write_text(json.dumps(result, indent=1, default=str))
