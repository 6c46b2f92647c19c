"""The native VP8 packetizer and its pure-Python twin: same bytes, and the switch that picks one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from aiortc.codecs.vpx import VpxPayloadDescriptor, vp8_depayload
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc_interact.media import vp8

try:
    from rtc_interact._native import vp8_packetize as native_packetize
except ImportError:  # no compiler where this was installed: the pure twin is all there is
    native_packetize = None  # type: ignore[assignment]

Packetize = Callable[[bytes, int, int], list[bytes]]
needs_native = pytest.mark.skipif(native_packetize is None,
                                  reason="rtc_interact._native was not built")
IMPLEMENTATIONS = [
    pytest.param(vp8.packetize_py, id="python"),
    pytest.param(native_packetize, id="c", marks=needs_native),
]


@pytest.mark.parametrize("packetize", IMPLEMENTATIONS)
def test_descriptors_and_split(packetize: Packetize) -> None:
    frame = bytes(range(256)) * 12  # 3072 bytes: 1294 + 1294 + 484
    payloads = packetize(frame, 0x1234, 1300, 0x1A5, False)  # TL0PICIDX keeps 8 bits
    assert [len(p) for p in payloads] == [1300, 1300, 490]
    assert payloads[0][:6] == b"\x90\xe0\x92\x34\xa5\x00"
    assert payloads[1][:6] == payloads[2][:6] == b"\x80\xe0\x92\x34\xa5\x00"
    assert b"".join(p[6:] for p in payloads) == frame
    dropped = packetize(frame, 0x1234, 1300, 7, True)  # N=1, TID=1, Y=1
    assert [p[:6] for p in dropped] == [b"\xb0\xe0\x92\x34\x07\x60"] + \
        [b"\xa0\xe0\x92\x34\x07\x60"] * 2


@pytest.mark.parametrize("packetize", IMPLEMENTATIONS)
def test_aiortc_depacketizer_reads_our_payloads(packetize: Packetize) -> None:
    frame = os.urandom(5000)
    payloads = packetize(frame, 77, 1300, 9, True)
    descriptors = [VpxPayloadDescriptor.parse(p)[0] for p in payloads]
    assert [d.partition_start for d in descriptors] == [1, 0, 0, 0]
    assert {d.picture_id for d in descriptors} == {77}
    assert {(d.tl0picidx, d.tid) for d in descriptors} == {(9, (1, 1))}
    assert b"".join(vp8_depayload(p) for p in payloads) == frame


@pytest.mark.parametrize("packetize", IMPLEMENTATIONS)
def test_edges(packetize: Packetize) -> None:
    assert packetize(b"", 1, 1300, 0, False) == []
    # picture id wraps to 15 bits
    assert packetize(b"x", 0x8001, 7, 2, False) == [b"\x90\xe0\x80\x01\x02\x00x"]
    with pytest.raises(ValueError):
        packetize(b"abc", 1, 6, 0, False)


@needs_native
@settings(max_examples=300, deadline=None)
@given(frame=st.binary(max_size=9000), picture_id=st.integers(0, 1 << 16),
       max_payload=st.integers(7, 3000), tl0=st.integers(0, 1 << 10), drop=st.booleans())
def test_c_and_python_give_the_same_bytes(frame: bytes, picture_id: int, max_payload: int,
                                          tl0: int, drop: bool) -> None:
    assert native_packetize is not None
    assert native_packetize(frame, picture_id, max_payload, tl0, drop) == \
        vp8.packetize_py(frame, picture_id, max_payload, tl0, drop)


@needs_native
def test_c_takes_an_av_packet_without_copying_it_first() -> None:
    import av

    packet = av.Packet(b"\x01\x02\x03")
    assert native_packetize is not None
    assert native_packetize(packet, 9, 1300, 3, True) == vp8.packetize_py(packet, 9, 1300, 3, True)


def _implementation(env: dict[str, str]) -> str:
    code = "from rtc_interact.media import vp8; print(vp8.IMPLEMENTATION)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True, timeout=60)
    return out.stdout.strip()


def test_environment_switch_forces_pure_python() -> None:
    assert _implementation({"RTC_INTERACT_PURE": "1"}) == "python"


@needs_native
def test_native_is_the_default_when_built() -> None:
    assert _implementation({"RTC_INTERACT_PURE": ""}) == "c"
    assert _implementation({"RTC_INTERACT_PURE": "0"}) == "c"
