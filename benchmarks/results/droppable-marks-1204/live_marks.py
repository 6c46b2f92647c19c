"""What a viewer's packetizer reads of the ladder's droppable-frame marks in a live session
(RESULTS.md §19): per frame, (larger than one RTP payload, the mark as read, what the frame's
own header says), counted.

    python benchmarks/results/droppable-marks-1204/live_marks.py cn-brazil 20

Before 85f7faa almost every frame read ``None``: PyAV had forgotten the shared ``True``/``False``.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from typing import Any

from rtc_interact.bench.harness import connect, linked_host
from rtc_interact.linkemu import get_profile
from rtc_interact.media import vp8

SEEN: Counter[tuple[bool, str, bool]] = Counter()
PACK = vp8.Vp8Packetizer.pack


def pack(self: vp8.Vp8Packetizer, packet: Any) -> tuple[list[bytes], int]:
    SEEN[(packet.size > vp8.MAX_PAYLOAD, repr(packet.opaque), vp8.droppable(bytes(packet)))] += 1
    return PACK(self, packet)


async def main(profile: str, seconds: float) -> None:
    async with linked_host("ours", get_profile(profile), 1) as link:
        session = await connect("ours", link)
        await asyncio.sleep(seconds)
        await session.aclose()


if __name__ == "__main__":
    vp8.Vp8Packetizer.pack = pack  # type: ignore[method-assign]
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
    for key, count in sorted(SEEN.items(), key=str):
        print(key, count)
