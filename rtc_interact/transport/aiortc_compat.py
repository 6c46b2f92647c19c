"""Where rtc-interact changes aiortc / aioice behaviour (with its two siblings, listed at the end).

aiortc is pinned to 1.16 (aioice 0.13). Everything here relies on internals of those versions, and
``tests/transport/test_aiortc_compat.py`` holds canary tests that fail if an upgrade moves them.

What is changed, and why:

* **Host candidate addresses.** ``aioice.ice.get_host_addresses`` lists every interface
  address except 127.0.0.1, so two peers on one machine cannot meet on loopback, and a host
  bound to 127.0.0.1 would advertise other interfaces. We wrap that function: inside
  ``with ice_host_addresses(("127.0.0.1",)):`` gathering offers exactly the listed
  addresses; outside it, aioice's own choice stands. The choice travels in a ``ContextVar``,
  so concurrent peers with different settings do not interfere (aiortc gathers inside
  ``setLocalDescription``, in the caller's task).
* **Timers.** aiortc keeps them in module constants, read when used. ``install()`` sets:
  ``SCTP_RTO_INITIAL`` 3 s -> 0.5 s and ``SCTP_RTO_MIN`` 1 s -> 0.4 s (libwebrtc's dcsctp
  defaults; RFC 9260 itself lowered RTO.Initial to 1 s), so a lost INIT or DATA chunk costs half
  a second instead of three, or one; and aioice's STUN ``RETRY_RTO`` 0.5 s -> 0.25 s, so a lost
  connectivity check is retried sooner (a spurious retry on a long path costs one small packet).
  DTLS retransmission is OpenSSL's own timer (1 s) and is not reachable from pyOpenSSL.
* **ICE consent (RFC 7675).** aioice sends one consent request every ~5 s, waits 0.5 s for the
  answer with no retransmission, and closes after six failures in a row, so any stretch of RTT
  above 0.5 s ends the session after ~30 s. ``Connection.query_consent`` is replaced: each check
  is retransmitted (up to ``CONSENT_RETRANSMISSIONS``) and consent expires only after
  ``CONSENT_TIMEOUT_S`` (RFC 7675's 30 s) without any answer.
* **DTLS role of the answerer.** aiortc always answers ``a=setup:active`` (the answerer is the
  DTLS client), so the host starts the handshake only once the viewer has nominated an ICE pair,
  and as client finishes last. ``answer_as_dtls_server(pc)``, called between
  ``setRemoteDescription`` and ``createAnswer``, presets the role of every DTLS transport of the
  answering peer to ``server`` (``a=setup:passive``, allowed by RFC 8842 section 5.3 when the
  offer says ``actpass``). The offerer then starts the handshake as soon as its own ICE check
  succeeds (Chromium: one round trip earlier than the nomination reaches the host), and the host,
  as server, may send media as soon as it has sent its Finished. It relies on
  ``RTCDtlsTransport._role`` being consulted by ``createAnswer`` (canary test).
* **DTLS handshake redundancy.** A lost handshake flight waits for OpenSSL's retransmission
  timer (1 s, then 2 s, ...), which pyOpenSSL does not let us shorten; with 2% loss each way about
  one connect in seven lost a flight, and that was the whole p95 of connect time. Every datagram
  that leaves through ``aioice.ice.Connection.send`` and starts with a DTLS handshake or
  ChangeCipherSpec record (first byte 22 or 20: only during the handshake) is sent once more
  ``HANDSHAKE_COPY_GAP_S`` later, after the rest of its flight, so one lost packet no longer costs
  a second. DTLS discards the duplicate (RFC 6347 section 4.2.4 retransmission handling). SCTP
  data (record type 23) and STUN are not copied.
* **First video frame redundancy.** The same wrapper sends the SRTP packets of the first frame of
  each RTP stream (the first RTP timestamp seen per SSRC on the connection; the header is in
  clear) once more ``FIRST_FRAME_COPY_GAP_S`` later: a joining viewer's first keyframe is 5-25
  packets, and at 2% loss a third of the joins lost one and waited for NACK, retransmission or a
  new keyframe. The receiver's SRTP replay check drops the copy when the original arrived.
* **FORWARD TSN once per round trip.** With partial reliability (our fast, ``maxRetransmits=0``
  channel), aiortc rebuilds and sends the FORWARD TSN chunk (RFC 3758) on every SACK it gets
  until the peer's cumulative TSN reaches it. The peer answers every FORWARD TSN with a SACK, so
  once a chunk has been abandoned the two ends ping-pong FORWARD TSN / SACK packets for as long
  as anything is in flight; on a lossy 400 kbps link (mobile-3g-weak) that was ~400 extra packets
  a second each way, the link queue filled to its 800 ms limit and taps took seconds.
  ``RTCSctpTransport._update_advanced_peer_ack_point`` is wrapped: a FORWARD TSN whose cumulative
  TSN equals the one last sent is repeated only once the association's RTO has passed since
  (the T3 timer is kept running so a lost one is still repeated), while a new one (the point
  advanced) still leaves at once, as RFC 3758 section 3.5 C3 allows.
* **A reply before the SACK.** aiortc answers a packet of DATA with a SACK at once, when its
  chunks have been handled. A message the application sends from its ``message`` handler (the
  host's tap acknowledgement) is only queued then, and a task sends it on a later turn of the
  loop, after the SACK: on loopback the acknowledgement left 0.2 ms after it, and the peer
  handled the SACK's packet first. ``RTCSctpTransport._send_sack`` is wrapped: if messages are
  queued, they are flushed first (``_data_channel_flush``, the method that task runs; it then
  finds the queue empty). The SACK follows a few microseconds later, as RFC 9260 allows.
* **An INIT carries verification tag 0.** aiortc writes every packet's common header with the
  peer's tag, INIT included, once it knows that tag. When both ends' INITs cross (WebRTC: both
  start the association) and both INIT ACKs are lost, each end's retransmitted INIT carries
  the other's tag, which the other drops (RFC 9260 section 8.5.1 wants 0), and the
  association never forms: on abr-300-loss3, seed 6, the event channel never opened in 30 s
  (``benchmarks/RESULTS.md`` §29.6). ``serialize_packet`` is wrapped to write 0 for an INIT.
* **DTLS as soon as the host has checked us (viewer side, ``early_dtls()``).** aiortc starts DTLS
  only when ICE has completed: the viewer's own check must come back, one round trip after the
  answer. But the host starts its checks when it answers, so its first check reaches the viewer
  together with the answer, and that check carries MESSAGE-INTEGRITY keyed with the viewer's own
  ICE password: the sender provably holds the viewer's offer and is listening at that address.
  Inside ``with early_dtls():`` (the viewer wraps ``setRemoteDescription`` of the answer in it;
  aiortc's connect task inherits the context) ``RTCIceTransport.start`` returns as soon as such
  an authenticated check has arrived, or when ICE completes, whichever is first; aiortc then
  starts DTLS while ICE goes on checking in the background (its state still says ``checking``
  until it really completes, and ICE failure still fails the connection). Until a pair is
  nominated, ``Connection.sendto`` sends to the address the check came from and
  ``Connection.recvfrom`` reads the data aioice queued anyway. The DTLS ClientHello thus leaves
  one round trip earlier and the first media packet lands at 4 RTT from ``connect()`` instead
  of 5. (RFC 8445 wants a successful check before data; a check *from* the peer, authenticated
  with our password, is the consent that rule protects, RFC 7675.) The host does the same with
  the page's answer to its offer, where the page made the host the DTLS client
  (``aiortc_dtls``): its ClientHello leaves when the page's first check arrives.
* **ICE completes when it completes.** aioice's ``Connection.connect`` paces its checks in a
  loop that sleeps 20 ms (RFC 8445's Ta) between them, and reads the check list's result only
  when that loop ends, at the tick after the list has completed: 0-20 ms after the nominated
  pair's check succeeded (8-19 ms measured on loopback), while DTLS waits for it and the
  peer's ClientHello may already be waiting too. ``Connection._check_list_maybe_complete`` is
  wrapped to set an event when it completes the list, and ``connect`` returns on that event.
  aioice's own ``connect`` keeps running in the background and ends at its next tick (it
  cancels the checks left and starts consent; if the connection was closed in between, that
  consent task is cancelled).
* **Round trip of the ICE checks.** The ABR controller needs to know whether a path is long
  (a retransmission cannot land within the viewer's playout delay) before the first receiver
  report, which comes 1-3 s into the video. ``StunProtocol.request`` is wrapped: a request
  with a USERNAME (a connectivity or consent check to the peer, not a STUN server query) that
  gets its answer records the time it took, and :func:`ice_rtt_s` gives the smallest such time
  of a sender's ICE connection. It errs only long: a retransmitted check by the retry timer,
  and the host's first check by the time the viewer takes to apply our answer (aioice answers
  a check that comes before that only then). The ABR controller wants 1.2 x its threshold from
  the checks alone, and the receiver reports' round trips correct it later.
* **ICE pings (an extra request, no change).** :func:`ice_ping` times one binding request (a
  consent check, which any ICE agent answers) on the nominated pair, for the ABR's queue sign.
  Its own transaction sits in ``StunProtocol.transactions``: aioice's ``request`` gives up on a
  single send after ``RETRY_RTO``, shorter than a long path's round trip.
* ``stock_behaviour()`` puts all of this back for a block, so the benchmarks' stock-aiortc
  baseline runs as shipped in the same process.
* **Keyframe counting (benchmarks only).** aiortc decodes VP8 with libvpx, whose decoded frames
  carry no keyframe flag. ``count_vp8_keyframes()`` wraps ``aiortc.codecs.vpx.Vp8Decoder.decode``
  while it is active and counts depayloaded frames whose VP8 header says "key frame" (the P bit,
  bit 0 of the first byte, is 0; RFC 6386 section 9.1). Behaviour is unchanged.
* **Frame counting without decoding (fan-out benchmark only).** ``count_vp8_frames()`` wraps the
  same method, counts the complete frames each decoder is given, and decodes them only for the
  first ``decode_first`` decoders; the others return no picture. This lets one process play 32
  viewers that really receive, depacketize and reassemble every frame without 32 VP8 decoders.
* The RTP sender of pre-encoded video (keyframe requests, packetizer) is changed in the sibling
  module ``transport/aiortc_sender.py``, and the DTLS client's false start in
  ``transport/aiortc_dtls.py`` (whose changes ``install()`` and ``stock_behaviour()`` include);
  each documents its own reliance on aiortc internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import random
import struct
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import aioice.ice
import aioice.stun
import aiortc.rtcicetransport
import aiortc.rtcsctptransport
from aiortc.codecs import vpx
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcsctptransport import RTCSctpTransport
from av.frame import Frame

from ..errors import ConfigurationError
from . import aiortc_dtls
from .background import keep, until_set

TESTED_AIORTC = "1.16."
TESTED_AIOICE = "0.13."

_addresses: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "rtc_interact_ice_addresses", default=None
)
_original: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = _addresses.get()
    if chosen is None:
        return _original(use_ipv4, use_ipv6)
    return [a for a in chosen if (use_ipv6 if ":" in a else use_ipv4)]


HANDSHAKE_COPY_GAP_S = 0.008
"""Delay of the copy of a DTLS handshake datagram (after the rest of a flight has left)."""
FIRST_FRAME_COPY_GAP_S = 0.012
"""Delay of the copy of a packet of a stream's first frame (after the frame has left)."""
_FIRST_TIMESTAMPS = "_rtc_interact_first_ts"
_stock_send = aioice.ice.Connection.send


