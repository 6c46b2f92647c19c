"""aiortc's RTP sender with pre-encoded video: the sibling of ``aiortc_compat`` for the sender.

Like ``aiortc_compat`` (see its docstring), this is one of the only three modules that reach into
aiortc 1.16 internals (the third is ``aiortc_dtls``); ``tests/transport/test_aiortc_sender.py``
holds canary tests that fail if an upgrade moves what is relied on here. Nothing of aiortc's is
copied: single sender instances are given a different collaborator.

* **Keyframe requests.** On RTCP PLI or FIR, ``RTCRtpSender._handle_rtcp_packet`` calls
  ``self._send_keyframe()``, which only sets a flag that the sender passes to its encoder on the
  next *raw* frame. A track that yields encoded ``av.Packet``s (``media.ladder.RungTrack``) never
  sees that flag. :func:`route_keyframe_requests` wraps ``_send_keyframe`` on one sender instance
  so that the request also reaches a callback (the viewer's rung), then does what aiortc did.
* **Packetizer.** For an ``av.Packet``, the sender calls ``encoder.pack(packet)`` on the encoder
  it created lazily with ``codecs.get_encoder`` and keeps in its private ``__encoder`` attribute.
  :func:`use_packetizer` places our own object there before the sender starts, so VP8 payload
  packetization runs in ``rtc_interact.media.vp8`` (C when the native extension is built).
* **RTCP feedback.** The DTLS transport routes each RTCP packet for the sender to
  ``sender._handle_rtcp_packet(packet)``. :func:`observe_rtcp` wraps that method on one instance:
  it tells a :class:`RtcpListener` about REMB (``unpack_remb_fci``), our viewer's queue reports
  (``transport.queue_report``: the same feedback type as REMB, routed by aiortc to the sender
  of its media SSRC, and ignored by aiortc itself), NACKs and receiver reports (fraction lost,
  and the round trip aiortc has just computed from LSR/DLSR and keeps in its private
  ``__rtt``), then lets aiortc handle the packet as before.
* **Pacing and retransmissions.** ``_run_rtp`` sends each packet with
  ``await self.transport._send_rtp(data)`` (plain RTP: SRTP is applied inside), and
  ``_retransmit(seq)`` (called for every NACKed sequence number) does the same with an RTX copy.
  :func:`pace_and_gate` wraps ``_retransmit`` on the sender instance (a NACKed packet is resent
  only if a :class:`~rtc_interact.transport.pacer.RetransmitGate` allows it, and a base-layer
  packet's again ``echo_delay_s`` later, through the same stock ``_retransmit``, where
  ``RetransmitGate.echo`` says so) and, at the first
  frame (from a wrapped ``_next_encoded_frame``, when the transport is final), wraps
  ``_send_rtp`` on the sender's DTLS transport instance: media packets wait for a
  :class:`~rtc_interact.transport.pacer.Pacer`, retransmissions leave at once but use its
  credit, RTCP passes untouched; every packet is counted.
* **Probing padding.** To learn whether the next rung fits without switching to it, the ABR
  task asks for padding. It is made of the newest media packets sent again on the RTX stream
  (:func:`send_copy`, from a :class:`~rtc_interact.transport.pacer.PaddingPackets`), and of
  padding-only packets when no media has left yet: RTX packets with no payload and only RTP
  padding (RFC 4588 section 4 allows it; libwebrtc probes the same way). Both are stamped
  with a fresh ``abs-send-time`` so that the receiver's delay-based estimator (and its REMB)
  counts them; receivers drop a copy of a packet they have, and padding-only packets after
  counting them (aiortc: an RTX payload under 2 bytes). :func:`send_padding` builds the
  latter with aiortc's own ``RtpPacket`` from the sender's private RTX payload type, RTX
  sequence number, MID and header extension map, and advances that sequence number as
  ``_retransmit`` does.
* **Redundant copies.** Where the ABR task asks for them (lossy paths with spare room), a
  :class:`~rtc_interact.transport.pacer.CopyBudget` picks media packets that are sent again
  ``delay_s`` later on the RTX stream, before any NACK: :func:`send_copy` wraps the packet as
  aiortc's ``_retransmit`` does (``wrap_rtx``, the same private RTX state as the padding) but
  with a fresh ``abs-send-time``, so the receiver's delay-based estimator sees it in order.
  Receivers drop the copy of a packet they have; ours (``receive_buffer.NackScheduler``) also
  counts copies and learns their lag, so that a copy is never taken for a retransmission.
  Where a packet gets two copies (``CopyBudget.base_copies``), they leave ``delay_s / 2`` and
  ``delay_s`` after it.
* **Data traffic on the same path.** The SCTP association (data channels, their SACKs and
  FORWARD TSNs) leaves through ``RTCDtlsTransport._send_data`` of the same (bundled) DTLS
  transport as the video. :func:`count_data` wraps that method on the instance and counts each
  packet with its DTLS, UDP and IP overhead, so that the ABR controller can leave room for it:
  on mobile-3g-weak, 20 taps a second with their copies, acks and SACKs are ~150 kbps of a
  400 kbps link.
* **Negotiated codec.** Encoded packets are only valid for the codec they were made for, so the
  host checks :func:`negotiated_codec`: after ``setRemoteDescription`` the transceiver's
  ``_codecs`` hold the codecs in the order the sender will use (``codecs[0]`` is sent).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiortc import RTCRtpSender, RTCRtpTransceiver
from aiortc import clock as aiortc_clock
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    is_rtcp,
    unpack_remb_fci,
    wrap_rtx,
)

from ..media.vp8 import inspect_vp8
from .delivery import DeliveryMeter, remember
from .pacer import CopyBudget, Pacer, PaddingPackets, RetransmitGate
from .queue_report import QUEUE_FCI_ID, FeedbackFciError, unpack_queue_fci
from .train import TRAIN_FCI_ID, TrainReport, unpack_train_fci

log = logging.getLogger(__name__)

_ENCODER_ATTRIBUTE = "_RTCRtpSender__encoder"
"""Where aiortc 1.16's RTCRtpSender keeps its encoder (name-mangled ``self.__encoder``)."""
_RTT_ATTRIBUTE = "_RTCRtpSender__rtt"
"""Where it keeps the smoothed round trip in seconds (``self.__rtt``, None before a report)."""
_PACED_MARK = "_rtc_interact_paced"
_STOCK_SEND = "_rtc_interact_stock_send_rtp"
"""Where the paced transport keeps aiortc's own ``_send_rtp`` (:func:`send_padding` unpaced)."""
_PRIVATE = "_RTCRtpSender__"
_RTX_PT, _RTX_SEQ, _MID, _EXT_MAP = "rtx_payload_type", "rtx_sequence_number", "mid", \
    "rtp_header_extensions_map"
