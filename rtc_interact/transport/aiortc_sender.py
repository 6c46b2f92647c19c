"""aiortc's RTP sender with pre-encoded video: the sibling of ``aiortc_compat`` for the sender.

Like ``aiortc_compat`` (see its docstring), this is one of the only two modules that reach into
aiortc 1.16 internals; ``tests/transport/test_aiortc_sender.py`` holds canary tests that fail if an
upgrade moves what is relied on here. Nothing of aiortc's is copied: single sender instances are
given a different collaborator.

* **Keyframe requests.** On RTCP PLI or FIR, ``RTCRtpSender._handle_rtcp_packet`` calls
  ``self._send_keyframe()``, which only sets a flag that the sender passes to its encoder on the
  next *raw* frame. A track that yields encoded ``av.Packet``s (``media.ladder.RungTrack``) never
  sees that flag. :func:`route_keyframe_requests` wraps ``_send_keyframe`` on one sender instance
  so that the request also reaches a callback (the viewer's rung), then does what aiortc did.
* **Packetizer.** For an ``av.Packet``, the sender calls ``encoder.pack(packet)`` on the encoder
  it created lazily with ``codecs.get_encoder`` and keeps in its private ``__encoder`` attribute.
  :func:`use_packetizer` places our own object there before the sender starts, so VP8 payload
  packetization runs in ``rtc_interact.media.vp8`` (C when the native extension is built).
* **Negotiated codec.** Encoded packets are only valid for the codec they were made for, so the
  host checks :func:`negotiated_codec`: after ``setRemoteDescription`` the transceiver's
  ``_codecs`` hold the codecs in the order the sender will use (``codecs[0]`` is sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aiortc import RTCRtpSender, RTCRtpTransceiver

_ENCODER_ATTRIBUTE = "_RTCRtpSender__encoder"
"""Where aiortc 1.16's RTCRtpSender keeps its encoder (name-mangled ``self.__encoder``)."""


class Packetizer(Protocol):
    """What the sender needs from its encoder for pre-encoded input."""

    def pack(self, packet: Any) -> tuple[list[bytes], int]:
        """RTP payloads of one encoded frame, and its timestamp on the 90 kHz clock."""


def route_keyframe_requests(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the remote end asks ``sender`` for a keyframe (PLI/FIR)."""
    stock: Callable[[], None] = sender._send_keyframe

    def send_keyframe() -> None:
        callback()
        stock()

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]


def use_packetizer(sender: RTCRtpSender, packetizer: Packetizer) -> None:
    """Make ``sender`` packetize pre-encoded frames with ``packetizer`` (before it starts)."""
    if getattr(sender, _ENCODER_ATTRIBUTE, None) is not None:
        raise RuntimeError("the sender already has an encoder; install the packetizer earlier")
    setattr(sender, _ENCODER_ATTRIBUTE, packetizer)


def negotiated_codec(transceiver: RTCRtpTransceiver) -> str | None:
    """The MIME type the transceiver will send (``video/VP8``), None before negotiation."""
    codecs = getattr(transceiver, "_codecs", None) or []
    return str(codecs[0].mimeType) if codecs else None
