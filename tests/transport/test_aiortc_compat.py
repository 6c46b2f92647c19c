"""Canaries: fail when an aiortc/aioice upgrade moves what aiortc_compat relies on."""

from __future__ import annotations

import asyncio
import contextlib
import inspect

import aioice
import aioice.ice
import aiortc
import pytest

from rtc_interact.transport import aiortc_compat
from rtc_interact.transport.peer import LOOPBACK


def test_pinned_versions() -> None:
    assert aiortc.__version__.startswith(aiortc_compat.TESTED_AIORTC)
    assert aioice.__version__.startswith(aiortc_compat.TESTED_AIOICE)


def test_gathering_still_calls_the_module_level_get_host_addresses() -> None:
    source = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in source
    assert aioice.ice.get_host_addresses is aiortc_compat._host_addresses


def test_stock_aioice_still_skips_loopback() -> None:
    # If this starts failing, aioice offers 127.0.0.1 itself and the wrapper may be unnecessary.
    assert "127.0.0.1" not in aiortc_compat._original(True, False)


async def test_wrapper_gathers_exactly_the_chosen_addresses() -> None:
    connection = aioice.Connection(ice_controlling=True)
    with aiortc_compat.ice_host_addresses(LOOPBACK):
        await connection.gather_candidates()
    try:
        assert [c.host for c in connection.local_candidates] == ["127.0.0.1"]
    finally:
        await connection.close()


def test_vp8_decoder_still_takes_depayloaded_frames_with_data() -> None:
    from aiortc.codecs import vpx
    from aiortc.jitterbuffer import JitterFrame

    params = inspect.signature(vpx.Vp8Decoder.decode).parameters
    assert list(params) == ["self", "encoded_frame"]
    assert "data" in inspect.signature(JitterFrame).parameters


def test_keyframe_counter_counts_vp8_key_frames_only() -> None:
    import fractions

    import av
    import numpy as np
    from aiortc.codecs import vpx
    from aiortc.jitterbuffer import JitterFrame

    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 176, 96, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90000)
    encoder.options = {"g": "5"}
    packets = []
    for i in range(10):
        frame = av.VideoFrame.from_ndarray(np.full((96, 176, 3), i * 20, np.uint8), format="rgb24")
        frame.pts = i * 3000
        packets += encoder.encode(frame.reformat(format="yuv420p"))
    decoder = vpx.Vp8Decoder()
    with aiortc_compat.count_vp8_keyframes() as counter:
        for packet in packets:
            decoder.decode(JitterFrame(data=bytes(packet), timestamp=0))
    assert counter.count == sum(p.is_keyframe for p in packets) == 2
    assert vpx.Vp8Decoder.decode.__name__ == "decode"


def test_timer_constants_still_exist_with_their_stock_values() -> None:
    import aioice.stun
    import aiortc.rtcsctptransport as sctp

    with aiortc_compat.stock_behaviour():
        assert (sctp.SCTP_RTO_INITIAL, sctp.SCTP_RTO_MIN) == (3.0, 1)
        assert aioice.stun.RETRY_RTO == 0.5
        assert aioice.ice.CONSENT_INTERVAL == 5
    assert (sctp.SCTP_RTO_INITIAL, sctp.SCTP_RTO_MIN, aioice.stun.RETRY_RTO) == (0.5, 0.4, 0.25)


def test_the_constants_are_read_where_we_rely_on_them() -> None:
    import aioice.stun
    import aiortc.rtcsctptransport as sctp

    assert "SCTP_RTO_INITIAL" in inspect.getsource(sctp.RTCSctpTransport.__init__)
    assert "SCTP_RTO_MIN" in inspect.getsource(sctp.RTCSctpTransport._update_rto)
    assert "RETRY_RTO" in inspect.getsource(aioice.stun.Transaction.__init__)
    connect = inspect.getsource(aiortc_compat._stock_connect)
    assert "self.query_consent()" in connect
    for name in ("_nominated", "build_request", "remote_password", "_query_consent_task"):
        assert name in inspect.getsource(aiortc_compat._stock_consent), name