"""Sender attributes (``self.__<name>``) :func:`send_padding` and :func:`send_copy` use."""
PADDING_MAX = 255
"""Most RTP padding one packet can carry."""


class Packetizer(Protocol):
    """What the sender needs from its encoder for pre-encoded input."""

    def pack(self, packet: Any) -> tuple[list[bytes], int]:
        """RTP payloads of one encoded frame, and its timestamp on the 90 kHz clock."""


def route_keyframe_requests(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the remote end asks ``sender`` for a keyframe (PLI/FIR)."""
    stock: Callable[[], None] = sender._send_keyframe

    def send_keyframe() -> None:
        callback()
        stock()

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]


def use_packetizer(sender: RTCRtpSender, packetizer: Packetizer) -> None:
    """Make ``sender`` packetize pre-encoded frames with ``packetizer`` (before it starts)."""
    if getattr(sender, _ENCODER_ATTRIBUTE, None) is not None:
        raise RuntimeError("the sender already has an encoder; install the packetizer earlier")
    setattr(sender, _ENCODER_ATTRIBUTE, packetizer)


def negotiated_codec(transceiver: RTCRtpTransceiver) -> str | None:
    """The MIME type the transceiver will send (``video/VP8``), None before negotiation."""
    codecs = getattr(transceiver, "_codecs", None) or []
    return str(codecs[0].mimeType) if codecs else None


class RtcpListener(Protocol):
    """What :func:`observe_rtcp` reports about one sender's RTCP."""

    def on_remb(self, bps: int) -> None:
        """A REMB for this sender's SSRC."""

    def on_report(self, fraction_lost: float, rtt_s: float | None,
                  raw_rtt_s: float | None = None,
                  counts: tuple[int, int] | None = None) -> None:
        """A receiver report block for this sender (loss 0..1, aiortc's round trip; ``counts``:
        extended highest sequence number received and cumulative packets lost)."""

    def on_nack(self, count: int) -> None:
        """A NACK listing ``count`` sequence numbers."""

    def on_queue(self, queue_ms: int) -> None:
        """The viewer's report of a queue on the path (``transport.queue_report``)."""

    def on_train(self, report: TrainReport) -> None:
        """The viewer's measure of a packet train (``transport.train``)."""

    def on_malformed(self) -> None:
        """A feedback message of ours (a queue or train report) that did not parse."""


def report_rtt(report: Any, ntp_time: int | None = None) -> float | None:
    """The round trip one report block gives (RFC 3550 section 6.4.1: arrival less LSR less
    DLSR, on the middle 32 bits of NTP time), not smoothed; None without an SR to refer to."""
    if not report.lsr:
        return None
    now = aiortc_clock.current_ntp_time() if ntp_time is None else ntp_time
    rtt = ((now >> 16) - report.lsr - report.dlsr) & 0xFFFFFFFF
    return rtt / 65536 if rtt < 60 * 65536 else None


def _on_application_feedback(sender: RTCRtpSender, listener: RtcpListener,
                             packet: RtcpPsfbPacket) -> None:
    """A REMB for the sender, or a queue or train report for its SSRC; any other FCI is not
    ours."""
    if packet.fci[:4] in (QUEUE_FCI_ID, TRAIN_FCI_ID):
        if packet.media_ssrc == sender._ssrc:
            try:
                if packet.fci[:4] == QUEUE_FCI_ID:
                    listener.on_queue(unpack_queue_fci(packet.fci))
                else:
                    listener.on_train(unpack_train_fci(packet.fci))
            except FeedbackFciError:
                listener.on_malformed()
        return
    try:
        bitrate, ssrcs = unpack_remb_fci(packet.fci)
    except ValueError:
        return
    if sender._ssrc in ssrcs:
        listener.on_remb(bitrate)


def observe_rtcp(sender: RTCRtpSender, listener: RtcpListener) -> None:
    """Tell ``listener`` about the REMB, NACK and report packets ``sender`` receives."""
    stock: Callable[[Any], Awaitable[None]] = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: Any) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            listener.on_nack(len(packet.lost))
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            _on_application_feedback(sender, listener, packet)
        await stock(packet)
        if isinstance(packet, RtcpRrPacket | RtcpSrPacket):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    listener.on_report(report.fraction_lost / 256,
                                       getattr(sender, _RTT_ATTRIBUTE, None), report_rtt(report),
                                       (report.highest_sequence, report.packets_lost))

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


