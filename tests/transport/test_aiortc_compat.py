"""Canaries: fail when an aiortc/aioice upgrade moves what aiortc_compat relies on."""

from __future__ import annotations

import inspect

import aioice
import aioice.ice
import aiortc

from rtc_interact.transport import aiortc_compat
from rtc_interact.transport.peer import LOOPBACK


def test_pinned_versions() -> None:
    assert aiortc.__version__.startswith(aiortc_compat.TESTED_AIORTC)
    assert aioice.__version__.startswith(aiortc_compat.TESTED_AIOICE)


def test_gathering_still_calls_the_module_level_get_host_addresses() -> None:
    source = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in source
    assert aioice.ice.get_host_addresses is aiortc_compat._host_addresses


def test_stock_aioice_still_skips_loopback() -> None:
    # If this starts failing, aioice offers 127.0.0.1 itself and the wrapper may be unnecessary.
    assert "127.0.0.1" not in aiortc_compat._original(True, False)


async def test_wrapper_gathers_exactly_the_chosen_addresses() -> None:
    connection = aioice.Connection(ice_controlling=True)
    with aiortc_compat.ice_host_addresses(LOOPBACK):
        await connection.gather_candidates()
    try:
        assert [c.host for c in connection.local_candidates] == ["127.0.0.1"]
    finally:
        await connection.close()


def test_vp8_decoder_still_takes_depayloaded_frames_with_data() -> None:
    from aiortc.codecs import vpx
    from aiortc.jitterbuffer import JitterFrame

    params = inspect.signature(vpx.Vp8Decoder.decode).parameters
    assert list(params) == ["self", "encoded_frame"]
    assert "data" in inspect.signature(JitterFrame).parameters


def test_keyframe_counter_counts_vp8_key_frames_only() -> None:
    import fractions

    import av
    import numpy as np
    from aiortc.codecs import vpx
    from aiortc.jitterbuffer import JitterFrame

    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 176, 96, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90000)
    encoder.options = {"g": "5"}
    packets = []
    for i in range(10):
        frame = av.VideoFrame.from_ndarray(np.full((96, 176, 3), i * 20, np.uint8), format="rgb24")
        frame.pts = i * 3000
        packets += encoder.encode(frame.reformat(format="yuv420p"))
    decoder = vpx.Vp8Decoder()
    with aiortc_compat.count_vp8_keyframes() as counter:
        for packet in packets:
            decoder.decode(JitterFrame(data=bytes(packet), timestamp=0))
    assert counter.count == sum(p.is_keyframe for p in packets) == 2
    assert vpx.Vp8Decoder.decode.__name__ == "decode"
