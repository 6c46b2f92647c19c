from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from rtc_interact.errors import ConfigurationError
from rtc_interact.media.sources import NumpyTrack, TestPatternTrack
from rtc_interact.media.stamp import FrameStamp, burn_stamp, read_stamp


@pytest.mark.parametrize("size", [(180, 320), (360, 640), (720, 1280)])
def test_stamp_round_trips(size: tuple[int, int]) -> None:
    luma = np.random.default_rng(1).integers(0, 255, size, dtype=np.uint8)
    stamp = FrameStamp(2**32 - 1, 1_795_000_000_123)
    burn_stamp(luma, stamp)
    assert read_stamp(luma) == stamp


def test_unstamped_or_damaged_frame_reads_as_none() -> None:
    luma = np.full((360, 640), 128, dtype=np.uint8)
    assert read_stamp(luma) is None
    burn_stamp(luma, FrameStamp(5, 6))
    luma[:20, 30:60] = 255 - luma[:20, 30:60]
    assert read_stamp(luma) is None


def test_too_narrow_frame_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        burn_stamp(np.zeros((100, 100), dtype=np.uint8), FrameStamp(1, 1))


async def test_stamp_survives_low_bitrate_vp8() -> None:
    track = TestPatternTrack(320, 180, 30)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 180, "yuv420p"
    encoder.bit_rate, encoder.time_base = 80_000, fractions.Fraction(1, 90000)
    decoder = av.CodecContext.create("libvpx", "r")
    read = []
    for _ in range(20):
        for packet in encoder.encode(await track.recv()):
            for frame in decoder.decode(packet):
                read.append(read_stamp(frame.to_ndarray()[:180]))
    assert len(read) >= 15
    assert [s.frame_no for s in read if s is not None] == list(range(len(read)))


async def test_numpy_track_sends_pushed_frames() -> None:
    track = NumpyTrack(176, 96, 30)
    first = await track.recv()
    assert read_stamp(first.to_ndarray()[:96]) is not None  # pattern until the first push
    track.push(np.full((96, 176, 3), 200, dtype=np.uint8))
    frame = await track.recv()
    assert frame.format.name == "yuv420p"
    assert abs(int(frame.to_ndarray(format="rgb24").mean()) - 200) <= 3
    with pytest.raises(ConfigurationError):
        track.push(np.zeros((10, 10, 3), dtype=np.uint8))


@pytest.mark.parametrize("level", [0, 16, 235, 255])
def test_uniform_frames_carry_no_stamp(level: int) -> None:
    assert read_stamp(np.full((180, 320), level, dtype=np.uint8)) is None


def test_implausible_latency_marks_a_stamp_that_passed_the_crc_by_chance() -> None:
    from rtc_interact.media.stamp import latency_ms

    assert latency_ms(FrameStamp(1, 1_000), 1_040) == 40.0
    assert latency_ms(FrameStamp(1, 5), 1_795_000_000_000) is None
    assert latency_ms(None, 5) is None