class SendCounter:
    """Bytes and packets one sender put on the wire (RTP and RTX, before SRTP)."""

    def __init__(self, delivery: DeliveryMeter | None = None) -> None:
        self.delivery = delivery
        """Told the running byte count as each media packet leaves (the received rate)."""
        self.timestamp = 0
        """RTP timestamp of the newest media packet."""
        self.padding_bytes = 0
        """Probing padding sent (also counted in ``bytes``)."""
        self.bytes = 0
        """Media, retransmitted and padding bytes."""
        self.packets = 0
        """Media packets."""
        self.rtx_packets = 0
        """Packets on the RTX stream: retransmissions, copies and padding."""
        self.copy_bytes = 0
        """Redundant copies sent (also counted in ``bytes``)."""
        self.data_bytes = 0
        """SCTP bytes on the same transport, wire overhead included (see :func:`count_data`)."""


DATA_OVERHEAD_BYTES = 65
"""What a DTLS-wrapped SCTP packet adds on the wire: DTLS record header and AES-GCM nonce and
tag (13 + 8 + 16), UDP and IPv4 headers (28)."""


def count_data(sender: RTCRtpSender, counter: SendCounter) -> None:
    """Count in ``counter.data_bytes`` what the SCTP association sends over ``sender``'s DTLS
    transport (see the module docstring)."""
    transport = sender.transport
    stock: Callable[[bytes], Awaitable[None]] = transport._send_data

    async def counting(data: bytes) -> None:
        counter.data_bytes += len(data) + DATA_OVERHEAD_BYTES
        await stock(data)

    transport._send_data = counting  # type: ignore[method-assign]


