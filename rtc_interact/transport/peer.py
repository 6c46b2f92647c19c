"""aiortc peer-connection wiring shared by host and viewer."""

from __future__ import annotations

import ipaddress

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from . import aiortc_compat
from .aiortc_compat import ice_host_addresses

aiortc_compat.install()

EVENT_CHANNEL_ID = 0
EVENT_CHANNEL_LABEL = "rtc-interact/events"
FAST_CHANNEL_ID = 1
FAST_CHANNEL_LABEL = "rtc-interact/fast"
LOOPBACK: tuple[str, ...] = ("127.0.0.1",)


def new_peer_connection() -> RTCPeerConnection:
    """A peer connection that contacts no STUN or TURN server."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def open_event_channel(pc: RTCPeerConnection) -> RTCDataChannel:
    """The pre-negotiated (no DCEP round trip), ordered, reliable event channel."""
    return pc.createDataChannel(
        EVENT_CHANNEL_LABEL, negotiated=True, id=EVENT_CHANNEL_ID, ordered=True
    )


def open_fast_channel(pc: RTCPeerConnection) -> RTCDataChannel:
    """The pre-negotiated, unordered channel without SCTP retransmission (taps, acks, pings)."""
    return pc.createDataChannel(
        FAST_CHANNEL_LABEL, negotiated=True, id=FAST_CHANNEL_ID, ordered=False, maxRetransmits=0
    )


CONGESTED_BYTES = 512
"""Send-buffer level of the fast channel above which messages go without redundant copies."""


def congested(channel: RTCDataChannel) -> bool:
    """Whether the channel's send buffer is backing up (SCTP's congestion window is full)."""
    return bool(channel.bufferedAmount > CONGESTED_BYTES)


def choose_ice_addresses(
    configured: tuple[str, ...] | None, peer_host: str
) -> tuple[str, ...] | None:
    """Addresses to gather: the configured ones, else loopback when talking to a loopback host."""
    if configured is not None:
        return configured
    try:
        if ipaddress.ip_address(peer_host).is_loopback:
            return LOOPBACK
    except ValueError:
        if peer_host == "localhost":
            return LOOPBACK
    return None


async def set_local(
    pc: RTCPeerConnection, description: RTCSessionDescription, addresses: tuple[str, ...] | None
) -> str:
    """Apply a local description (gathering candidates on ``addresses``); returns the final SDP."""
    with ice_host_addresses(addresses):
        await pc.setLocalDescription(description)
    sdp: str = pc.localDescription.sdp
    return sdp
