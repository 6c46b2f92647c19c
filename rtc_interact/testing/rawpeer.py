"""A bare protocol client: plain aiortc, our signaling, raw bytes on the event channel.

Tests use it to send what a well-behaved ``Viewer`` never would (malformed msgpack, unknown types),
and it doubles as a small example of a third-party client written from docs/PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from ..transport.peer import LOOPBACK, new_peer_connection, open_event_channel, set_local
from ..transport.signaling import WhepClient


@dataclass
class RawPeer:
    """An open connection to a host with direct access to the event channel."""

    pc: RTCPeerConnection
    """The aiortc peer connection."""
    channel: RTCDataChannel
    """The pre-negotiated event channel (id 0)."""
    inbox: asyncio.Queue[bytes | str] = field(default_factory=asyncio.Queue)
    """Every message the host sent, raw."""

    def send(self, data: bytes | str) -> None:
        """Send raw bytes (or a text frame) on the event channel."""
        self.channel.send(data)

    async def receive(self, timeout_s: float = 5.0) -> bytes | str:
        """The next raw message from the host."""
        async with asyncio.timeout(timeout_s):
            return await self.inbox.get()


@asynccontextmanager
async def raw_peer(url: str, token: str, timeout_s: float = 10.0) -> AsyncIterator[RawPeer]:
    """Connect with no video, over loopback, and yield once the event channel is open."""
    pc = new_peer_connection()
    peer = RawPeer(pc, open_event_channel(pc))
    opened = asyncio.get_running_loop().create_future()
    peer.channel.on("open", lambda: None if opened.done() else opened.set_result(None))
    peer.channel.on("message", peer.inbox.put_nowait)
    client = WhepClient(url, token)
    try:
        offer = await set_local(pc, await pc.createOffer(), LOOPBACK)
        answer = await client.offer(offer)
        await pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
        async with asyncio.timeout(timeout_s):
            await opened
        yield peer
        await client.leave(answer.location)
    finally:
        await client.aclose()
        await pc.close()