def test_what_the_prompt_ice_completion_relies_on() -> None:
    connect = inspect.getsource(aiortc_compat._stock_connect)
    assert "asyncio.sleep(0.02)" in connect and "_check_periodic()" in connect  # the Ta loop
    assert "self._check_list_state.get()" in connect  # read only once that loop ends
    complete = inspect.getsource(aiortc_compat._stock_maybe_complete)
    assert "ICE_COMPLETED" in complete and "return True" in complete
    assert "self._closing = True" in inspect.getsource(aioice.ice.Connection.close)


async def _ice_pair_connects() -> tuple[bool, bool]:
    """Two aioice connections over loopback, with aioice's check loop held (its ``Ta`` ticks
    keep going) until released: whether ``connect`` returned on both sides while the loop was
    held, and (when it did: they are closed before the loop is released) whether a consent
    task was left running."""
    stock_periodic = aioice.ice.Connection._check_periodic
    release = asyncio.Event()

    def held_periodic(self: aioice.ice.Connection) -> bool:
        return stock_periodic(self) or not release.is_set()

    a = aioice.ice.Connection(ice_controlling=True, components=1)
    b = aioice.ice.Connection(ice_controlling=False, components=1)
    with aiortc_compat.ice_host_addresses(LOOPBACK):
        await asyncio.gather(a.gather_candidates(), b.gather_candidates())
    for one, other in ((a, b), (b, a)):
        for candidate in other.local_candidates:
            await one.add_remote_candidate(candidate)
        await one.add_remote_candidate(None)
        one.remote_username, one.remote_password = other.local_username, other.local_password
    aioice.ice.Connection._check_periodic = held_periodic  # type: ignore[method-assign]
    try:
        connecting = asyncio.ensure_future(asyncio.gather(a.connect(), b.connect()))
        done, _ = await asyncio.wait({connecting}, timeout=2.0)
        if done:
            await asyncio.gather(a.close(), b.close())  # before aioice's own loop has ended
        release.set()
        await asyncio.wait_for(connecting, 5.0)
        await asyncio.sleep(0.1)  # aioice's loop ends at its next tick
        consent = [c._query_consent_task for c in (a, b) if c._query_consent_task is not None]
        left_running = any(not task.done() for task in consent)
    finally:
        aioice.ice.Connection._check_periodic = stock_periodic  # type: ignore[method-assign]
        await asyncio.gather(a.close(), b.close())
    return bool(done), left_running


async def test_ice_connect_returns_when_the_check_list_completes_not_at_the_next_tick() -> None:
    assert await _ice_pair_connects() == (True, False)
    with aiortc_compat.stock_behaviour():  # aioice returns only once its loop ends
        assert (await _ice_pair_connects())[0] is False


class _SlowPeerProtocol:
    """A consent peer that answers nothing until ``answers_after`` seconds."""

    def __init__(self, answers_after: float) -> None:
        self.answers_after = answers_after
        self.requests = 0
        self.started = 0.0

    async def request(self, *args: object, **kwargs: object) -> None:
        import aioice.stun

        loop = asyncio.get_running_loop()
        self.started = self.started or loop.time()
        self.requests += 1
        await asyncio.sleep(0.001)
        if loop.time() - self.started < self.answers_after:
            raise aioice.stun.TransactionTimeout()


class _FakeConnection:
    def __init__(self, protocol: _SlowPeerProtocol) -> None:
        pair = type("Pair", (), {"protocol": protocol, "remote_addr": ("127.0.0.1", 9)})()
        self._nominated = {1: pair}
        self.remote_password = "pw"
        self._query_consent_task: object = "running"
        self.closed = False

    def build_request(self, pair: object, nominate: bool) -> object:
        return object()

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(("silence_s", "survives"), [(0.15, True), (10.0, False)])
async def test_consent_survives_silence_shorter_than_the_timeout(
    monkeypatch: pytest.MonkeyPatch, silence_s: float, survives: bool
) -> None:
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.01)
    monkeypatch.setattr(aiortc_compat, "CONSENT_TIMEOUT_S", 0.3)
    connection = _FakeConnection(_SlowPeerProtocol(answers_after=silence_s))
    task = asyncio.ensure_future(aiortc_compat._query_consent(connection))  # type: ignore[arg-type]
    await asyncio.sleep(0.6)
    assert connection.closed is not survives
    assert task.done() is not survives
    task.cancel()


