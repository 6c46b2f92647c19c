"""What a base-layer share gives on the test pattern (RESULTS §42.4): per rung, the kbps sent,
the base layer's share of the bytes and the luma PSNR, decoding every frame
(``python layer_split.py 0.6 0.4``; run from the repository root). ``--grain N`` adds luma
noise of amplitude N to every frame, as a camera's grain (RESULTS §43: ``--grain 3 0.4 0.3``)."""

from __future__ import annotations

import sys

import av
import numpy as np

from rtc_interact.media.ladder import TIME_BASE, Ladder, Rung, _open_codec
from rtc_interact.media.sources import TestPatternTrack
from rtc_interact.media.vp8 import droppable

FRAMES, SKIP = 300, 30
"""Frames encoded per rung, and the first ones left out (the keyframe and rate control's start)."""


def measure(share: float, rung: Rung, grain: int = 0) -> str:
    codec = _open_codec(rung, Ladder((rung,), base_layer_share=share))
    decoder = av.CodecContext.create("vp8", "r")
    pattern = TestPatternTrack(640, 360, rung.fps)
    base = drop = 0
    psnr = []
    rng = np.random.default_rng(1)
    noise = [rng.integers(-grain, grain + 1, size=(360, 640), dtype=np.int16)
             for _ in range(8 if grain else 0)]
    for n in range(FRAMES):
        chroma = np.full((180, 640), 128, dtype=np.uint8)
        plain = pattern._pattern(n)
        if grain:
            plain = np.clip(plain.astype(np.int16) + noise[n % 8], 0, 255).astype(np.uint8)
        source = av.VideoFrame.from_ndarray(np.vstack([plain, chroma]), format="yuv420p")
        frame = source.reformat(width=rung.width, height=rung.height)
        luma = frame.to_ndarray()[:rung.height].astype(float)
        frame.pts, frame.time_base = n * 3000, TIME_BASE
        for packet in codec.encode(frame):
            for picture in decoder.decode(packet):
                shown = picture.to_ndarray(format="yuv420p")[:rung.height].astype(float)
                if n >= SKIP:
                    psnr.append(10 * np.log10(255**2 / max(((shown - luma) ** 2).mean(), 1e-6)))
            if n >= SKIP:
                size = len(bytes(packet))
                drop, base = (drop + size, base) if droppable(packet) else (drop, base + size)
    kbps = (base + drop) * 8 / 1000 / ((FRAMES - SKIP) / rung.fps)
    return (f"share {share}: {rung.width}x{rung.height} at {rung.kbps} kbps sent {kbps:.0f}, "
            f"base layer {base / (base + drop):.2f} of the bytes, PSNR {np.mean(psnr):.1f} dB "
            f"(min {np.min(psnr):.1f})")


if __name__ == "__main__":
    args, amplitude = sys.argv[1:], 0
    if args[:1] == ["--grain"]:
        amplitude, args = int(args[1]), args[2:]
    for value in map(float, args):
        for rung in (Rung(640, 360, 30, 530), Rung(320, 180, 30, 190), Rung(176, 100, 30, 80)):
            print(measure(value, rung, amplitude))
