"""Canaries for transport/aiortc_receiver.py (fail if an aiortc upgrade moves what it relies on),
and its adapters: decode queue, decoder-error flag, payload inspection, installation."""

from __future__ import annotations

import asyncio
import inspect
import socket
from fractions import Fraction

import aioice.ice
import av
import numpy as np
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.codecs import CODECS, get_capabilities
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcicetransport import RTCIceGatherer
from aiortc.rtcrtpreceiver import decoder_worker
from aiortc.rtp import RtcpPacket, RtcpRtpfbPacket, RtpPacket

from rtc_interact.transport import aiortc_receiver as rx
from rtc_interact.transport.peer import new_peer_connection, set_local
from rtc_interact.transport.receive_buffer import Frame

# canaries: the private names and call sites relied on


def test_the_receiver_still_routes_packets_through_the_replaced_collaborators() -> None:
    source = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "self.__nack_generator.add(packet)" in source
    assert "sorted(self.__nack_generator.missing)" in source
    assert "self.__jitter_buffer.add(packet)" in source
    assert "self.__decoder_error.is_set()" in source
    assert "self.__decoder_queue.put((codec, encoded_frame))" in source
    assert "self.__codecs.get(packet.payload_type)" in source
    assert source.index("__nack_generator.add") < source.index("packet._data = depayload")
    assert source.index("packet._data = depayload") < source.index("__jitter_buffer.add")


def test_receive_hands_the_queue_and_error_flag_to_the_decoder_thread() -> None:
    source = inspect.getsource(RTCRtpReceiver.receive)
    assert "self.__decoder_queue," in source and "self.__decoder_error," in source
    stop = inspect.getsource(getattr(RTCRtpReceiver, rx._PRIVATE + "stop_decoder"))
    assert "self.__decoder_queue.put(None)" in stop  # (the timed release stops on it)
    worker = inspect.getsource(decoder_worker)
    assert "input_q.get()" in worker and "decode_error.set()" in worker
    assert "decoder.decode(encoded_frame)" in worker


def test_peer_connections_create_transceivers_through_the_wrapped_method() -> None:
    assert hasattr(RTCPeerConnection, rx.CREATE_TRANSCEIVER)
    for method in (RTCPeerConnection.addTransceiver, RTCPeerConnection.addTrack):
        assert "self.__createTransceiver(" in inspect.getsource(method)


def test_aioice_keeps_its_sockets_where_we_raise_their_buffers() -> None:
    assert "_connection" in inspect.getsource(RTCIceGatherer.__init__)
    assert "self._protocols" in inspect.getsource(aioice.ice.Connection.__init__)
    assert "turn.UDP_SOCKET_BUFFER_SIZE" in inspect.getsource(aioice.ice.Connection)


def test_aiortc_video_codecs_are_the_ones_we_can_inspect() -> None:
    capabilities = get_capabilities("video")
    assert capabilities is not None
    names = {c.mimeType.lower() for c in capabilities.codecs} - {"video/rtx"}
    assert names == set(rx._INSPECTORS)
    assert CODECS["video"]


async def test_install_gives_a_video_receiver_our_collaborators_only() -> None:
    pc = new_peer_connection()
    try:
        receiving = rx.install_robust_receiving(pc)
        video = pc.addTransceiver("video", direction="recvonly").receiver
        audio = pc.addTransceiver("audio", direction="recvonly").receiver
        assert isinstance(getattr(video, rx.JITTER_BUFFER), rx.RobustJitterBuffer)
        assert isinstance(getattr(video, rx.NACK_GENERATOR), rx.RobustNackGenerator)
        assert isinstance(getattr(video, rx.DECODER_QUEUE), rx._DecodeQueue)
        assert isinstance(getattr(video, rx.DECODER_ERROR), rx._DecoderErrors)
        assert not isinstance(getattr(audio, rx.JITTER_BUFFER), rx.RobustJitterBuffer)
        assert receiving.stats() == rx.ReceiverStats(rtt_ms=200.0)
    finally:
        await pc.close()


