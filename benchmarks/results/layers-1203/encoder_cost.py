"""Encoder CPU of the default ladder of a 640x360 source, two temporal layers against none.

    python benchmarks/results/layers-1203/encoder_cost.py > encoder-cost.json

300 test-pattern frames per rung, encoded by each rung's encoder as the ladder opens it
(``media.ladder._open_codec``); three repeats, interleaved. Cores = CPU seconds / 10 s of video.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import av
import numpy as np

from rtc_interact.media.ladder import Rung, _open_codec, default_ladder
from rtc_interact.media.sources import TestPatternTrack

SECONDS, REPEATS = 10, 3


async def _grab(rung: Rung) -> list[np.ndarray]:
    track = TestPatternTrack(rung.width, rung.height, 30.0)
    return [(await track.recv()).to_ndarray(format="yuv420p").copy()
            for _ in range(SECONDS * 30)]


def _encode(rung: Rung, frames: list[np.ndarray], layers: bool) -> tuple[float, int]:
    """(CPU seconds, bits) to encode ``frames`` on ``rung``."""
    codec = _open_codec(rung, 8, layers)
    pictures = [av.VideoFrame.from_ndarray(a, format="yuv420p") for a in frames]
    bits, started = 0, time.process_time()
    for i, picture in enumerate(pictures):
        picture.pts, picture.time_base = i * 3000, codec.time_base
        bits += sum(p.size for p in codec.encode(picture)) * 8
    return time.process_time() - started, bits


def main() -> None:
    ladder = default_ladder(640, 360, 30)
    frames = {r: asyncio.run(_grab(r)) for r in ladder.rungs}
    cores: dict[bool, list[float]] = {False: [], True: []}
    kbps: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(REPEATS):
        for layers in (False, True):
            runs = [_encode(r, frames[r], layers) for r in ladder.rungs]
            cores[layers].append(round(sum(c for c, _ in runs) / SECONDS, 4))
            kbps[layers].append(round(sum(b for _, b in runs) / SECONDS / 1000))
    print(json.dumps({("layers" if k else "plain"): {
        "cores_median": statistics.median(v), "cores": v, "kbps_all_rungs": kbps[k]}
        for k, v in cores.items()}, indent=1))


if __name__ == "__main__":
    main()
