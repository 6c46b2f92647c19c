"""Compiled from native/rtc_native.c; pure-Python twins in rtc_interact.media.vp8."""

from typing_extensions import Buffer

def vp8_packetize(frame: Buffer, picture_id: int, max_payload: int, tl0_index: int = 0,
                  droppable: bool = False) -> list[bytes]:
    """Split one encoded VP8 frame into RTP payloads with 6-byte descriptors."""
