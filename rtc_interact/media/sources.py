"""Video sources for the host: a stamped test pattern, a media file, frames pushed by the app.

Each source is an aiortc ``MediaStreamTrack`` (kind video) paced in real time; the host fans it out
to every viewer.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque

import av
import numpy as np
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import VIDEO_TIME_BASE

from ..datachannel.clock import wall_ms
from ..errors import ConfigurationError
from .stamp import FrameStamp, Plane, burn_stamp


def _check_size(width: int, height: int, fps: float) -> None:
    if width < 176 or height < 96 or width % 2 or height % 2:
        raise ConfigurationError(f"frame size {width}x{height} must be even and at least 176x96")
    if not 1 <= fps <= 120:
        raise ConfigurationError(f"fps must be between 1 and 120, got {fps}")


class TestPatternTrack(VideoStreamTrack):
    """A moving pattern with the frame number and capture time burned into every frame."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, width: int = 640, height: int = 360, fps: float = 30.0) -> None:
        super().__init__()
        _check_size(width, height, fps)
        self.width, self.height, self.fps = width, height, fps
        ramp = np.linspace(40, 200, width, dtype=np.float32)
        rows = np.linspace(0.7, 1.3, height, dtype=np.float32)[:, None]
        self._background = np.clip(ramp[None, :] * rows, 16, 235).astype(np.uint8)
        self._chroma = np.full((height // 2, width), 128, dtype=np.uint8)
        self._chroma[: height // 4, :] = 96
        self._count = 0

    def _pattern(self, frame_no: int) -> Plane:
        shift = (frame_no * 6) % self.width
        luma = np.roll(self._background, shift, axis=1)
        bar = (frame_no * 4) % self.height
        luma[bar : bar + 12, :] = 235
        result: Plane = luma
        return result

    async def recv(self) -> av.VideoFrame:
        """Next frame, paced at ``fps``."""
        pts, time_base = await self.next_timestamp_at(self.fps)
        frame_no = self._count
        self._count += 1
        luma = self._pattern(frame_no)
        burn_stamp(luma, FrameStamp(frame_no, wall_ms()))
        frame = av.VideoFrame.from_ndarray(np.vstack([luma, self._chroma]), format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame

    async def next_timestamp_at(self, fps: float) -> tuple[int, fractions.Fraction]:
        """aiortc's pacing (``next_timestamp``) at our frame rate instead of its fixed 30 fps."""
        start = getattr(self, "_start", None)
        if start is None:
            self._start = time.time()
            self._timestamp = 0
        else:
            self._timestamp += int(90000 / fps)
            wait = self._start + (self._timestamp / 90000) - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return self._timestamp, VIDEO_TIME_BASE


class NumpyTrack(TestPatternTrack):
    """Frames pushed by the application as numpy arrays (RGB, height x width x 3, uint8).

    The newest pushed frame is sent at ``fps``; if the app pushes faster, older frames are dropped.
    Until the first push a stamped test pattern is sent.
    """

    def __init__(self, width: int = 640, height: int = 360, fps: float = 30.0) -> None:
        super().__init__(width, height, fps)
        self._pending: deque[av.VideoFrame] = deque(maxlen=1)
        self._last: av.VideoFrame | None = None

    def push(self, rgb: Plane) -> None:
        """Queue an RGB frame of the configured size."""
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ConfigurationError(
                f"expected uint8 array of shape {(self.height, self.width, 3)}, got "
                f"{rgb.dtype} {rgb.shape}"
            )
        self._pending.append(av.VideoFrame.from_ndarray(rgb, format="rgb24"))

    async def recv(self) -> av.VideoFrame:
        """The newest pushed frame (or the last one again), paced at ``fps``."""
        if self._pending:
            self._last = self._pending.popleft()
        if self._last is None:
            return await super().recv()
        pts, time_base = await self.next_timestamp_at(self.fps)
        frame = self._last.reformat(format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame


def file_track(path: str, loop: bool = True) -> MediaStreamTrack:
    """The video track of a media file, decoded by PyAV and paced in real time."""
    try:
        player = MediaPlayer(path, loop=loop)
    except (av.error.FFmpegError, OSError) as exc:
        raise ConfigurationError(f"cannot open media file {path!r}: {exc}") from None
    if player.video is None:
        raise ConfigurationError(f"media file {path!r} has no video stream")
    track: MediaStreamTrack = player.video
    return track