async def _answer_and_connect(offerer: aiortc.RTCPeerConnection,
                              answerer: aiortc.RTCPeerConnection) -> None:
    """Give ``offerer`` the answer and wait until ``answerer`` is connected (ICE and DTLS)."""
    connected = asyncio.Event()

    @answerer.on("connectionstatechange")
    def on_state() -> None:
        if answerer.connectionState == "connected":
            connected.set()

    await offerer.setRemoteDescription(answerer.localDescription)
    async with asyncio.timeout(10):
        await connected.wait()


async def test_answer_as_dtls_server_makes_a_passive_answer_that_connects() -> None:
    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    try:
        offerer.createDataChannel("x", negotiated=True, id=0)
        answerer.createDataChannel("x", negotiated=True, id=0)
        offerer.addTransceiver("video", direction="recvonly")
        with aiortc_compat.ice_host_addresses(LOOPBACK):
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            stock = await answerer.createAnswer()
            assert "a=setup:active" in stock.sdp  # aiortc's own choice: we change this
            aiortc_compat.answer_as_dtls_server(answerer)
            answer = await answerer.createAnswer()
            assert "a=setup:passive" in answer.sdp and "a=setup:active" not in answer.sdp
            await answerer.setLocalDescription(answer)
        await _answer_and_connect(offerer, answerer)  # the handshake completed, roles swapped
        assert answerer.sctp is not None and answerer.sctp.transport._role == "server"
    finally:
        await offerer.close()
        await answerer.close()


async def test_dtls_handshake_datagrams_leave_twice_and_media_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[bytes] = []
    original = aioice.ice.StunProtocol.send_data

    async def counting(self: aioice.ice.StunProtocol, data: bytes, addr: tuple[str, int]) -> None:
        sent.append(bytes(data))
        await original(self, data, addr)

    monkeypatch.setattr(aioice.ice.StunProtocol, "send_data", counting)  # counts, still sends
    assert "self._connection.send" in inspect.getsource(aiortc.RTCIceTransport.__init__)
    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    try:
        channel = offerer.createDataChannel("x", negotiated=True, id=0)
        answerer.createDataChannel("x", negotiated=True, id=0)
        opened = asyncio.Event()
        channel.on("open", opened.set)
        with aiortc_compat.ice_host_addresses(LOOPBACK):
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        async with asyncio.timeout(10):
            await opened.wait()
        await asyncio.sleep(aiortc_compat.HANDSHAKE_COPY_GAP_S * 3)
    finally:
        await offerer.close()
        await answerer.close()
    handshake = [d for d in sent if d[0] == 22]
    assert handshake and all(handshake.count(d) >= 2 for d in handshake)
    sctp = [d for d in sent if d[0] == 23]  # SCTP over DTLS application data: never copied
    assert sctp and all(sctp.count(d) == 1 for d in sctp)


async def test_the_first_video_frame_leaves_twice_and_later_frames_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rtc_interact import Host, HostConfig, VideoConfig, Viewer, new_secret

    media: list[bytes] = []
    original = aioice.ice.StunProtocol.send_data

    async def counting(self: aioice.ice.StunProtocol, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 12 and data[0] >> 6 == 2 and not 192 <= data[1] <= 223:
            media.append(bytes(data))  # SRTP media (the RTP header is in clear)
        await original(self, data, addr)

    monkeypatch.setattr(aioice.ice.StunProtocol, "send_data", counting)
    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(320, 180, 30))
    async with Host(config) as host, \
            Viewer.connect(host.url, token=host.mint_token("first")) as viewer:
        async for _ in viewer.frames():
            break
        await asyncio.sleep(0.3)
    stamps = [d[4:8] for d in media]
    first = [d for d in media if d[4:8] == stamps[0]]
    later = [d for d in media if d[4:8] != stamps[0]]
    assert first and all(first.count(d) == 2 for d in first)
    assert later and all(later.count(d) == 1 for d in later)


class _CapturingDtls:
    """Stands in for the DTLS transport below an SCTP association: keeps what it is given."""

    state = "connected"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def _register_data_receiver(self, receiver: object) -> None:
        pass

    async def _send_data(self, data: bytes) -> None:
        self.sent.append(data)


