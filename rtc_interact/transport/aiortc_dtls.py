"""DTLS false start (RFC 7918) for the host as the DTLS client.

The third of the modules that reach into aiortc 1.16 internals (with ``aiortc_compat``, which
installs this one's changes and puts them back in ``stock_behaviour()``, and ``aiortc_sender``);
``tests/transport/test_aiortc_dtls.py`` holds canary tests that fail if an upgrade moves what is
relied on here. Nothing of aiortc's is copied.

**Why.** With the host's offer in the page (docs/PROTOCOL.md section 2.6) Chromium answers, and
by default it answers ``a=setup:active``: it is the DTLS client. Its ClientHello leaves once its
own ICE check has been answered, and with DTLS 1.2 the host's first media packet reaches it two
round trips later (ClientHello; the server's flight; the client's flight; the server's Finished,
then media). The page answers ``a=setup:passive`` instead (RFC 5763 section 5 lets an answerer
take either role), so the host is the client. The host starts the handshake when the page's
first authenticated ICE check arrives (``aiortc_compat.early_dtls``): its ClientHello reaches
Chromium with the answer to that check. And the host sends media as soon as it has sent its
own Finished, without waiting a round trip for the server's. Chromium completes the handshake
on that Finished and decrypts the media right behind it. The first frame lands one round trip
sooner: on cn-us-west (RTT 160 ms) at ~4.7 RTT from page start instead of ~5.9
(``benchmarks/RESULTS.md`` section 35).

**What is checked first** (RFC 7918 sections 3 and 4):

* The cipher suite is an ECDHE suite with an AEAD cipher (``FALSE_START_CIPHERS``). With any
  other suite the host waits for the server's Finished, as aiortc does.
* The server's certificate matches the fingerprint in its description (aiortc's own
  ``_validate_peer_identity``, run here before any media leaves; a mismatch fails the
  transport as it would have after the handshake).
* Only SRTP leaves early. Its keys come from the DTLS exporter (RFC 5764 section 4.2), which the
  client can compute once it has sent its Finished. The data channels' SCTP packets are DTLS
  application data, which OpenSSL writes only after the handshake: ``_send_data`` waits for it.

If the server's Finished never comes, or does not verify, the handshake fails as before and the
transport's state becomes ``failed``.

**Lost flights.** As the client, the host now sends the handshake's first flight, and a lost
ClientHello waits for OpenSSL's retransmission timer (1 s; pyOpenSSL cannot shorten it), where
Chromium as client retransmitted on its own, much shorter timer. The copy of each handshake
datagram that ``aiortc_compat`` sends 8 ms later falls in the same burst on a bursty link: on
mobile-3g-weak (Gilbert loss, bursts of 4 packets) one page load in ten waited the whole
second. So a false-starting client also sends each handshake datagram again ``RESEND_S`` after
it (0.25 and 0.5 s), unless a DTLS datagram has come back since (aiortc's own count of
received datagrams). A duplicate is harmless: DTLS treats it as a retransmission (RFC 6347
section 4.2.4).

**How** (aiortc 1.16). Inside ``with false_start():`` (the host wraps ``setRemoteDescription``
of the page's answer in it; aiortc's connect task inherits the context),
``RTCDtlsTransport.start`` of a client transport returns once the client's Finished has left.
aiortc's handshake loop (``_do_handshake``) calls ``_recv_next`` after it has written each
flight; the wrapper of ``_recv_next`` sees the Finished sent (``get_finished()``), makes the
checks above, sets up SRTP (aiortc's ``_setup_srtp``) and sets the state to ``connected``, so
aiortc's connect task starts the RTP sender. aiortc's ``start`` goes on in the background: its
handshake loop reads the server's last flight (and any SRTCP meanwhile), validates the
certificate again, finds SRTP already set up (``_setup_srtp`` is skipped), and starts the data
pump.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from aiortc.rtcdtlstransport import RTCDtlsParameters, RTCDtlsTransport, State

from .background import keep, until_set

RESEND_S = (0.25, 0.5)
"""A false-starting client sends each handshake datagram again this long after it, unless a DTLS
datagram has come back since (see the module docstring)."""

FALSE_START_CIPHERS = frozenset({"ECDHE-ECDSA-AES128-GCM-SHA256",
                                 "ECDHE-ECDSA-CHACHA20-POLY1305"})
"""The suites aiortc offers that RFC 7918 allows a false start with (forward secret, AEAD)."""

_HANDSHAKE_RECORDS = (20, 22)
"""DTLS record types sent only during the handshake: ChangeCipherSpec and Handshake."""

_false_start: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "rtc_interact_false_start", default=False)
_REMOTE = "_rtc_interact_false_start_remote"
_STARTED = "_rtc_interact_false_started"
_HANDSHAKE = "_rtc_interact_handshake"
_STOCK_SEND = "_rtc_interact_stock_send"
_stock_start = RTCDtlsTransport.start
_stock_recv_next = RTCDtlsTransport._recv_next
_stock_setup_srtp = RTCDtlsTransport._setup_srtp
_stock_send_data = RTCDtlsTransport._send_data


def is_handshake(data: bytes) -> bool:
    """Whether the datagram ``data`` starts with a DTLS handshake record."""
    return bool(data) and data[0] in _HANDSHAKE_RECORDS


def dtls_transports(pc: Any) -> list[RTCDtlsTransport]:
    """The DTLS transports of ``pc`` (an ``RTCPeerConnection``): its transceivers' and its SCTP
    transport's (one and the same when bundled)."""
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    return [t for t in transports if t is not None]


