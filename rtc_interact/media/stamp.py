"""Burn a frame number and capture time into a frame's pixels, and read them back.

The stamp is 88 bits (32-bit frame number, 48-bit Unix milliseconds, 8-bit CRC) drawn as two rows
of 44 black or white square blocks in the top-left corner of the luma plane. Blocks are large
(width / 44 pixels) and read back from their centres only, so the stamp survives lossy VP8/H.264
coding at low bitrates; a failed CRC makes ``read_stamp`` return None instead of a wrong value.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from ..errors import ConfigurationError

COLUMNS = 44
ROWS = 2
BITS = COLUMNS * ROWS
_BLACK, _WHITE = 16, 235
_TIME_MASK = (1 << 48) - 1

Plane = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class FrameStamp:
    """What the host burned into a frame."""

    frame_no: int
    """Source frame counter, from 0, modulo 2**32."""
    capture_ms: int
    """Host wall clock at capture, Unix milliseconds modulo 2**48."""


def block_size(width: int) -> int:
    """Edge of one stamp block in pixels for a frame ``width`` wide (even, at least 4)."""
    if width < COLUMNS * 4:
        raise ConfigurationError(f"frames must be at least {COLUMNS * 4} pixels wide to stamp")
    return (width // COLUMNS) // 2 * 2


def _crc8(data: bytes) -> int:
    """CRC-8 (poly 0x07, init 0xFF): a uniform black or white area never reads as a stamp."""
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _payload(stamp: FrameStamp) -> bytes:
    return (stamp.frame_no & 0xFFFFFFFF).to_bytes(4, "big") + (
        stamp.capture_ms & _TIME_MASK
    ).to_bytes(6, "big")


def burn_stamp(luma: Plane, stamp: FrameStamp) -> None:
    """Draw ``stamp`` into the luma plane ``luma`` (height x width, uint8) in place."""
    size = block_size(luma.shape[1])
    payload = _payload(stamp)
    raw = np.frombuffer(payload + bytes([_crc8(payload)]), dtype=np.uint8)
    bits = np.unpackbits(raw).reshape(ROWS, COLUMNS)
    levels = np.where(bits == 1, _WHITE, _BLACK).astype(np.uint8)
    luma[: ROWS * size, : COLUMNS * size] = np.repeat(np.repeat(levels, size, 0), size, 1)


def read_stamp(luma: Plane) -> FrameStamp | None:
    """Read a stamp from a luma plane; None if there is none or it was damaged beyond reading."""
    try:
        size = block_size(luma.shape[1])
    except ConfigurationError:
        return None
    if luma.shape[0] < ROWS * size:
        return None
    region = luma[: ROWS * size, : COLUMNS * size].reshape(ROWS, size, COLUMNS, size)
    lo, hi = size // 4, size - size // 4
    centres = region[:, lo:hi, :, lo:hi].mean(axis=(1, 3))
    raw = np.packbits((centres > (_BLACK + _WHITE) / 2).reshape(-1)).tobytes()
    if _crc8(raw[:10]) != raw[10]:
        return None
    return FrameStamp(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:10], "big"))


def luma_of(frame: av.VideoFrame) -> Plane:
    """The luma plane of a yuv420p frame as a (height x width) view, without copying."""
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(frame.height, plane.line_size)
    luma: Plane = rows[:, : frame.width]
    return luma


PLAUSIBLE_LATENCY_MS = (-5_000, 120_000)
"""Latencies outside this range mean a damaged stamp that passed the 8-bit CRC by chance."""


def latency_ms(stamp: FrameStamp | None, now_ms: int) -> float | None:
    """Glass-to-glass latency of a stamped frame seen at ``now_ms``; None if implausible."""
    if stamp is None:
        return None
    latency = now_ms - stamp.capture_ms
    low, high = PLAUSIBLE_LATENCY_MS
    return float(latency) if low <= latency <= high else None