def _event(connection: aioice.ice.Connection, key: str) -> asyncio.Event:
    """The event kept on ``connection`` under ``key``."""
    event: asyncio.Event = connection.__dict__.setdefault(key, asyncio.Event())
    return event


async def _send(self: aioice.ice.Connection, data: bytes) -> None:
    """``Connection.send`` that repeats DTLS handshake datagrams (see the module docstring)."""
    await _stock_send(self, data)
    if aiortc_dtls.is_handshake(data):
        asyncio.get_running_loop().call_later(HANDSHAKE_COPY_GAP_S, _send_copy, self, data)
    elif _first_frame_packet(self, data):
        asyncio.get_running_loop().call_later(FIRST_FRAME_COPY_GAP_S, _send_copy, self, data)


def _first_frame_packet(connection: aioice.ice.Connection, data: bytes) -> bool:
    """Whether ``data`` is SRTP media of the first frame of its stream on ``connection``."""
    if len(data) < 12 or data[0] >> 6 != 2 or 192 <= data[1] <= 223:  # not RTP, or RTCP
        return False
    timestamp, ssrc = struct.unpack_from("!II", data, 4)
    first: dict[int, int] = connection.__dict__.setdefault(_FIRST_TIMESTAMPS, {})
    return bool(first.setdefault(ssrc, timestamp) == timestamp)