@contextlib.contextmanager
def false_start() -> Iterator[None]:
    """DTLS client transports started within this block send SRTP once their Finished has
    left (see the module docstring)."""
    token = _false_start.set(True)
    try:
        yield
    finally:
        _false_start.reset(token)


def _started(transport: RTCDtlsTransport) -> asyncio.Event:
    """Set once ``transport`` has false-started."""
    event: asyncio.Event = transport.__dict__.setdefault(_STARTED, asyncio.Event())
    return event


async def _start(self: RTCDtlsTransport, remoteParameters: RTCDtlsParameters) -> None:
    """aiortc's ``start``; inside ``false_start()``, a client returns at its false start."""
    if not _false_start.get() or self._role != "client":
        return await _stock_start(self, remoteParameters)
    self.__dict__[_REMOTE] = remoteParameters
    _resend_flights(self)
    handshake = await until_set(_stock_start(self, remoteParameters), _started(self))
    self.__dict__[_HANDSHAKE] = handshake
    if handshake is None:
        _stop_resending(self)
    else:
        handshake.add_done_callback(lambda _: _stop_resending(self))


def _datagrams_in(self: RTCDtlsTransport) -> int:
    """How many datagrams aiortc has received on this transport (its own count)."""
    return int(self._RTCDtlsTransport__rx_packets)  # type: ignore[attr-defined]


def _resend_flights(self: RTCDtlsTransport) -> None:
    """Replace the ICE transport's ``_send`` (aiortc sets it per instance, to its ICE
    connection's ``send``) with one that sends each handshake datagram (a DTLS record of type
    22, or 20: ChangeCipherSpec) again after ``RESEND_S``, unless a datagram has come back
    meanwhile. ``_stop_resending`` puts aiortc's back when the handshake has ended."""
    ice = self.transport
    stock_send = self.__dict__[_STOCK_SEND] = ice._send
    loop = asyncio.get_running_loop()

    async def send(data: bytes) -> None:
        await stock_send(data)
        if is_handshake(data) and not self.encrypted:
            seen = _datagrams_in(self)
            for delay in RESEND_S:
                loop.call_later(delay, _resend, self, stock_send, data, seen)

    ice._send = send


def _resend(self: RTCDtlsTransport, send: Any, data: bytes, seen: int) -> None:
    if not self.encrypted and _datagrams_in(self) == seen \
            and self._state not in (State.CLOSED, State.FAILED):
        keep(asyncio.ensure_future(send(data)))


def _stop_resending(self: RTCDtlsTransport) -> None:
    stock_send = self.__dict__.pop(_STOCK_SEND, None)
    if stock_send is not None:
        self.transport._send = stock_send


def _may_start(self: RTCDtlsTransport) -> bool:
    """Whether the client's Finished has left and the checks before a false start pass."""
    remote: RTCDtlsParameters | None = self.__dict__.get(_REMOTE)
    ssl = self._ssl
    if remote is None or ssl is None or self.encrypted or ssl.get_finished() is None:
        return False
    self.__dict__[_REMOTE] = None  # checked once: from here on, aiortc's own course
    if ssl.get_cipher_name() not in FALSE_START_CIPHERS:
        return False
    self._validate_peer_identity(remote)
    return bool(self._state != State.FAILED)


async def _recv_next(self: RTCDtlsTransport) -> None:
    """aiortc's ``_recv_next``; first, a false start where it is due."""
    if _may_start(self):
        _stock_setup_srtp(self)
        if self._state != State.FAILED:
            self._set_state(State.CONNECTED)
            _started(self).set()
    await _stock_recv_next(self)


def _setup_srtp(self: RTCDtlsTransport) -> None:
    """aiortc's ``_setup_srtp``, unless a false start did it (same keys)."""
    if not _started(self).is_set():
        _stock_setup_srtp(self)


async def _send_data(self: RTCDtlsTransport, data: bytes) -> None:
    """aiortc's ``_send_data``, after the handshake where a false start came before it."""
    handshake: asyncio.Future[None] | None = self.__dict__.get(_HANDSHAKE)
    if handshake is not None and not handshake.done():
        await asyncio.shield(handshake)
    await _stock_send_data(self, data)


CHANGES: dict[tuple[Any, str], Any] = {
    (RTCDtlsTransport, "start"): _start,
    (RTCDtlsTransport, "_recv_next"): _recv_next,
    (RTCDtlsTransport, "_setup_srtp"): _setup_srtp,
    (RTCDtlsTransport, "_send_data"): _send_data,
}
"""What ``aiortc_compat.install`` sets (and ``stock_behaviour`` puts back)."""


def false_started(pc: Any) -> bool:
    """Whether a DTLS transport of ``pc`` (an ``RTCPeerConnection``) false-started."""
    return any(_STARTED in t.__dict__ and _started(t).is_set() for t in dtls_transports(pc))
