"""Canaries for transport/aiortc_sender.py: fail if an aiortc upgrade moves what it relies on."""

from __future__ import annotations

import inspect

import av
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtcpReceiverInfo, RtpPacket, unwrap_rtx

from rtc_interact.media.ladder import TIME_BASE
from rtc_interact.media.vp8 import Vp8Packetizer, mark_layer
from rtc_interact.transport.aiortc_sender import (
    SendCounter,
    _vp8_inspect,
    negotiated_codec,
    report_rtt,
    route_keyframe_requests,
    send_copy,
    use_packetizer,
)
from rtc_interact.transport.peer import new_peer_connection


def test_pli_and_fir_still_call_send_keyframe_on_the_instance() -> None:
    source = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "RTCP_PSFB_PLI" in source and "RTCP_PSFB_FIR" in source
    assert "self._send_keyframe()" in source


def test_packets_still_go_to_the_lazily_created_encoders_pack() -> None:
    source = inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert "if self.__encoder is None" in source
    assert "self.__encoder.pack(data)" in source


async def _video_sender() -> tuple[RTCPeerConnection, RTCRtpSender]:
    pc = new_peer_connection()
    transceiver = pc.addTransceiver("video", direction="sendonly")
    return pc, transceiver.sender


async def test_the_encoder_attribute_exists_and_starts_empty() -> None:
    pc, sender = await _video_sender()
    try:
        assert getattr(sender, "_RTCRtpSender__encoder") is None  # noqa: B009
        packetizer = Vp8Packetizer()
        use_packetizer(sender, packetizer)
        assert getattr(sender, "_RTCRtpSender__encoder") is packetizer  # noqa: B009
    finally:
        await pc.close()


async def test_routed_keyframe_request_reaches_the_callback_and_aiortc() -> None:
    pc, sender = await _video_sender()
    calls: list[int] = []
    try:
        route_keyframe_requests(sender, lambda: calls.append(1))
        sender._send_keyframe()
        assert calls == [1]
        assert getattr(sender, "_RTCRtpSender__force_keyframe") is True  # noqa: B009  # aiortc's own flag still set
    finally:
        await pc.close()


async def test_negotiated_codec_reads_the_codec_the_sender_will_use() -> None:
    viewer, host = new_peer_connection(), new_peer_connection()
    try:
        viewer.addTransceiver("video", direction="recvonly")
        await viewer.setLocalDescription(await viewer.createOffer())
        await host.setRemoteDescription(viewer.localDescription)
        transceiver = host.getTransceivers()[0]
        assert negotiated_codec(transceiver) == "video/VP8"  # aiortc offers VP8 first
    finally:
        await viewer.close()
        await host.close()


def test_packetizer_gives_the_90khz_timestamp_and_advances_the_picture_id() -> None:
    packet = av.Packet(b"\x10" * 3000)
    packet.pts, packet.time_base = 180_000, TIME_BASE
    packetizer = Vp8Packetizer()
    first_id = packetizer.picture_id
    payloads, timestamp = packetizer.pack(packet)
    assert timestamp == 180_000
    assert len(payloads) == 3 and all(len(p) <= 1300 for p in payloads)
    assert packetizer.picture_id == (first_id + 1) & 0x7FFF


def test_rtcp_handling_still_retransmits_through_the_instance_and_computes_rtt() -> None:
    source = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "await self._retransmit(seq)" in source
    assert "self.__rtt = " in source and "report.fraction_lost" in source
    assert "unpack_remb_fci(packet.fci)" in source


def test_rtp_loop_still_sends_each_packet_through_the_transport() -> None:
    source = inspect.getsource(RTCRtpSender._run_rtp)
    assert "await self._next_encoded_frame(codec)" in source
    assert "await self.transport._send_rtp(packet_bytes)" in source
    assert "packet.extensions.mid = self.__mid" in source
    retransmit = inspect.getsource(RTCRtpSender._retransmit)
    assert "self.__rtx_sequence_number = uint16_add(self.__rtx_sequence_number, 1)" in retransmit
    assert "payload_type=self.__rtx_payload_type" in retransmit
    assert "packet.serialize(self.__rtp_header_extensions_map)" in retransmit


def test_receivers_unwrap_rtx_before_the_nack_generator_sees_the_packet() -> None:
    """A copy reaches our NackScheduler under the original's sequence number."""
    source = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    unwrap = source.index("packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)")
    assert unwrap < source.index("self.__nack_generator.add(packet)")