async def _forward_tsns_after_abandon(sacks: int, rto: float) -> int:
    """FORWARD TSN chunks an association sends when one unordered ``maxRetransmits=0`` chunk
    is abandoned and then ``sacks`` stale SACKs (not yet covering it) arrive."""
    from aiortc.rtcsctptransport import ForwardTsnChunk, RTCSctpTransport, SackChunk, parse_packet

    dtls = _CapturingDtls()
    sctp = RTCSctpTransport(dtls)  # type: ignore[arg-type]
    sctp._association_state = sctp.State.ESTABLISHED
    sctp._remote_partial_reliability, sctp._remote_port = True, 5000
    await sctp._send(1, 53, b"tap", max_retransmits=0, ordered=False)
    sctp._rto = rto
    sctp._t3_expired()  # the chunk is abandoned: the peer must be told to skip it
    await asyncio.sleep(0)
    for _ in range(sacks):
        sack = SackChunk()
        sack.cumulative_tsn = sctp._last_sacked_tsn
        await sctp._receive_sack_chunk(sack)
    sctp._t3_cancel()
    return sum(isinstance(chunk, ForwardTsnChunk)
               for data in dtls.sent for chunk in parse_packet(data)[3])


async def test_an_unchanged_forward_tsn_is_repeated_once_per_rto_not_per_sack() -> None:
    assert await _forward_tsns_after_abandon(sacks=5, rto=10.0) == 1
    assert await _forward_tsns_after_abandon(sacks=5, rto=0.0) == 6  # the RTO passed each time
    with aiortc_compat.stock_behaviour():  # aiortc repeats it on every SACK
        assert await _forward_tsns_after_abandon(sacks=5, rto=10.0) == 6



async def _chunks_answering_a_message() -> list[str]:
    """The chunks a real peer sends after a message arrives that its handler answers at once
    (over loopback, after the channel has settled)."""
    from aiortc.rtcsctptransport import parse_packet

    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    try:
        asking = offerer.createDataChannel("x", negotiated=True, id=0)
        answering = answerer.createDataChannel("x", negotiated=True, id=0)
        with aiortc_compat.ice_host_addresses(LOOPBACK):
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            await answerer.setLocalDescription(await answerer.createAnswer())
        await _answer_and_connect(offerer, answerer)
        answered, opened = asyncio.Event(), asyncio.Event()
        asking.on("message", lambda _: answered.set())
        answering.on("message", lambda data: answering.send(b"ack " + data))
        asking.on("open", opened.set)
        async with asyncio.timeout(10):
            if asking.readyState != "open":
                await opened.wait()
            await asyncio.sleep(0.2)  # nothing else in flight
            sent: list[str] = []
            dtls = answerer.sctp.transport  # type: ignore[union-attr]
            stock_send = dtls._send_data

            async def send_data(data: bytes) -> None:
                sent.extend(type(chunk).__name__ for chunk in parse_packet(data)[3])
                await stock_send(data)

            dtls._send_data = send_data
            asking.send(b"tap")
            await answered.wait()
        return sent
    finally:
        await offerer.close()
        await answerer.close()


async def test_a_reply_made_in_the_message_handler_leaves_before_the_sack() -> None:
    assert (await _chunks_answering_a_message())[:2] == ["DataChunk", "SackChunk"]
    with aiortc_compat.stock_behaviour():  # aiortc: the SACK, then the queued reply
        assert (await _chunks_answering_a_message())[:2] == ["SackChunk", "DataChunk"]

async def _dtls_before_ice(monkeypatch: pytest.MonkeyPatch, early: bool) -> bool:
    """Whether the offerer's DTLS handshake ends before its own ICE checks complete, when the
    answerer's responses to those checks are held back for the first 0.6 s (its own checks,
    authenticated with the offerer's password, reach the offerer at once)."""
    import aioice.stun

    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    loop = asyncio.get_running_loop()
    start = loop.time()
    original = aioice.ice.StunProtocol.send_stun

    def slow_answers(self: aioice.ice.StunProtocol, message: aioice.stun.Message,
                     addr: tuple[str, int]) -> None:
        held = self.receiver is answerer.sctp.transport.transport._connection  # type: ignore[union-attr]
        if held and message.message_class == aioice.stun.Class.RESPONSE \
                and loop.time() - start < 0.6:
            return
        original(self, message, addr)

    monkeypatch.setattr(aioice.ice.StunProtocol, "send_stun", slow_answers)
    order: list[str] = []
    both = asyncio.Event()

    def note(what: str) -> None:
        order.append(what)
        if "dtls-connected" in order and "ice-completed" in order:
            both.set()

    try:
        for pc in (offerer, answerer):
            pc.createDataChannel("x", negotiated=True, id=0)
        offerer.on("iceconnectionstatechange", lambda: note(f"ice-{offerer.iceConnectionState}"))
        dtls = offerer.sctp.transport  # type: ignore[union-attr]
        dtls.on("statechange", lambda: note(f"dtls-{dtls.state}"))
        with aiortc_compat.ice_host_addresses(LOOPBACK):
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            aiortc_compat.answer_as_dtls_server(answerer)
            await answerer.setLocalDescription(await answerer.createAnswer())
        with aiortc_compat.early_dtls() if early else contextlib.nullcontext():
            await offerer.setRemoteDescription(answerer.localDescription)
        async with asyncio.timeout(10):
            await both.wait()
    finally:
        await offerer.close()
        await answerer.close()
    return order.index("dtls-connected") < order.index("ice-completed")


