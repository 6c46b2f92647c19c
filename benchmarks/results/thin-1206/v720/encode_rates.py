"""What each rung of a six-rung 720p ladder sends and costs, on the test pattern with and without
grain (RESULTS.md §36.1): 150 frames of 1280x720, each rung's libvpx encoder as the ladder opens
it, the rate over the last 120 frames and the CPU time per frame.

    python benchmarks/results/thin-1206/v720/encode_rates.py GRAIN [KBPS,KBPS,...]

GRAIN is the amplitude of the luma noise added to each frame (0: the plain pattern).
"""

from __future__ import annotations

import sys
import time

import av
import numpy as np

from rtc_interact.media.ladder import KeyframeGate, Rung, _EncodeJob, _open_codec, _RungState
from rtc_interact.media.stamp import FrameStamp, burn_stamp

W, H = 1280, 720
SIZES = ((1280, 720), (960, 540), (640, 360), (480, 270), (320, 180), (176, 100))


def frames(grain: int, count: int = 150) -> list[av.VideoFrame]:
    """The test pattern's moving ramp and bar, stamped, with ``grain`` of noise."""
    ramp = np.linspace(40, 200, W, dtype=np.float32)
    rows = np.linspace(0.7, 1.3, H, dtype=np.float32)[:, None]
    background = np.clip(ramp[None, :] * rows, 16, 235).astype(np.uint8)
    rng = np.random.default_rng(1)
    noise = [rng.integers(-grain, grain + 1, size=(H, W), dtype=np.int16) for _ in range(8)]
    chroma = np.full((H // 2, W), 128, dtype=np.uint8)
    out = []
    for i in range(count):
        luma = np.roll(background, (i * 6) % W, axis=1)
        if grain:
            luma = np.clip(luma.astype(np.int16) + noise[i % 8], 0, 255).astype(np.uint8)
        luma[(i * 4) % H:(i * 4) % H + 12, :] = 235
        burn_stamp(luma, FrameStamp(i, 0))
        out.append(av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p"))
    return out


def main(grain: int, rates: list[int]) -> None:
    source = frames(grain)
    total_cpu = 0.0
    for (w, h), kbps in zip(SIZES, rates, strict=False):
        rung = Rung(w, h, 30, kbps)
        state = _RungState(rung, KeyframeGate(0.3), _open_codec(rung, 8, True))
        started, size = time.process_time(), 0
        for i, frame in enumerate(source):
            packet = _EncodeJob(state, frame, i * 3000, i == 0)()
            if packet is not None and i >= 30:
                size += packet.size
        cpu = time.process_time() - started
        total_cpu += cpu
        print(f"{w}x{h} at {kbps} kbps: sends {size * 8 / 4 / 1000:.0f} kbps, "
              f"{cpu / len(source) * 1000:.2f} ms CPU a frame")
    print(f"all rungs: {total_cpu / len(source) * 1000:.1f} ms CPU a frame")


if __name__ == "__main__":
    main(int(sys.argv[1]),
         [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "2600,1700,900,450,190,80")
          .split(",")])
