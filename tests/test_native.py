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
    frame = bytes(range(256)) * 12  # 3072 bytes: 1296 + 1296 + 480
    payloads = packetize(frame, 0x1234, 1300)
    assert [len(p) for p in payloads] == [1300, 1300, 484]
    assert payloads[0][:4] == b"\x90\x80\x92\x34"
    assert payloads[1][:4] == payloads[2][:4] == b"\x80\x80\x92\x34"
    assert b"".join(p[4:] for p in payloads) == frame


@pytest.mark.parametrize("packetize", IMPLEMENTATIONS)
def test_aiortc_depacketizer_reads_our_payloads(packetize: Packetize) -> None:
    frame = os.urandom(5000)
    payloads = packetize(frame, 77, 1300)
    descriptors = [VpxPayloadDescriptor.parse(p)[0] for p in payloads]
    assert [d.partition_start for d in descriptors] == [1, 0, 0, 0]
    assert {d.picture_id for d in descriptors} == {77}
    assert b"".join(vp8_depayload(p) for p in payloads) == frame


@pytest.mark.parametrize("packetize", IMPLEMENTATIONS)
def test_edges(packetize: Packetize) -> None:
    assert packetize(b"", 1, 1300) == []
    assert packetize(b"x", 0x8001, 5) == [b"\x90\x80\x80\x01x"]  # picture id wraps to 15 bits
    with pytest.raises(ValueError):
        packetize(b"abc", 1, 4)


@needs_native
@settings(max_examples=300, deadline=None)
@given(frame=st.binary(max_size=9000), picture_id=st.integers(0, 1 << 16),
       max_payload=st.integers(5, 3000))
def test_c_and_python_give_the_same_bytes(frame: bytes, picture_id: int,
                                          max_payload: int) -> None:
    assert native_packetize is not None
    assert native_packetize(frame, picture_id, max_payload) == \
        vp8.packetize_py(frame, picture_id, max_payload)


@needs_native
def test_c_takes_an_av_packet_without_copying_it_first() -> None:
    import av

    packet = av.Packet(b"\x01\x02\x03")
    assert native_packetize is not None
    assert native_packetize(packet, 9, 1300) == vp8.packetize_py(packet, 9, 1300)


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