async def test_a_stock_peer_connection_is_left_alone() -> None:
    installed, stock = new_peer_connection(), new_peer_connection()
    try:
        rx.install_robust_receiving(installed)
        receiver = stock.addTransceiver("video", direction="recvonly").receiver
        assert not isinstance(getattr(receiver, rx.JITTER_BUFFER), rx.RobustJitterBuffer)
    finally:
        await installed.close()
        await stock.close()


def _rmem_max() -> int:
    """The kernel's cap on SO_RCVBUF for unprivileged processes."""
    with open("/proc/sys/net/core/rmem_max") as f:
        return int(f.read())


async def test_socket_buffers_are_raised_on_the_gathered_sockets() -> None:
    pc = new_peer_connection()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        await set_local(pc, await pc.createOffer(), ("127.0.0.1",))
        transport = transceiver.receiver.transport
        sockets = [p.transport.get_extra_info("socket")
                   for p in transport.transport.iceGatherer._connection._protocols]
        before = min(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) for s in sockets)
        granted = rx.raise_receive_buffers(transport, 4 * 1024 * 1024)
        assert granted == min(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) for s in sockets)
        assert granted >= 2 * min(4 * 1024 * 1024, _rmem_max())
        assert granted >= before
    finally:
        await pc.close()


# adapters


def _frame(data: bytes, timestamp: int, keyframe: bool) -> Frame:
    return Frame(data, timestamp, keyframe)


def test_the_decode_queue_expands_batches_keeping_aiortcs_timestamp_mapping() -> None:
    errors = rx._DecoderErrors()
    q = rx._DecodeQueue(errors)
    batch = rx._Batch([_frame(b"a", 9000, True), _frame(b"b", 12000, False)])
    batch.timestamp = 0  # what aiortc's TimestampMapper makes of the first one
    assert not q.ready  # nothing through aiortc yet: the timed release waits
    q.put(("codec", batch))
    assert q.ready
    q.put(None)
    assert not q.ready  # aiortc stopped its decoder
    items = [q.get(), q.get(), q.get()]
    assert [(i[1].data, i[1].timestamp) for i in items[:2]] == [(b"a", 0), (b"b", 3000)]
    assert items[2] is None


def test_after_a_decode_error_the_decoder_gets_no_delta_frame_until_a_keyframe() -> None:
    errors = rx._DecoderErrors()
    q = rx._DecodeQueue(errors)
    for data, key in ((b"k1", True), (b"d1", False), (b"d2", False), (b"d3", False),
                      (b"k2", True), (b"d4", False)):
        q.put(("codec", rx._Encoded(_frame(data, 0, key), 0)))
    assert q.get()[1].data == b"k1"
    errors.set()  # the decoder failed on k1
    assert not errors.is_set() and errors.count == 1  # aiortc's own PLI path never fires
    assert q.get()[1].data == b"k2"
    assert q.get()[1].data == b"d4"
    assert q.skipped == 3


def _vp8_payloads(frames: int) -> list[list[bytes]]:
    encoder = Vp8Encoder()
    out = []
    for i in range(frames):
        picture = av.VideoFrame.from_ndarray(
            np.full((240, 320, 3), i * 20 % 256, dtype=np.uint8), format="rgb24")
        picture.pts, picture.time_base = i * 3000, Fraction(1, 90000)
        payloads, _ = encoder.encode(picture, force_keyframe=i == 0)
        out.append(payloads)
    return out


def test_vp8_payloads_reveal_frame_starts_and_keyframes() -> None:
    key, delta = _vp8_payloads(2)
    assert rx.inspect_vp8(key[0])[:3] == (True, True, False)
    assert rx.inspect_vp8(delta[0])[:3] == (True, False, False)
    assert all(rx.inspect_vp8(p)[:3] == (False, False, False) for p in key[1:])
    assert rx.inspect_vp8(b"") == (False, False, False, None)


def test_h264_keyframes_are_packets_that_carry_an_sps() -> None:
    sps, idr, slice_ = bytes([0x67, 1, 2]), bytes([0x65, 1]), bytes([0x41, 1])
    stap_a = bytes([0x78]) + len(sps).to_bytes(2, "big") + sps + len(idr).to_bytes(2, "big") + idr
    assert rx.inspect_h264(stap_a) == (True, True, False, None)
    assert rx.inspect_h264(sps) == (True, True, False, None)
    assert rx.inspect_h264(slice_) == (False, False, False, None)
    assert rx.inspect_h264(b"") == (False, False, False, None)


