"""The host's offer inside the page (``/?token=``): a real aiortc peer answers it over loopback."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from rtc_interact import Host
from rtc_interact import host as host_module
from rtc_interact.datachannel.codec import decode_downstream
from rtc_interact.datachannel.messages import Welcome
from rtc_interact.tokens import mint, new_secret
from rtc_interact.transport.aiortc_compat import answer_as_dtls_server
from rtc_interact.transport.aiortc_dtls import false_started
from rtc_interact.transport.peer import (
    LOOPBACK,
    new_peer_connection,
    open_event_channel,
    open_fast_channel,
    set_local,
)
from rtc_interact.transport.signaling import SDP
from rtc_interact.web.routes import offer_script, page_url

OFFER = re.compile(r"<script>window\.rtcOffer = (?P<json>.*?);</script>")


async def fetch_page(host: Host, token: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The page for ``token``: the offer it carries (None if none) and the response headers."""
    async with aiohttp.ClientSession() as http, http.get(page_url(host.url, token)) as r:
        assert r.status == 200
        html, headers = await r.text(), dict(r.headers)
    found = OFFER.search(html)
    return (json.loads(found["json"]) if found else None), headers


async def patch_answer(host: Host, location: str, token: str, sdp: str) -> tuple[int, str]:
    origin = host.url.rsplit("/", 1)[0]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": SDP}
    async with aiohttp.ClientSession() as http, http.patch(origin + location, data=sdp,
                                                           headers=headers) as r:
        return r.status, await r.text()


async def answer_offer(offer: dict[str, Any], passive: bool = False) -> tuple[
        RTCPeerConnection, asyncio.Queue[bytes]]:
    """A real peer answering the host's offer with its own two channels; as the DTLS server
    (``a=setup:passive``) if ``passive``, as the page does."""
    pc = new_peer_connection()
    channel = open_event_channel(pc)
    open_fast_channel(pc)
    received: asyncio.Queue[bytes] = asyncio.Queue()
    channel.on("message", received.put_nowait)
    await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
    if passive:
        answer_as_dtls_server(pc)
    await set_local(pc, await pc.createAnswer(), LOOPBACK)
    return pc, received


async def test_a_peer_answers_the_offer_in_the_page_and_is_welcomed(host: Host) -> None:
    token = host.mint_token("page")
    offer, headers = await fetch_page(host, token)
    assert offer is not None and offer["location"].startswith("/whep/sessions/")
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    video = offer["sdp"].split("m=video", 1)[1].split("m=", 1)[0]
    assert "a=sendonly" in video and "VP8/90000" in video and "H264" not in video
    # one fingerprint per m-line, the one browsers check: the page fits TCP's first window
    assert offer["sdp"].count("a=fingerprint:sha-256 ") == 2 and "sha-512" not in offer["sdp"]
    pc, received = await answer_offer(offer)
    try:
        assert await patch_answer(host, offer["location"], token, pc.localDescription.sdp) == (
            204, "")
        welcome = decode_downstream(await asyncio.wait_for(received.get(), 10))
        assert isinstance(welcome, Welcome) and welcome.identity == "page"
        track = next(t.receiver.track for t in pc.getTransceivers() if t.kind == "video")
        frame = await asyncio.wait_for(track.recv(), 10)
        assert frame.width > 0
        status, text = await patch_answer(host, offer["location"], token, pc.localDescription.sdp)
        assert status == 409 and "answer already" in text
        assert [v.identity for v in (await host.stats()).viewers] == ["page"]
    finally:
        await pc.close()


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
async def test_a_passive_answer_makes_the_host_a_dtls_client_that_false_starts(
        host: Host, passive: bool) -> None:
    token = host.mint_token("page")
    offer, _ = await fetch_page(host, token)
    assert offer is not None
    pc, received = await answer_offer(offer, passive)
    try:
        assert (await patch_answer(host, offer["location"], token, pc.localDescription.sdp))[0] \
            == 204
        assert isinstance(decode_downstream(await asyncio.wait_for(received.get(), 10)), Welcome)
        track = next(t.receiver.track for t in pc.getTransceivers() if t.kind == "video")
        assert (await asyncio.wait_for(track.recv(), 10)).width > 0
        host_pc = host._sessions[offer["location"].rsplit("/", 1)[1]].pc
        assert host_pc.sctp.transport._role == ("client" if passive else "server")
        assert false_started(host_pc) is passive
    finally:
        await pc.close()


async def test_a_bad_token_gets_the_page_with_the_reason_and_no_session(host: Host) -> None:
    offer, _ = await fetch_page(host, mint(new_secret(), "eve"))
    assert offer is not None and offer["error"].startswith("401") and "sdp" not in offer
    assert (await host.stats()).viewers == ()


async def test_without_a_token_in_the_query_the_page_makes_its_own_offer(host: Host) -> None:
    offer, _ = await fetch_page(host, "")  # /?token= with nothing: treated as a bad token
    assert offer is not None and "error" in offer
    page = page_url(host.url, host.mint_token("x"), host_offer=False)
    async with aiohttp.ClientSession() as http, http.get(page) as r:
        assert OFFER.search(await r.text()) is None  # /#token=: the GET has no token
    assert (await host.stats()).viewers == ()


async def test_a_bad_answer_is_400_and_ends_the_session(host: Host) -> None:
    token = host.mint_token("page")
    offer, _ = await fetch_page(host, token)
    assert offer is not None
    status, text = await patch_answer(host, offer["location"], token, "v=0\r\nm=nonsense\r\n")
    assert status == 400 and "answer" in text
    assert (await host.stats()).viewers == ()
    assert (await patch_answer(host, offer["location"], token, "v=0\r\n"))[0] == 404


async def test_an_unanswered_offer_ends_by_itself(host: Host,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_module, "ANSWER_TIMEOUT_S", 0.2)
    token = host.mint_token("page")
    offer, _ = await fetch_page(host, token)
    assert offer is not None and len((await host.stats()).viewers) == 1
    for _ in range(50):
        if not (await host.stats()).viewers:
            break
        await asyncio.sleep(0.05)
    assert (await host.stats()).viewers == ()
    assert (await patch_answer(host, offer["location"], token, "v=0\r\n"))[0] == 404


def test_the_offer_script_cannot_be_ended_by_what_it_carries() -> None:
    script = offer_script({"error": "</script><script>alert(1)</script>"})
    assert script.count("</script>") == 1 and script.endswith("</script>\n")
    assert json.loads(OFFER.search(script)["json"])["error"].startswith("</script>")  # type: ignore[index]
