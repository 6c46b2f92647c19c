"""The host's video fan-out: one ladder encoder for all viewers, or aiortc's per-viewer encoders.

With ``VideoConfig.encode_once`` (the default) every viewer's sender gets a
``media.ladder.RungTrack`` of a shared :class:`~rtc_interact.media.ladder.LadderEncoder`: the
sender only packetizes, PLI/FIR from the viewer become keyframe requests of its rung, and each
viewer gets a ``transport.abr_task.ViewerLink``: RTCP feedback, paced sending, gated
retransmissions and, with ``VideoConfig.abr``, its own ABR controller moving it between rungs
(:meth:`VideoFanout.set_rung` moves it by hand). A viewer that
negotiated another codec than VP8 (the ladder only makes VP8) gets the stock path.

With ``encode_once=False`` each viewer gets a ``MediaRelay`` subscription and aiortc's sender
encodes for it, as stock aiortc does.
"""

from __future__ import annotations

import time

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender
from aiortc.contrib.media import MediaRelay

from ..config import VideoConfig
from ..errors import ConfigurationError
from ..media.ladder import LadderEncoder, RungStats, RungTrack, default_ladder
from ..media.sources import TestPatternTrack
from ..media.vp8 import Vp8Packetizer
from .abr_task import LinkStats, ViewerLink
from .aiortc_sender import negotiated_codec, route_keyframe_requests, use_packetizer

LADDER_CODEC = "video/VP8"


class VideoFanout:
    """Gives each viewer's peer connection its video track; owns the shared encoders."""

    def __init__(self, source: MediaStreamTrack, config: VideoConfig) -> None:
        self._source, self._config = source, config
        self._relay = MediaRelay()
        ladder = config.ladder
        if ladder is None and isinstance(source, TestPatternTrack):  # its size is known now
            ladder = default_ladder(config.width, config.height, config.fps)
        self._ladder = LadderEncoder(source, ladder, config.fps) if config.encode_once else None
        self._links: dict[RungTrack, ViewerLink] = {}

    def offer_video(self, pc: RTCPeerConnection) -> None:
        """Add the send-only video transceiver of a host offer (``attach`` gives it its track
        once the answer is in). With the ladder, the offer asks for VP8 and its
        retransmissions only: the ladder makes nothing else (and the offer is shorter). The
        start rung is asked for a keyframe now: on a short path the viewer's DTLS ends ~150 ms
        later, and one asked for only at its answer was often not encoded yet then (the
        encoder takes the next source frame, 0-33 ms, and lags when the machine is busy)."""
        transceiver = pc.addTransceiver("video", direction="sendonly")
        if self._ladder is not None:
            wanted = (LADDER_CODEC.lower(), "video/rtx")
            transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                             if c.mimeType.lower() in wanted])
            self._ladder.prepare(self._start_rung())

    def attach(self, pc: RTCPeerConnection) -> MediaStreamTrack | None:
        """Add the video track to ``pc`` once its codec is known (after the viewer's offer,
        before the answer; or after the viewer's answer to the host's offer); None when the
        viewer asked for no video."""
        transceiver = next((t for t in pc.getTransceivers() if t.kind == "video"), None)
        if transceiver is None:
            return None
        if self._ladder is None or negotiated_codec(transceiver) != LADDER_CODEC:
            track: MediaStreamTrack = self._relay.subscribe(self._source, buffered=False)
            pc.addTrack(track)
            return track
        rung_track = self._ladder.subscribe(self._start_rung())
        sender = pc.addTrack(rung_track)
        use_packetizer(sender, Vp8Packetizer())
        link = ViewerLink(sender, rung_track, self._ladder, self._config.abr)

        route_keyframe_requests(sender, lambda: link.keyframe_request(time.monotonic()))
        self._links = {t: v for t, v in self._links.items() if t.readyState == "live"}
        self._links[rung_track] = link
        return rung_track

    def _start_rung(self) -> int:
        """The ABR start rung when the ladder is known already (else the top; the viewer's
        ABR moves it once the ladder is known)."""
        abr, ladder = self._config.abr, self._ladder.ladder if self._ladder else None
        if abr is None or ladder is None:
            return 0
        start = (len(ladder.rungs) - 1) // 2 if abr.start_rung is None else abr.start_rung
        return min(start, len(ladder.rungs) - 1)

    def link_stats(self, track: MediaStreamTrack | None) -> LinkStats | None:
        """The sending side of a viewer on the ladder path (None on the stock path)."""
        link = self._links.get(track) if isinstance(track, RungTrack) else None
        return None if link is None else link.stats()

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
        for link in list(self._links.values()):
            await link.aclose()
        if self._ladder is not None:
            await self._ladder.aclose()