def _handle(receiver: RTCRtpReceiver, packet: RtpPacket) -> None:
    """What aiortc's ``_handle_rtp_packet`` does with a depayloaded packet: the NACK generator,
    then the buffer, and a frame the buffer returns goes to the decode queue."""
    packet._data = packet.payload  # type: ignore[attr-defined]  # (aiortc depayloads)
    getattr(receiver, rx.NACK_GENERATOR).add(packet)
    buffer = getattr(receiver, rx.JITTER_BUFFER)
    _, batch = buffer.add(packet)
    if batch is not None:
        buffer.queue.put(("vp8", batch))


async def test_a_held_frame_goes_to_the_decoder_at_its_time_when_no_packet_follows() -> None:
    """After a loss the buffer holds frames for a playout delay; when the link then brings
    nothing, the frame due meanwhile still goes out (a timer polls the buffer)."""
    pc, now = new_peer_connection(), [0.0]
    try:
        rx.install_robust_receiving(pc, clock=lambda: now[0])
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        buffer = getattr(receiver, rx.JITTER_BUFFER)
        frames, seq = _vp8_payloads(4), 0
        first_seq = []
        for payloads in frames:
            first_seq.append(seq)
            seq += len(payloads)

        def arrive(index: int, at_ms: float) -> None:
            now[0] = at_ms
            for k, payload in enumerate(frames[index]):
                _handle(receiver, RtpPacket(payload_type=96, sequence_number=first_seq[index] + k,
                                            timestamp=index * 3000, payload=payload,
                                            marker=k == len(frames[index]) - 1))

        arrive(0, 0.0)
        arrive(2, 66.7)  # frame 1 is lost ...
        arrive(3, 100.0)
        arrive(1, 120.0)  # ... and retransmitted: 1 and 2 go, 3 waits for its playout time
        released = [buffer.queue.get(block=False)[1].timestamp for _ in range(3)]
        assert released == [0, 3000, 6000] and buffer.queue.empty()
        now[0] = 200.0  # past frame 3's time, and no packet comes
        await asyncio.sleep(5 * rx.RELEASE_POLL_S)
        assert buffer.queue.get(block=False)[1].timestamp == 9000
        assert not buffer.frames.holding
    finally:
        await pc.close()


def test_the_receiver_still_sends_nacks_through_send_rtcp_nack() -> None:
    source = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "await self._send_rtcp_nack(" in source
    assert list(inspect.signature(RTCRtpReceiver._send_rtcp_nack).parameters) == [
        "self", "media_ssrc", "lost"]


async def test_a_silence_is_nacked_by_the_timer_without_waiting_for_the_next_packet() -> None:
    """A loss burst: no packet comes. The timer NACKs the packets that would have come (the
    RTCP leaves through aiortc's own ``_send_rtcp_nack``; the transport's send is recorded)."""
    pc, now, sent = new_peer_connection(), [0.0], []
    try:
        rx.install_robust_receiving(pc, clock=lambda: now[0])
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        receiver._set_rtcp_ssrc(1111)

        async def record(data: bytes) -> None:
            sent.extend(p for p in RtcpPacket.parse(data) if isinstance(p, RtcpRtpfbPacket))

        receiver.transport._send_rtp = record  # the DTLS transport's send, recorded
        for seq, payload in enumerate(p for frame in _vp8_payloads(6) for p in frame):
            now[0] = seq * 10.0
            _handle(receiver, RtpPacket(payload_type=96, sequence_number=seq,
                                        timestamp=seq * 900, payload=payload, ssrc=2222,
                                        marker=True))
        last = seq
        now[0] = last * 10.0 + 40.0
        await asyncio.sleep(3 * rx.RELEASE_POLL_S)
        assert sent == []  # 40 ms: not yet a silence
        now[0] = last * 10.0 + 80.0
        await asyncio.sleep(3 * rx.RELEASE_POLL_S)
        assert [p.media_ssrc for p in sent] == [2222]
        assert sent[0].lost == list(range(last + 1, last + 9))
    finally:
        await pc.close()