def _vp8_inspect(data: bytes) -> tuple[bool, bool]:
    """(carries the start of a VP8 keyframe, belongs to a droppable frame) for an RTP packet."""
    offset = 12 + 4 * (data[0] & 0x0F)  # fixed header and CSRCs
    if data[0] & 0x10 and len(data) >= offset + 4:  # header extension
        offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
    _, key, droppable, _ = inspect_vp8(data[offset:])
    return key, droppable


def pace_and_gate(sender: RTCRtpSender, pacer: Pacer, gate: RetransmitGate,
                  counter: SendCounter, clock: Callable[[], float] = time.monotonic,
                  copies: CopyBudget | None = None,
                  recent: PaddingPackets | None = None) -> None:
    """Pace ``sender``'s media packets, resend only what ``gate`` allows, send the copies
    ``copies`` asks for, keep the newest media packets in ``recent``, count what leaves."""
    stock_retransmit: Callable[[int], Awaitable[None]] = sender._retransmit
    stock_next: Callable[[Any], Awaitable[Any]] = sender._next_encoded_frame
    sizes: dict[int, int] = {}

    async def retransmit(sequence_number: int) -> None:
        size, now = sizes.get(sequence_number, 1200), clock()
        if gate.allow(sequence_number, size, now):
            await stock_retransmit(sequence_number)
            if gate.echo(sequence_number, size, now):
                asyncio.get_running_loop().call_later(
                    gate.echo_delay_s, _resend_later, sender, stock_retransmit, sequence_number)

    async def next_encoded_frame(codec: Any) -> Any:
        frame = await stock_next(codec)
        transport = sender.transport
        if not getattr(transport, _PACED_MARK, False):
            _pace_transport(transport, sender,
                            _Pacing(pacer, gate, counter, clock, copies, recent), sizes)
            setattr(sender, _PACED_MARK, True)
        return frame

    sender._retransmit = retransmit  # type: ignore[method-assign]
    sender._next_encoded_frame = next_encoded_frame  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class _Pacing:
    pacer: Pacer
    gate: RetransmitGate
    counter: SendCounter
    clock: Callable[[], float]
    copies: CopyBudget | None
    recent: PaddingPackets | None


def _pace_transport(transport: Any, sender: RTCRtpSender, pacing: _Pacing,
                    sizes: dict[int, int]) -> None:
    stock_send: Callable[[bytes], Awaitable[None]] = transport._send_rtp
    counter, copies = pacing.counter, pacing.copies
    keyframe = [-1]  # RTP timestamp of the newest keyframe: its packets are copied first

    async def send_rtp(data: bytes) -> None:
        if is_rtcp(data) or len(data) < 12:
            await stock_send(data)
            return
        now = pacing.clock()
        wait = pacing.pacer.delay(len(data), now)
        ssrc = struct.unpack_from("!I", data, 8)[0]
        media, key, droppable = ssrc == sender._ssrc, False, False
        if media:
            if wait > 0:
                await asyncio.sleep(wait)
                now = pacing.clock()
            seq, counter.timestamp = struct.unpack_from("!HI", data, 2)
            key_start, droppable = _vp8_inspect(data)
            if key_start:
                keyframe[0] = counter.timestamp
            key = keyframe[0] == counter.timestamp
            pacing.gate.sent(seq, now, key_start, droppable)
            remember(sizes, seq, len(data))
            counter.packets += 1
        else:
            counter.rtx_packets += 1  # a retransmission: at once, but it used the credit
        counter.bytes += len(data)
        if media and counter.delivery is not None:
            counter.delivery.sent(seq, counter.bytes)
        await stock_send(data)
        if media and pacing.recent is not None:
            pacing.recent.sent(data)
        if media and copies is not None:
            count = copies.take(len(data), now, key, droppable)
            for k in range(count):  # spread over the delay: each may fall in another burst
                asyncio.get_running_loop().call_later(copies.delay_s * (k + 1) / count,
                                                      _copy_later, sender, counter, data)

    transport._send_rtp = send_rtp
    setattr(transport, _STOCK_SEND, stock_send)
    setattr(transport, _PACED_MARK, True)