async def test_a_copy_is_an_rtx_packet_that_unwraps_to_its_original() -> None:
    pc, sender = await _video_sender()
    sent: list[bytes] = []

    async def capture(data: bytes) -> None:
        sent.append(data)

    try:
        extensions = getattr(sender, "_RTCRtpSender__rtp_header_extensions_map")  # noqa: B009
        extensions.configure(RTCRtpParameters(headerExtensions=[RTCRtpHeaderExtensionParameters(
            id=3, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")]))
        setattr(sender, "_RTCRtpSender__rtx_payload_type", 97)  # noqa: B010
        setattr(sender, "_RTCRtpSender__rtx_sequence_number", 65535)  # noqa: B010
        sender.transport._send_rtp = capture  # type: ignore[method-assign]
        original = RtpPacket(payload_type=96, sequence_number=7, timestamp=9, ssrc=sender._ssrc,
                             payload=b"\x10frame", marker=1)
        original.extensions.abs_send_time = 1
        counter = SendCounter()
        await send_copy(sender, counter, original.serialize(extensions))
        copy = RtpPacket.parse(sent[0], extensions)
        assert (copy.payload_type, copy.ssrc, copy.sequence_number) == (97, sender._rtx_ssrc,
                                                                        65535)
        assert getattr(sender, "_RTCRtpSender__rtx_sequence_number") == 0  # noqa: B009
        assert copy.extensions.abs_send_time != 1  # stamped when it leaves
        back = unwrap_rtx(copy, payload_type=96, ssrc=sender._ssrc)
        assert (back.sequence_number, back.timestamp, back.marker, back.payload) == \
            (7, 9, 1, b"\x10frame")
        assert counter.copy_bytes == len(sent[0])
    finally:
        await pc.close()


def test_a_report_gives_its_own_round_trip_from_lsr_and_dlsr() -> None:
    sent = (3_900_000_000 << 32) | (1 << 31)  # NTP time of the SR: 3.9e9 s and a half
    report = RtcpReceiverInfo(ssrc=1, fraction_lost=0, packets_lost=0, highest_sequence=0,
                              jitter=0, lsr=(sent >> 16) & 0xFFFFFFFF, dlsr=65536 // 10)
    later = sent + int(0.35 * (1 << 32))  # the report arrives 350 ms after the SR left
    assert abs((report_rtt(report, later) or 0) - 0.25) < 1e-4  # less 100 ms held
    no_sr = RtcpReceiverInfo(ssrc=1, fraction_lost=0, packets_lost=0, highest_sequence=0,
                             jitter=0, lsr=0, dlsr=0)
    assert report_rtt(no_sr, later) is None


def test_receivers_count_and_drop_rtx_padding() -> None:
    source = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "payload_size=len(packet.payload) + packet.padding_size" in source
    assert "len(packet.payload) < 2" in source


async def test_the_private_sender_attributes_exist() -> None:
    pc, sender = await _video_sender()
    try:
        for name in ("rtt", "rtx_sequence_number", "rtx_payload_type", "mid",
                     "rtp_header_extensions_map"):
            assert hasattr(sender, f"_RTCRtpSender__{name}"), name
    finally:
        await pc.close()


def _rtp(payload: bytes) -> bytes:
    packet = RtpPacket(payload_type=96, sequence_number=7, timestamp=1)
    packet.extensions.abs_send_time = 123
    packet.payload = payload
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=3, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")]))
    return packet.serialize(extensions)


def test_keyframe_starts_are_recognised_in_our_packets() -> None:
    key, delta = av.Packet(b"\x10" * 2000), av.Packet(b"\x11" * 2000)  # P bit 0: keyframe
    for packet in (key, delta):
        packet.pts, packet.time_base = 0, TIME_BASE
    key_payloads, _ = Vp8Packetizer().pack(key)
    delta_payloads, _ = Vp8Packetizer().pack(delta)
    assert _vp8_inspect(_rtp(key_payloads[0])) == (True, False)
    assert _vp8_inspect(_rtp(key_payloads[1])) == (False, False)  # not the start of the frame
    assert _vp8_inspect(_rtp(delta_payloads[0])) == (False, False)
    mark_layer(delta, droppable=True)  # the ladder's mark of a droppable frame
    assert _vp8_inspect(_rtp(Vp8Packetizer().pack(delta)[0][1])) == (False, True)


def test_sctp_packets_leave_through_the_dtls_transports_send_data() -> None:
    """``count_data`` wraps that method to count data-channel traffic beside the video."""
    import aiortc.rtcsctptransport

    chunk = inspect.getsource(aiortc.rtcsctptransport.RTCSctpTransport._send_chunk)
    assert "self.__transport._send_data(" in chunk
    assert inspect.iscoroutinefunction(aiortc.RTCDtlsTransport._send_data)