async def test_early_dtls_starts_once_the_remote_has_checked_us(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert await _dtls_before_ice(monkeypatch, early=True)
    assert not await _dtls_before_ice(monkeypatch, early=False)  # aiortc waits for its own check


def test_what_early_dtls_relies_on() -> None:
    start = inspect.getsource(aiortc_compat._stock_ice_start)
    assert "await self._connection.connect()" in start and '"completed"' in start
    connect = inspect.getsource(aiortc.RTCPeerConnection._RTCPeerConnection__connect)  # type: ignore[attr-defined]
    assert 'if dtlsTransport.state == "new":' in connect
    assert "self._nominated.get(component)" in inspect.getsource(aiortc_compat._stock_sendto)
    assert "self._queue.get()" in inspect.getsource(aiortc_compat._stock_recvfrom)
    incoming = inspect.getsource(aioice.ice.Connection.request_received)
    assert incoming.index("check_message_integrity") < incoming.index("self.check_incoming(")


async def test_a_late_send_on_an_early_path_closed_meanwhile_is_a_connection_error() -> None:
    # A handshake or first-frame copy leaves a few ms after its original; if the peer closed
    # in between, the early path's socket is gone and the copy must fail as a ConnectionError
    # (which _quiet_send expects), not as an AttributeError from inside asyncio.
    connection = aioice.Connection(ice_controlling=False)
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: aioice.ice.StunProtocol(connection), local_addr=(LOOPBACK[0], 0))
    connection.__dict__[aiortc_compat._EARLY] = True
    connection.__dict__[aiortc_compat._HEARD_PATH] = (protocol, transport.get_extra_info(
        "sockname"))
    await aiortc_compat._sendto(connection, b"early", 1)  # open: goes out on the early path
    transport.close()
    await asyncio.sleep(0)
    with pytest.raises(ConnectionError):
        await aiortc_compat._sendto(connection, b"late", 1)
    await aiortc_compat._quiet_send(connection, b"late")  # and the copy's sender stays quiet


async def _video_answer(offerer: aiortc.RTCPeerConnection,
                        answerer: aiortc.RTCPeerConnection) -> aiortc.RTCRtpSender:
    """A video offer answered over loopback (not yet applied by the offerer); the answerer's
    sender."""
    offerer.addTransceiver("video", direction="recvonly")
    with aiortc_compat.ice_host_addresses(LOOPBACK):
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
    return answerer.getTransceivers()[0].sender


async def test_ice_rtt_is_the_round_trip_of_an_answered_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.stun

    delay_s = 0.15  # every STUN answer leaves this late: a check takes at least that long
    original = aioice.ice.StunProtocol.send_stun

    def late(self: aioice.ice.StunProtocol, message: aioice.stun.Message,
             addr: tuple[str, int]) -> None:
        if message.message_class == aioice.stun.Class.RESPONSE:
            asyncio.get_running_loop().call_later(delay_s, original, self, message, addr)
        else:
            original(self, message, addr)

    monkeypatch.setattr(aioice.ice.StunProtocol, "send_stun", late)
    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    try:
        sender = await _video_answer(offerer, answerer)
        assert aiortc_compat.ice_rtt_s(sender) is None  # no check answered yet
        await _answer_and_connect(offerer, answerer)  # ICE completed: our check was answered
        rtt = aiortc_compat.ice_rtt_s(sender)
        assert rtt is not None and delay_s <= rtt < delay_s + 2.0  # (long only on a busy host)
    finally:
        await offerer.close()
        await answerer.close()


