"""Two real aiortc peers connect through the link emulator after front_sdp (relay.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiortc

from rtc_interact.linkemu import LinkEmulator, iter_sdp_candidates
from rtc_interact.transport.aiortc_compat import ice_host_addresses
from rtc_interact.transport.peer import LOOPBACK, new_peer_connection


async def test_datachannel_crosses_the_emulated_link() -> None:
    loop = asyncio.get_running_loop()
    with ice_host_addresses(LOOPBACK):
        async with LinkEmulator("rtt150", seed=1) as emu:
            host, viewer = new_peer_connection(), new_peer_connection()
            try:
                channel = host.createDataChannel("events")
                received: asyncio.Future[float] = loop.create_future()

                def on_message(message: object) -> None:
                    if not received.done():
                        received.set_result(loop.time())

                def on_channel(dc: Any) -> None:
                    dc.on("message", on_message)

                viewer.on("datachannel", on_channel)
                opened = asyncio.Event()
                channel.on("open", opened.set)
                await host.setLocalDescription(await host.createOffer())
                offer = await emu.front_sdp(host.localDescription.sdp, "a")
                assert [c.addr for c in iter_sdp_candidates(offer)] == [
                    emu.proxy_for(c.addr) for c in iter_sdp_candidates(host.localDescription.sdp)
                ]
                await viewer.setRemoteDescription(aiortc.RTCSessionDescription(offer, "offer"))
                await viewer.setLocalDescription(await viewer.createAnswer())
                answer = await emu.front_sdp(viewer.localDescription.sdp, "b")
                await host.setRemoteDescription(aiortc.RTCSessionDescription(answer, "answer"))
                await asyncio.wait_for(opened.wait(), 10)
                sent = loop.time()
                channel.send("tap")
                arrived = await asyncio.wait_for(received, 5)
                assert arrived - sent >= 0.075  # one-way base delay of rtt150
                stats = emu.stats()
                assert stats.unroutable == 0
                assert stats.a_to_b.counters.delivered > 3 and stats.b_to_a.counters.delivered > 3
            finally:
                await host.close()
                await viewer.close()
