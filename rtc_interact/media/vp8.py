"""VP8 RTP payloads (RFC 7741) for pre-encoded frames: the per-viewer, per-packet hot path.

With encode-once, every viewer's sender still splits each encoded frame into RTP payloads with
its own picture id; at 32 viewers that is the busiest Python code of the host. ``packetize`` is
the C version from ``native/rtc_native.c`` (module ``rtc_interact._native``) when it was built,
otherwise the pure-Python twin ``packetize_py``; both give the same bytes (the tests check). Set
``RTC_INTERACT_PURE=1`` to force pure Python. ``IMPLEMENTATION`` says which one is in use.

Each payload starts with a 6-byte descriptor: X=1, N=1 on a droppable frame, S=1 on a frame's
first packet, PID 0; I=1, L=1, T=1; a 15-bit picture id (M=1); TL0PICIDX; TID and Y.

Temporal layers: the ladder encodes with two (``media.ladder``), so every other frame
references only the newest base-layer frame and updates no reference buffer and no
probability: a receiver may drop it when one of its packets is lost, without waiting for a
retransmission and without corrupting what follows. :func:`droppable` reads that from the
frame's own header (RFC 6386 section 9), so the marking stays true whatever pattern the encoder
follows; the ladder keeps the answer on the packet (:func:`mark_layer`). Base-layer
frames carry TID 0 and a TL0PICIDX one above the previous base-layer frame's; a droppable
frame carries TID 1, Y 1 and the TL0PICIDX of the base-layer frame it references, so a
receiver can tell that a frame lost whole was droppable.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from aiortc.codecs.vpx import VpxPayloadDescriptor

if TYPE_CHECKING:
    from typing_extensions import Buffer

MAX_PAYLOAD = 1300
"""Bytes per RTP payload, descriptor included (aiortc's own packet budget)."""
DESCRIPTOR_SIZE = 6
_CLOCK = 90_000


def packetize_py(frame: Buffer, picture_id: int, max_payload: int = MAX_PAYLOAD,
                 tl0_index: int = 0, droppable: bool = False) -> list[bytes]:
    """Split one encoded VP8 frame (bytes, an ``av.Packet``: any buffer) into RTP payloads."""
    if max_payload <= DESCRIPTOR_SIZE:
        raise ValueError("max_payload must leave room for the payload descriptor")
    pid, n = picture_id & 0x7FFF, 0x20 if droppable else 0
    tail = bytes((0xE0, 0x80 | pid >> 8, pid & 0xFF, tl0_index & 0xFF, 0x60 if droppable else 0))
    first, rest = bytes((0x90 | n,)) + tail, bytes((0x80 | n,)) + tail
    chunk = max_payload - DESCRIPTOR_SIZE
    view = memoryview(frame)
    return [(rest if pos else first) + view[pos:pos + chunk]
            for pos in range(0, view.nbytes, chunk)]


Packetize = Callable[["Buffer", int, int, int, bool], list[bytes]]


@dataclass(frozen=True, slots=True, eq=False)
class LayerMark:
    """A frame's temporal layer, as the ladder leaves it on the frame's ``av.Packet``."""

    droppable: bool


def mark_layer(packet: Any, droppable: bool) -> None:
    """Mark ``packet`` (an ``av.Packet``) as a droppable frame's or not, in ``opaque``, with an
    object of its own: PyAV files an opaque value under that value's ``id()`` and forgets it when
    any packet that carried it is freed, so a value shared by many packets (``True``) read as
    None once the ladder had freed another rung's packet, and almost no frame went out marked."""
    packet.opaque = LayerMark(droppable)


def marked_droppable(packet: Any) -> bool:
    """Whether the ladder marked ``packet`` as a droppable frame's (:func:`mark_layer`)."""
    mark = packet.opaque
    return isinstance(mark, LayerMark) and mark.droppable


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
        self.tl0_index = random.randrange(1 << 8)
        self._packetize = packetize_fn or packetize

    def pack(self, packet: Any) -> tuple[list[bytes], int]:
        """RTP payloads of one ``av.Packet`` and its 90 kHz timestamp."""
        drop = marked_droppable(packet)  # marked by the ladder (see the module docstring)
        if not drop:
            self.tl0_index = (self.tl0_index + 1) & 0xFF
        payloads = self._packetize(packet, self.picture_id, MAX_PAYLOAD, self.tl0_index, drop)
        self.picture_id = (self.picture_id + 1) & 0x7FFF
        time_base: Fraction = packet.time_base
        pts: int = packet.pts
        if time_base.numerator == 1 and time_base.denominator == _CLOCK:
            return payloads, pts  # the ladder's clock: no Fraction arithmetic per viewer
        return payloads, int(pts * time_base * _CLOCK)

    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """Raw frames never reach this sender; the ladder encodes them."""
        raise TypeError("Vp8Packetizer only packs pre-encoded frames")


PayloadInfo = tuple[bool, bool, bool, int | None]
"""(begins a frame, begins a keyframe, belongs to a droppable frame, TL0PICIDX or None)."""


def inspect_vp8(payload: bytes) -> PayloadInfo:
    """What the RFC 7741 descriptor of a VP8 RTP payload says, and the VP8 payload header's P
    bit (RFC 6386 section 9.1) on a frame's first packet."""
    try:
        descriptor, rest = VpxPayloadDescriptor.parse(payload)
    except ValueError:
        return False, False, False, None
    start = descriptor.partition_start == 1 and descriptor.partition_id == 0
    # N=1 and TID>0: the frame references only the base layer, and no frame references it
    droppable = bool(payload[0] & 0x20) and descriptor.tid is not None and descriptor.tid[0] > 0
    return (start, start and bool(rest) and not rest[0] & 0x01, droppable,
            descriptor.tl0picidx)


class _BoolDecoder:
    """RFC 6386 section 7's boolean decoder, enough for the frame header's literal fields."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 2
        self._value = int.from_bytes(data[:2].ljust(2, b"\0"), "big")
        self._range, self._shift = 255, 0

    def literal(self, bits: int) -> int:
        """An unsigned ``bits``-bit field (each bit coded at probability 1/2)."""
        value = 0
        for _ in range(bits):
            split = 1 + ((self._range - 1) >> 1)
            bit = self._value >= split << 8
            if bit:
                self._range -= split
                self._value -= split << 8
            else:
                self._range = split
            while self._range < 128:
                self._value, self._range, self._shift = self._value << 1, self._range << 1, \
                    self._shift + 1
                if self._shift == 8:
                    self._shift = 0
                    self._value |= self._data[self._pos] if self._pos < len(self._data) else 0
                    self._pos += 1
            value = value << 1 | bit
        return value

    def flagged(self, bits: int, signed: bool = True) -> None:
        """Skip an optional field: a flag, then ``bits`` bits and a sign when the flag is set."""
        if self.literal(1):
            self.literal(bits + signed)


HEADER_BYTES = 64
"""Bytes of a frame read by :func:`droppable`: the header fields it needs come first."""


def droppable(frame: Buffer) -> bool:
    """Whether an encoded VP8 frame can be dropped by a receiver: an inter frame that refreshes
    no reference buffer (last, golden, altref, no copy into one) and keeps no probability update
    (RFC 6386 sections 9.3-9.11 and 19.2; every field before those flags is skipped)."""
    head = bytes(memoryview(frame)[:HEADER_BYTES])
    if len(head) < 4 or not head[0] & 0x01:  # a keyframe refreshes everything
        return False
    bits = _BoolDecoder(head[3:])
    if bits.literal(1):  # segmentation
        update_map, update_data = bits.literal(1), bits.literal(1)
        if update_data:
            bits.literal(1)
            for size in (7, 7, 7, 7, 6, 6, 6, 6):
                bits.flagged(size)
        if update_map:
            for _ in range(3):
                bits.flagged(8, signed=False)
    bits.literal(1 + 6 + 3)  # filter type, level, sharpness
    if bits.literal(1) and bits.literal(1):  # loop filter deltas, updated
        for _ in range(8):
            bits.flagged(6)
    bits.literal(2 + 7)  # partitions, y_ac_qi
    for _ in range(5):
        bits.flagged(4)
    golden, altref = bits.literal(1), bits.literal(1)
    copies = (0 if golden else bits.literal(2)) | (0 if altref else bits.literal(2))
    bits.literal(2)  # sign biases
    entropy, last = bits.literal(1), bits.literal(1)
    return not (golden or altref or copies or entropy or last)
