"""DTLS false start (``aiortc_dtls``): two real aiortc peers over loopback, and canaries."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import Callable

import aioice.ice
import aiortc
import pytest
from aiortc.mediastreams import VideoStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport

from rtc_interact.transport import aiortc_compat, aiortc_dtls
from rtc_interact.transport.peer import LOOPBACK


def _other_fingerprint(sdp: str) -> str:
    """``sdp`` with the first byte of each certificate fingerprint changed."""
    def flip(found: re.Match[str]) -> str:
        first = found["byte"]
        return found["head"] + ("00" if first != "00" else "01")
    return re.sub(r"(?P<head>a=fingerprint:sha-256 )(?P<byte>[0-9A-F]{2})", flip, sdp)


async def _connect(false_start: bool, edit_answer: Callable[[str], str] = str) -> tuple[
        list[bool], bool, bool, str]:
    """A sending offerer made the DTLS client by a passive answer (as the page answers the
    host). Returns, for the offerer's DTLS transport, ``encrypted`` at each move to
    ``connected``; whether a frame reached the answerer and the channel opened; and the
    offerer's final connection state."""
    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    connected_while: list[bool] = []
    try:
        channel = offerer.createDataChannel("x", negotiated=True, id=0)
        answerer.createDataChannel("x", negotiated=True, id=0)
        opened = asyncio.Event()
        channel.on("open", opened.set)
        offerer.addTransceiver(VideoStreamTrack(), direction="sendonly")
        with aiortc_compat.ice_host_addresses(LOOPBACK):
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            aiortc_compat.answer_as_dtls_server(answerer)
            await answerer.setLocalDescription(await answerer.createAnswer())
        dtls: RTCDtlsTransport = offerer.getTransceivers()[0].sender.transport

        @dtls.on("statechange")
        def _moved() -> None:
            if dtls.state == "connected":
                connected_while.append(dtls.encrypted)

        answer = aiortc.RTCSessionDescription(edit_answer(answerer.localDescription.sdp),
                                              "answer")
        with aiortc_dtls.false_start() if false_start else contextlib.nullcontext():
            await offerer.setRemoteDescription(answer)
        track = answerer.getTransceivers()[0].receiver.track
        try:
            await asyncio.wait_for(track.recv(), 5)
            framed = True
        except (TimeoutError, aiortc.mediastreams.MediaStreamError):
            framed = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(opened.wait(), 5 if framed else 0.5)
        return connected_while, framed, opened.is_set(), offerer.connectionState
    finally:
        await offerer.close()
        await answerer.close()


async def test_a_client_sends_video_once_its_finished_has_left_not_after_the_servers() -> None:
    connected_while, framed, opened, state = await _connect(false_start=True)
    assert connected_while == [False]  # connected (and sending) before the handshake ended
    assert framed and opened and state == "connected"  # SRTP decrypted; SCTP went after
    connected_while, framed, opened, _ = await _connect(false_start=False)
    assert connected_while == [True] and framed and opened  # aiortc's own course


async def test_a_lost_client_hello_is_sent_again_before_openssls_timer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hellos: list[bytes] = []
    original = aioice.ice.StunProtocol.send_data

    async def lossy(self: aioice.ice.StunProtocol, data: bytes, addr: tuple[str, int]) -> None:
        if data[:1] == b"\x16" and len(data) > 13 and data[13] == 1:  # a DTLS ClientHello
            hellos.append(bytes(data))
            if len(hellos) <= 2:
                return  # lost: the original and aiortc_compat's copy, in one burst
        await original(self, data, addr)

    monkeypatch.setattr(aioice.ice.StunProtocol, "send_data", lossy)
    connected_while, framed, opened, _ = await _connect(false_start=True)
    assert connected_while == [False] and framed and opened
    # the third is our resend, byte for byte; OpenSSL's own retransmission (after 1 s) would
    # carry a new record sequence number
    assert len(hellos) >= 3 and hellos[2] == hellos[0]


async def test_stock_behaviour_has_no_false_start() -> None:
    with aiortc_compat.stock_behaviour():
        connected_while, framed, _, _ = await _connect(false_start=True)
    assert connected_while == [True] and framed


async def test_a_certificate_that_does_not_match_its_fingerprint_gets_no_media() -> None:
    connected_while, framed, opened, state = await _connect(True, _other_fingerprint)
    assert connected_while == [] and not framed and not opened and state == "failed"


async def test_no_false_start_with_a_suite_rfc_7918_does_not_allow(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc_dtls, "FALSE_START_CIPHERS", frozenset())
    connected_while, framed, _, _ = await _connect(false_start=True)
    assert connected_while == [True] and framed


def test_the_suites_allowed_are_ones_aiortc_offers() -> None:
    offered = inspect.getsource(aiortc.rtcdtlstransport.RTCCertificate._create_ssl_context)
    assert all(suite in offered for suite in aiortc_dtls.FALSE_START_CIPHERS)
    assert all(s.startswith("ECDHE-") and ("GCM" in s or "POLY1305" in s)
               for s in aiortc_dtls.FALSE_START_CIPHERS)


def test_what_false_start_relies_on() -> None:
    handshake = inspect.getsource(aiortc_dtls._stock_start.__globals__["RTCDtlsTransport"]
                                  ._do_handshake)
    # after writing each flight, the loop waits in _recv_next (where the false start is made)
    assert re.search(r"WantReadError:\s+await self\._write_ssl\(\)\s+await self\._recv_next\(\)",
                     handshake)
    start = inspect.getsource(aiortc_dtls._stock_start)
    order = [start.index(step) for step in ("await self._do_handshake()",
                                            "self._validate_peer_identity(remoteParameters)",
                                            "self._setup_srtp()",
                                            "self._set_state(State.CONNECTED)")]
    assert order == sorted(order)
    receive = inspect.getsource(aiortc_dtls._stock_recv_next)
    assert "self._rx_srtp" in receive and "self.__rx_packets += 1" in receive  # _datagrams_in
    assert "self._send = self._connection.send" in inspect.getsource(
        aiortc.RTCIceTransport.__init__)  # an instance attribute, which the resends replace
    assert "self._state != State.CONNECTED" in inspect.getsource(RTCDtlsTransport._send_rtp)
    connect = inspect.getsource(aiortc.RTCPeerConnection._RTCPeerConnection__connect)  # type: ignore[attr-defined]
    assert connect.index('if dtlsTransport.state == "connected":') < connect.index(
        "await transceiver.sender.send(")