def can_pad(sender: RTCRtpSender) -> bool:
    """Whether ``sender`` negotiated RTX and has started (padding goes on the RTX stream)."""
    return getattr(sender, _PRIVATE + _RTX_PT, None) is not None \
        and getattr(sender, _PACED_MARK, False)


def _next_rtx_sequence_number(sender: RTCRtpSender) -> int:
    """Take the sender's next RTX sequence number, as ``_retransmit`` does."""
    seq: int = getattr(sender, _PRIVATE + _RTX_SEQ)
    setattr(sender, _PRIVATE + _RTX_SEQ, (seq + 1) & 0xFFFF)
    return seq


def _stamp_and_serialize(sender: RTCRtpSender, packet: RtpPacket) -> bytes:
    """``packet`` with a fresh ``abs-send-time``, serialized with the sender's extension map."""
    packet.extensions.abs_send_time = (aiortc_clock.current_ntp_time() >> 14) & 0x00FFFFFF
    return packet.serialize(getattr(sender, _PRIVATE + _EXT_MAP))


async def send_padding(sender: RTCRtpSender, counter: SendCounter, size: int,
                       paced: bool = True) -> int:
    """Send one RTX padding-only packet of about ``size`` bytes (see the module docstring);
    unless ``paced``, past the pacer (a packet train's: ``transport.train``), its credit
    untouched, so that the media behind the train does not wait for it. Returns its size."""
    packet = RtpPacket(payload_type=getattr(sender, _PRIVATE + _RTX_PT),
                       sequence_number=_next_rtx_sequence_number(sender),
                       timestamp=counter.timestamp, ssrc=sender._rtx_ssrc)
    packet.padding_size = max(1, min(PADDING_MAX, size))
    packet.extensions.mid = getattr(sender, _PRIVATE + _MID)
    data = _stamp_and_serialize(sender, packet)
    counter.padding_bytes += len(data)
    transport = sender.transport
    if paced:
        await transport._send_rtp(data)
    else:
        counter.bytes += len(data)  # (the pacer's wrapper counts the rest)
        await getattr(transport, _STOCK_SEND)(data)
    return len(data)


async def send_copy(sender: RTCRtpSender, counter: SendCounter, data: bytes,
                    padding: bool = False) -> int:
    """Send a redundant copy of the media packet ``data`` (plain RTP) on the RTX stream,
    counted as probing padding if ``padding``; returns its size."""
    packet = RtpPacket.parse(data, getattr(sender, _PRIVATE + _EXT_MAP))
    copy = wrap_rtx(packet, payload_type=getattr(sender, _PRIVATE + _RTX_PT),
                    sequence_number=_next_rtx_sequence_number(sender), ssrc=sender._rtx_ssrc)
    out = _stamp_and_serialize(sender, copy)
    if padding:
        counter.padding_bytes += len(out)
    else:
        counter.copy_bytes += len(out)
    await sender.transport._send_rtp(out)
    return len(out)


_COPY_TASKS: set[asyncio.Future[Any]] = set()
"""Copies and echoed retransmissions on their way (a task only weakly referenced by the loop
could be collected)."""


def _copy_later(sender: RTCRtpSender, counter: SendCounter, data: bytes) -> None:
    if can_pad(sender) and sender.transport.state == "connected":
        _spawn(send_copy(sender, counter, data))


def _resend_later(sender: RTCRtpSender, retransmit: Callable[[int], Awaitable[None]],
                  sequence_number: int) -> None:
    """The echo of a retransmission (``RetransmitGate.echo``), through aiortc's own
    ``_retransmit``, which finds the packet in its history (the last 128 packets)."""
    if sender.transport.state == "connected":
        _spawn(retransmit(sequence_number))


def _spawn(work: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(work)
    _COPY_TASKS.add(task)
    task.add_done_callback(_copy_done)


def _copy_done(task: asyncio.Future[Any]) -> None:
    _COPY_TASKS.discard(task)
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        if not isinstance(exc, ConnectionError):
            log.warning("redundant copy or retransmission not sent: %r", exc)
