"""Compiled from native/rtc_native.c; pure-Python twins in rtc_interact.media.vp8."""

def vp8_packetize(frame: bytes, picture_id: int, max_payload: int) -> list[bytes]:
    """Split one encoded VP8 frame into RTP payloads with 4-byte descriptors."""
