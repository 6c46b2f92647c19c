"""VP8 RTP payloads (RFC 7741) for pre-encoded frames: the per-viewer, per-packet hot path.

With encode-once, every viewer's sender still splits each encoded frame into RTP payloads with
its own picture id; at 32 viewers that is the busiest Python code of the host. ``packetize`` is
the C version from ``native/rtc_native.c`` (module ``rtc_interact._native``) when it was built,
otherwise the pure-Python twin ``packetize_py``; both give the same bytes (the tests check). Set
``RTC_INTERACT_PURE=1`` to force pure Python. ``IMPLEMENTATION`` says which one is in use.

Each payload starts with a 4-byte descriptor: X=1, S=1 on a frame's first packet, PID 0,
I=1 and a 15-bit picture id (M=1).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from aiortc.codecs.vpx import VpxPayloadDescriptor

if TYPE_CHECKING:
    from typing_extensions import Buffer

MAX_PAYLOAD = 1300
"""Bytes per RTP payload, descriptor included (aiortc's own packet budget)."""
DESCRIPTOR_SIZE = 4
_CLOCK = 90_000


def packetize_py(frame: Buffer, picture_id: int, max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """Split one encoded VP8 frame (bytes, an ``av.Packet``: any buffer) into RTP payloads."""
    if max_payload <= DESCRIPTOR_SIZE:
        raise ValueError("max_payload must leave room for the payload descriptor")
    pid = picture_id & 0x7FFF
    tail = bytes((0x80, 0x80 | pid >> 8, pid & 0xFF))
    first, rest = b"\x90" + tail, b"\x80" + tail
    chunk = max_payload - DESCRIPTOR_SIZE
    view = memoryview(frame)
    return [(rest if pos else first) + view[pos:pos + chunk]
            for pos in range(0, view.nbytes, chunk)]


Packetize = Callable[["Buffer", int, int], list[bytes]]


def _choose() -> tuple[Packetize, str]:
    if os.environ.get("RTC_INTERACT_PURE", "") not in ("", "0"):
        return packetize_py, "python"
    try:
        from .._native import vp8_packetize
    except ImportError:
        return packetize_py, "python"
    return vp8_packetize, "c"


packetize, IMPLEMENTATION = _choose()


class Vp8Packetizer:
    """What a viewer's aiortc sender uses as its encoder for pre-encoded VP8 packets."""

    def __init__(self, packetize_fn: Packetize | None = None) -> None:
        self.picture_id = random.randrange(1 << 15)
        self._packetize = packetize_fn or packetize

    def pack(self, packet: Any) -> tuple[list[bytes], int]:
        """RTP payloads of one ``av.Packet`` and its 90 kHz timestamp."""
        payloads = self._packetize(packet, self.picture_id, MAX_PAYLOAD)  # no copy: a buffer
        self.picture_id = (self.picture_id + 1) & 0x7FFF
        time_base: Fraction = packet.time_base
        pts: int = packet.pts
        if time_base.numerator == 1 and time_base.denominator == _CLOCK:
            return payloads, pts  # the ladder's clock: no Fraction arithmetic per viewer
        return payloads, int(pts * time_base * _CLOCK)

    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """Raw frames never reach this sender; the ladder encodes them."""
        raise TypeError("Vp8Packetizer only packs pre-encoded frames")


def inspect_vp8(payload: bytes) -> tuple[bool, bool]:
    """(begins a frame, begins a keyframe) for a VP8 RTP payload (RFC 7741 descriptor, then the
    VP8 payload header's P bit, RFC 6386 section 9.1)."""
    try:
        descriptor, rest = VpxPayloadDescriptor.parse(payload)
    except ValueError:
        return False, False
    start = descriptor.partition_start == 1 and descriptor.partition_id == 0
    return start, start and bool(rest) and not rest[0] & 0x01
