"""Freeze context probe (RESULTS.md §24.4): one session of ours on a profile; for each freeze,
every packet the viewer's frame buffer took and every frame it released or skipped from 450 ms
before the freeze to its end, on one clock (ms).

    python benchmarks/results/copy-lag-1204/freeze_context.py mobile-3g-weak 60 2 out.json

Rows: ("add", ms, seq, rtp timestamp, droppable, tl0, start, marker, bytes, duplicate,
playout delay ms), ("rel", ms, first seq, last seq, rtp timestamp, arrived ms, playout delay
ms), ("skip", ms, seq), ("abandon", ms, seq).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.bench.metrics import freeze_gaps
from rtc_interact.linkemu import get_profile
from rtc_interact.transport import receive_buffer as rb

LOG: list[tuple[Any, ...]] = []
ADD, DELIVER = rb.FrameBuffer.add, rb.FrameBuffer._deliver
SKIP, ABANDON = rb.FrameBuffer._skip_to, rb.FrameBuffer._abandon_if_stale


def add(self: rb.FrameBuffer, packet: rb.Packet, now_ms: float) -> list[rb.Frame]:
    LOG.append(("add", now_ms, packet.seq, packet.timestamp, packet.droppable, packet.tl0,
                packet.start, packet.marker, len(packet.data), packet.seq in self._packets,
                round(self._delay)))
    return ADD(self, packet, now_ms)


def deliver(self: rb.FrameBuffer, span: Any) -> rb.Frame:
    arrived = max(self._packets[s].arrived_ms for s in range(span.first, span.last + 1))
    frame = DELIVER(self, span)
    LOG.append(("rel", time.monotonic() * 1000, span.first, span.last, frame.timestamp,
                round(arrived), round(self._delay)))
    return frame


def skip(self: rb.FrameBuffer, seq: int) -> None:
    LOG.append(("skip", time.monotonic() * 1000, seq))
    SKIP(self, seq)


def abandon(self: rb.FrameBuffer, head: int, span: Any, now_ms: float) -> bool:
    gave_up = ABANDON(self, head, span, now_ms)
    if gave_up:
        LOG.append(("abandon", now_ms, head))
    return gave_up


async def main(profile: str, seconds: int, seed: int) -> list[dict[str, Any]]:
    async with linked_host("ours", get_profile(profile), seed) as link:
        session = await connect("ours", link)
        started = time.perf_counter()  # the same clock as time.monotonic on Linux
        await asyncio.sleep(seconds)
        await session.aclose()
    times = [r.at_s for r in session.frames.records if r.at_s >= started]
    return [{"at_s": round(a - started, 2), "gap_ms": round((b - a) * 1000), "start_ms": a * 1000,
             "context": [e for e in LOG if a * 1000 - 450 <= e[1] <= b * 1000 + 20]}
            for a, b in freeze_gaps(times)]


if __name__ == "__main__":
    rb.FrameBuffer.add = add  # type: ignore[method-assign]
    rb.FrameBuffer._deliver = deliver  # type: ignore[method-assign]
    rb.FrameBuffer._skip_to = skip  # type: ignore[method-assign]
    rb.FrameBuffer._abandon_if_stale = abandon  # type: ignore[method-assign]
    rows = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    Path(sys.argv[4]).write_text(json.dumps(rows, default=str))
    print(len(rows), "freezes")
