"""The host's video fan-out: one ladder encoder for all viewers, or aiortc's per-viewer encoders.

With ``VideoConfig.encode_once`` (the default) every viewer's sender gets a
``media.ladder.RungTrack`` of a shared :class:`~rtc_interact.media.ladder.LadderEncoder`: the
sender only packetizes, PLI/FIR from the viewer become keyframe requests of its rung, and the
ABR controller moves viewers between rungs with :meth:`VideoFanout.set_rung`. A viewer that
negotiated another codec than VP8 (the ladder only makes VP8) gets the stock path.

With ``encode_once=False`` each viewer gets a ``MediaRelay`` subscription and aiortc's sender
encodes for it, as stock aiortc does.
"""

from __future__ import annotations

from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.contrib.media import MediaRelay

from ..config import VideoConfig
from ..errors import ConfigurationError
from ..media.ladder import LadderEncoder, RungStats, RungTrack
from ..media.vp8 import Vp8Packetizer
from .aiortc_sender import negotiated_codec, route_keyframe_requests, use_packetizer

LADDER_CODEC = "video/VP8"


class VideoFanout:
    """Gives each viewer's peer connection its video track; owns the shared encoders."""

    def __init__(self, source: MediaStreamTrack, config: VideoConfig) -> None:
        self._source = source
        self._relay = MediaRelay()
        self._ladder = LadderEncoder(source, config.ladder, config.fps) \
            if config.encode_once else None

    def attach(self, pc: RTCPeerConnection) -> MediaStreamTrack | None:
        """Add the video track to ``pc`` (after ``setRemoteDescription``, before the answer);
        None when the offer asked for no video."""
        transceiver = next((t for t in pc.getTransceivers() if t.kind == "video"), None)
        if transceiver is None:
            return None
        if self._ladder is None or negotiated_codec(transceiver) != LADDER_CODEC:
            track: MediaStreamTrack = self._relay.subscribe(self._source, buffered=False)
            pc.addTrack(track)
            return track
        rung_track = self._ladder.subscribe(0)
        sender = pc.addTrack(rung_track)
        route_keyframe_requests(sender, rung_track.request_keyframe)
        use_packetizer(sender, Vp8Packetizer())
        return rung_track

    def set_rung(self, track: MediaStreamTrack | None, rung: int) -> None:
        """Move a viewer's track to ``rung`` (0 is the top) at that rung's next keyframe."""
        if not isinstance(track, RungTrack):
            raise ConfigurationError("this viewer's video is not encoded once per rung")
        track.switch(rung)

    def rung_stats(self) -> tuple[RungStats, ...]:
        """Per rung: frames, keyframes, rate, viewers (empty on the per-viewer path)."""
        return () if self._ladder is None else self._ladder.stats()

    async def aclose(self) -> None:
        """Stop encoding (the source itself is the host's to stop)."""
        if self._ladder is not None:
            await self._ladder.aclose()