async def test_a_stun_server_query_is_no_round_trip_of_the_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import aioice.stun

    async def answered(self: object, request: aioice.stun.Message, addr: tuple[str, int],
                       *args: object, **kwargs: object) -> tuple[None, tuple[str, int]]:
        await asyncio.sleep(0.01)
        return None, addr

    monkeypatch.setattr(aiortc_compat, "_stock_request", answered)  # answers, sends nothing
    connection = types.SimpleNamespace()
    protocol = types.SimpleNamespace(receiver=connection)
    sender = types.SimpleNamespace(transport=types.SimpleNamespace(
        transport=types.SimpleNamespace(_connection=connection)))
    query = aioice.stun.Message(aioice.stun.Method.BINDING, aioice.stun.Class.REQUEST)
    await aiortc_compat._request(protocol, query, ("127.0.0.1", 3478))  # type: ignore[arg-type]
    assert aiortc_compat.ice_rtt_s(sender) is None  # a STUN server's answer: not the peer's
    check = aioice.stun.Message(aioice.stun.Method.BINDING, aioice.stun.Class.REQUEST)
    check.attributes["USERNAME"] = "peer:us"
    await aiortc_compat._request(protocol, check, ("127.0.0.1", 5000))  # type: ignore[arg-type]
    rtt = aiortc_compat.ice_rtt_s(sender)
    assert rtt is not None and 0.01 <= rtt < 1.0


async def test_an_ice_ping_is_sent_once_and_timed_even_past_stuns_retry_timer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.stun

    delay_s, answers = 0.3, {"drop": False}  # longer than RETRY_RTO (0.25 s with install())
    original = aioice.ice.StunProtocol.send_stun
    requests: list[aioice.stun.Message] = []

    def late(self: aioice.ice.StunProtocol, message: aioice.stun.Message,
             addr: tuple[str, int]) -> None:
        if message.message_class == aioice.stun.Class.REQUEST:
            requests.append(message)
            original(self, message, addr)
        elif not answers["drop"]:
            asyncio.get_running_loop().call_later(delay_s, original, self, message, addr)

    offerer, answerer = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    try:
        sender = await _video_answer(offerer, answerer)
        assert await aiortc_compat.ice_ping(sender) is None  # no pair nominated yet
        await _answer_and_connect(offerer, answerer)
        monkeypatch.setattr(aioice.ice.StunProtocol, "send_stun", late)
        requests.clear()
        rtt = await aiortc_compat.ice_ping(sender)
        assert rtt is not None and delay_s <= rtt < delay_s + 1.0  # (long only on a busy host)
        assert len(requests) == 1 and "USE-CANDIDATE" not in requests[0].attributes
        answers["drop"] = True
        assert await aiortc_compat.ice_ping(sender, timeout_s=0.5) is None  # lost
        connection = sender.transport.transport._connection
        pair = next(iter(connection._nominated.values()))
        assert not pair.protocol.transactions  # nothing left in aioice's table
    finally:
        await offerer.close()
        await answerer.close()


def test_an_init_leaves_with_verification_tag_zero_even_once_the_peers_tag_is_known() -> None:
    """RFC 9260 section 8.5.1. aiortc's ``_send_chunk`` writes the peer's tag into every packet
    through the module's ``serialize_packet``: after crossed INITs whose INIT ACKs were lost,
    each end dropped the other's retransmitted INIT, and the association never formed."""
    from aiortc.rtcsctptransport import DataChunk, InitChunk, parse_packet

    source = inspect.getsource(aiortc.rtcsctptransport.RTCSctpTransport._send_chunk)
    assert "serialize_packet(" in source and "self._remote_verification_tag" in source
    serialize = aiortc.rtcsctptransport.serialize_packet
    assert parse_packet(serialize(5000, 5000, 1234, InitChunk()))[2] == 0
    assert parse_packet(serialize(5000, 5000, 1234, DataChunk()))[2] == 1234
    with aiortc_compat.stock_behaviour():
        stock = aiortc.rtcsctptransport.serialize_packet
        assert parse_packet(stock(5000, 5000, 1234, InitChunk()))[2] == 1234