def _send_copy(connection: aioice.ice.Connection, data: bytes) -> None:
    keep(asyncio.ensure_future(_quiet_send(connection, data)))


async def _quiet_send(connection: aioice.ice.Connection, data: bytes) -> None:
    with contextlib.suppress(ConnectionError):  # the connection may have closed meanwhile
        await _stock_send(connection, data)


CONSENT_RETRANSMISSIONS = 4
CONSENT_TIMEOUT_S = 30.0

_TIMERS: dict[tuple[ModuleType, str], float] = {
    (aiortc.rtcsctptransport, "SCTP_RTO_INITIAL"): 0.5,
    (aiortc.rtcsctptransport, "SCTP_RTO_MIN"): 0.4,
    (aioice.stun, "RETRY_RTO"): 0.25,
}
_stock_consent = aioice.ice.Connection.query_consent
_stock_advance = RTCSctpTransport._update_advanced_peer_ack_point
_LAST_FORWARD_TSN = "_rtc_interact_forward_tsn"


async def _query_consent(self: aioice.ice.Connection) -> None:
    """RFC 7675 consent freshness that tolerates long round trips (see the module docstring)."""
    assert self.remote_password is not None
    loop = asyncio.get_running_loop()
    last_answer = loop.time()
    while True:
        await asyncio.sleep(aioice.ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
        for pair in list(self._nominated.values()):
            with contextlib.suppress(aioice.stun.TransactionError):
                await pair.protocol.request(
                    self.build_request(pair, nominate=False), pair.remote_addr,
                    integrity_key=self.remote_password.encode("utf8"),
                    retransmissions=CONSENT_RETRANSMISSIONS,
                )
                last_answer = loop.time()
        if loop.time() - last_answer > CONSENT_TIMEOUT_S:
            self._query_consent_task = None
            await self.close()
            return


def _advance_peer_ack_point(self: RTCSctpTransport) -> None:
    """aiortc's RFC 3758 ack-point update, repeating an unchanged FORWARD TSN once per RTO."""
    _stock_advance(self)
    chunk = self._forward_tsn_chunk
    if chunk is None:
        return
    now = asyncio.get_running_loop().time()
    last: tuple[int, float] | None = self.__dict__.get(_LAST_FORWARD_TSN)
    if last is not None and last[0] == chunk.cumulative_tsn and now - last[1] < self._rto:
        self._forward_tsn_chunk = None
        if self._t3_handle is None:  # so that a lost FORWARD TSN is still repeated
            self._t3_start()
        return
    self.__dict__[_LAST_FORWARD_TSN] = (chunk.cumulative_tsn, now)


_early: contextvars.ContextVar[bool] = contextvars.ContextVar("rtc_interact_early_dtls",
                                                             default=False)
_HEARD = "_rtc_interact_heard"
_HEARD_PATH = "_rtc_interact_heard_path"
_EARLY = "_rtc_interact_early"
_stock_check_incoming = aioice.ice.Connection.check_incoming
_stock_sendto = aioice.ice.Connection.sendto
_stock_recvfrom = aioice.ice.Connection.recvfrom
_stock_ice_start = aiortc.rtcicetransport.RTCIceTransport.start


@contextlib.contextmanager
def early_dtls() -> Iterator[None]:
    """ICE transports started within this block let DTLS begin once the remote's first
    authenticated check has arrived (see the module docstring)."""
    token = _early.set(True)
    try:
        yield
    finally:
        _early.reset(token)


def _heard(connection: aioice.ice.Connection) -> asyncio.Event:
    """Set once an authenticated check from the remote has arrived on ``connection``."""
    return _event(connection, _HEARD)


def _check_incoming(self: aioice.ice.Connection, message: Any, addr: tuple[str, int],
                    protocol: Any) -> None:
    """aioice's handling of an authenticated incoming check; remembers where the first came
    from (aioice calls this only after MESSAGE-INTEGRITY and USERNAME passed)."""
    _stock_check_incoming(self, message, addr, protocol)
    if not _heard(self).is_set():
        self.__dict__[_HEARD_PATH] = (protocol, addr)
        _heard(self).set()


def _early_path(connection: aioice.ice.Connection, component: int) -> tuple[Any, Any] | None:
    """Where early data goes: nowhere once a pair is nominated, when not early, or once the
    early path's socket is closing (then aioice's own ``sendto`` says ConnectionError)."""
    if component in connection._nominated or not connection.__dict__.get(_EARLY):
        return None
    path: tuple[Any, Any] | None = connection.__dict__.get(_HEARD_PATH)
    if path is not None and path[0].transport.is_closing():
        return None
    return path


async def _sendto(self: aioice.ice.Connection, data: bytes, component: int) -> None:
    """aioice's ``sendto``; before nomination, to where the remote's check came from."""
    path = _early_path(self, component)
    if path is None:
        return await _stock_sendto(self, data, component)
    protocol, addr = path
    await protocol.send_data(data, addr)


async def _recvfrom(self: aioice.ice.Connection) -> tuple[bytes, int]:
    """aioice's ``recvfrom``; before nomination, what it queued from the early path."""
    if _early_path(self, 1) is None:  # nominated, or not early
        return await _stock_recvfrom(self)
    result: tuple[bytes, int] | None = await self._queue.get()
    if result is None:
        raise ConnectionError("Connection lost while receiving data")
    return result


async def _ice_start(self: Any, remoteParameters: Any) -> None:
    """``RTCIceTransport.start`` that, inside ``early_dtls()``, returns once the remote has
    checked us; the checks go on in the background."""
    if not _early.get():
        return await _stock_ice_start(self, remoteParameters)
    connection = self._connection
    connection.__dict__[_EARLY] = True
    # left running, aiortc's start records a failure in the transport's state itself
    await until_set(_stock_ice_start(self, remoteParameters), _heard(connection))


_COMPLETED = "_rtc_interact_completed"
_stock_connect = aioice.ice.Connection.connect
_stock_maybe_complete = aioice.ice.Connection._check_list_maybe_complete


def _completed(connection: aioice.ice.Connection) -> asyncio.Event:
    """Set once ``connection``'s check list has completed (every component nominated)."""
    return _event(connection, _COMPLETED)


def _check_list_maybe_complete(self: aioice.ice.Connection) -> bool:
    """aioice's completion test; also wakes ``_connect``."""
    done: bool = _stock_maybe_complete(self)
    if done:
        _completed(self).set()
    return done


async def _connect(self: aioice.ice.Connection) -> None:
    """aioice's ``connect``, returning as soon as the check list completes; the rest of it
    (cancelling the checks left, starting consent) finishes in the background within a tick."""
    left = await until_set(_stock_connect(self), _completed(self))
    if left is not None:
        left.add_done_callback(lambda _: _no_consent_once_closed(self))


def _no_consent_once_closed(connection: aioice.ice.Connection) -> None:
    """aioice's ``connect`` starts consent checks when it ends; if the connection was closed
    meanwhile (``close`` ran in that tick), they must not run."""
    task = connection._query_consent_task
    if connection._closing and task is not None:
        task.cancel()


_ICE_RTT = "_rtc_interact_ice_rtt"
_stock_request = aioice.ice.StunProtocol.request


async def _request(self: aioice.ice.StunProtocol, request: aioice.stun.Message,
                   addr: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
    """aioice's STUN transaction; a check to the peer records how long its answer took."""
    if "USERNAME" not in request.attributes:
        return await _stock_request(self, request, addr, *args, **kwargs)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await _stock_request(self, request, addr, *args, **kwargs)
    took, seen = loop.time() - started, self.receiver.__dict__.get(_ICE_RTT)
    self.receiver.__dict__[_ICE_RTT] = took if seen is None else min(seen, took)
    return result


def _ice_connection(sender: Any) -> Any:
    """The aioice connection under ``sender`` (an ``RTCRtpSender``), None without one yet."""
    return getattr(getattr(sender.transport, "transport", None), "_connection", None)


def ice_rtt_s(sender: Any) -> float | None:
    """Smallest round trip of an answered ICE check (any candidate pair, consent checks too)
    of the ICE connection under ``sender`` (an ``RTCRtpSender``); None before one, or when
    the sender has no transport yet."""
    connection = _ice_connection(sender)
    rtt: float | None = None if connection is None else connection.__dict__.get(_ICE_RTT)
    return rtt


PING_TIMEOUT_S = 2.0
"""An ICE ping (``ice_ping``) not answered within this long counts as lost."""


class _Ping:
    """One binding request in aioice's table of transactions, answered once."""

    def __init__(self, key: bytes) -> None:
        self.key, self.answered = key, asyncio.get_running_loop().create_future()

    def response_received(self, message: aioice.stun.Message, addr: tuple[str, int]) -> None:
        """aioice's ``StunProtocol`` hands each response to its transaction here."""
        if message.message_class == aioice.stun.Class.RESPONSE and not self.answered.done() \
                and message.check_message_integrity(self.key):
            self.answered.set_result(asyncio.get_running_loop().time())


async def ice_ping(sender: Any, timeout_s: float = PING_TIMEOUT_S) -> float | None:
    """Round trip, in seconds, of one binding request sent once (no retransmission) on the
    nominated ICE pair under ``sender`` (an ``RTCRtpSender``); None before a pair is nominated
    or without an answer within ``timeout_s``."""
    connection = _ice_connection(sender)
    pair = None if connection is None else next(iter(connection._nominated.values()), None)
    if pair is None or connection.remote_password is None:
        return None
    request, key = connection.build_request(pair, False), connection.remote_password.encode()
    request.add_message_integrity(key)
    ping, table = _Ping(key), pair.protocol.transactions
    table[request.transaction_id] = ping
    started = asyncio.get_running_loop().time()
    try:
        pair.protocol.send_stun(request, pair.remote_addr)
        answered: float = await asyncio.wait_for(ping.answered, timeout_s)
        return answered - started
    except (TimeoutError, OSError, AttributeError):  # lost, or the transport has gone
        return None
    finally:
        table.pop(request.transaction_id, None)


_stock_send_sack = RTCSctpTransport._send_sack


async def _send_sack(self: RTCSctpTransport) -> None:
    """aiortc's SACK, after any message the application queued while the packet was handled."""
    if self._data_channel_queue:
        await self._data_channel_flush()
    await _stock_send_sack(self)


_stock_serialize_packet = aiortc.rtcsctptransport.serialize_packet


def _serialize_packet(source_port: int, destination_port: int, verification_tag: int,
                      chunk: Any) -> bytes:
    """aiortc's SCTP packet, with the verification tag 0 that a packet with an INIT has."""
    init = isinstance(chunk, aiortc.rtcsctptransport.InitChunk)
    return _stock_serialize_packet(source_port, destination_port,
                                   0 if init else verification_tag, chunk)


_CHANGES: dict[tuple[Any, str], Any] = {
    **_TIMERS,
    (aiortc.rtcsctptransport, "serialize_packet"): _serialize_packet,
    (aioice.ice.Connection, "query_consent"): _query_consent,
    (aioice.ice.Connection, "send"): _send,
    (RTCSctpTransport, "_update_advanced_peer_ack_point"): _advance_peer_ack_point,
    (RTCSctpTransport, "_send_sack"): _send_sack,
    (aioice.ice.Connection, "check_incoming"): _check_incoming,
    (aioice.ice.Connection, "sendto"): _sendto,
    (aioice.ice.Connection, "recvfrom"): _recvfrom,
    (aiortc.rtcicetransport.RTCIceTransport, "start"): _ice_start,
    (aioice.ice.StunProtocol, "request"): _request,
    (aioice.ice.Connection, "connect"): _connect,
    (aioice.ice.Connection, "_check_list_maybe_complete"): _check_list_maybe_complete,
    **aiortc_dtls.CHANGES,
}
_STOCK: dict[tuple[Any, str], Any] = {key: getattr(*key) for key in _CHANGES}


def _set(values: dict[tuple[Any, str], Any]) -> None:
    for (owner, name), value in values.items():
        setattr(owner, name, value)


def install() -> None:
    """Apply everything above (idempotent). Called when ``transport.peer`` is imported."""
    if aioice.ice.get_host_addresses is not _host_addresses:
        aioice.ice.get_host_addresses = _host_addresses
    _set(_CHANGES)


@contextlib.contextmanager
def stock_behaviour() -> Iterator[None]:
    """aiortc's own timers, consent check, datagram sending, FORWARD TSN and INIT header within
    this block (loopback gathering stays)."""
    _set(_STOCK)
    try:
        yield
    finally:
        _set(_CHANGES)


@contextlib.contextmanager
def ice_host_addresses(addresses: tuple[str, ...] | None) -> Iterator[None]:
    """Within this block, ICE gathering offers exactly ``addresses`` (None: aioice's default)."""
    if addresses is not None:
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigurationError(f"not an IP address: {address!r}") from None
    token = _addresses.set(addresses)
    try:
        yield
    finally:
        _addresses.reset(token)


def answer_as_dtls_server(pc: Any) -> None:
    """Make the answer of ``pc`` say ``a=setup:passive`` (see the module docstring)."""
    for transport in aiortc_dtls.dtls_transports(pc):
        if transport._role == "auto":
            transport._role = "server"


class KeyframeCounter:
    """How many VP8 keyframes the process's aiortc decoders have been given."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def count_vp8_keyframes() -> Iterator[KeyframeCounter]:
    """Count keyframes entering any aiortc VP8 decoder within this block (not re-entrant)."""
    counter = KeyframeCounter()
    original = vpx.Vp8Decoder.decode

    def decode(self: vpx.Vp8Decoder, encoded_frame: JitterFrame) -> list[Frame]:
        data = getattr(encoded_frame, "data", b"")
        if data and not data[0] & 0x01:
            counter.count += 1
        return original(self, encoded_frame)

    vpx.Vp8Decoder.decode = decode  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        vpx.Vp8Decoder.decode = original  # type: ignore[method-assign]


class FrameCounter:
    """Complete VP8 frames given to each aiortc decoder of the process, in order of creation."""

    def __init__(self) -> None:
        self.frames: dict[int, int] = {}
        """Frames per decoder (keyed by ``id`` of the decoder)."""
        self.decoded = 0
        """Frames that libvpx decoded to a picture."""

    def counts(self) -> list[int]:
        """Frames per decoder, first-created decoder first."""
        return list(self.frames.values())


@contextlib.contextmanager
def count_vp8_frames(decode_first: int = 1) -> Iterator[FrameCounter]:
    """Count frames entering any aiortc VP8 decoder; decode only the first ``decode_first``."""
    counter = FrameCounter()
    original = vpx.Vp8Decoder.decode

    def decode(self: vpx.Vp8Decoder, encoded_frame: JitterFrame) -> list[Frame]:
        key = id(self)
        if key not in counter.frames:
            counter.frames[key] = 0
        counter.frames[key] += 1
        if list(counter.frames).index(key) >= decode_first:
            return []
        frames = original(self, encoded_frame)
        counter.decoded += len(frames)
        return frames

    vpx.Vp8Decoder.decode = decode  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        vpx.Vp8Decoder.decode = original  # type: ignore[method-assign]
