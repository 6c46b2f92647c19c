"""The asyncio side of per-viewer ABR: RTCP feedback in, rung switches and send budgets out.

:class:`ViewerLink` is installed on one viewer's ``RTCRtpSender`` (ladder path only) by
``VideoFanout.attach``: it hooks the sender (``aiortc_sender.observe_rtcp``, ``pace_and_gate``)
and, every ``AbrConfig.interval_s``, turns what arrived into one ``abr.Feedback``, runs the
sans-IO ``abr.AbrController`` and moves the viewer's ``RungTrack`` when the rung changes.
Before the first receiver report only the controller's ``start`` runs (with the round trip of
the ICE checks), every ``START_POLL_S`` until that round trip is known (at most
``START_POLL_MAX_S``), so that a viewer on a long path is on its start rung before its first
frame. The pacer runs at the rung's rate times ``pacing_factor``; retransmissions may use
``rtx_share`` of the estimate; redundant copies (``Decision.copy_kbps``) leave
:func:`copy_lag_s` after their originals. Every
``interval_s`` an ICE ping (``aiortc_compat.ice_ping``) times the path's round trip, its queue
included, for the estimator (``FeedbackLog.on_ping``; ~130 bytes each way, 4 kbit/s). With
``abr=None`` the rung stays fixed, but pacing, the retransmission gate and the stats work the
same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import RTCRtpSender

from ..media.ladder import LadderEncoder, RungTrack
from .abr import AbrConfig, AbrController, Decision, Feedback
from .aiortc_compat import ice_ping, ice_rtt_s
from .aiortc_sender import (
    PADDING_MAX,
    SendCounter,
    can_pad,
    count_data,
    observe_rtcp,
    pace_and_gate,
    send_copy,
    send_padding,
)
from .delivery import DeliveryMeter, counted
from .estimator import PING_WINDOW_S
from .pacer import CopyBudget, Pacer, PaddingPackets, RetransmitGate
from .quality import Quality, grade
from .train import TRAIN_S, TrainReport

log = logging.getLogger(__name__)

LOSS_WEIGHT = 0.3
"""Weight of a new report in ``FeedbackLog.loss_avg`` (the grade uses it)."""
COPY_LAG_RTTS = 0.75
"""A redundant copy lags its original by this share of the round trip (see :func:`copy_lag_s`)."""
COPY_DELAY_MIN_S, COPY_DELAY_MAX_S = 0.02, 0.18
"""Bounds of that lag."""
PADDING_BURST = 1500
"""Most padding credit kept, in bytes: room for one media packet resent as padding, so a slice
adds at most about one packet to a thin link's queue (the credit may go below zero by one
packet, so the average rate holds)."""


def copy_lag_s(rtt_s: float) -> float:
    """How long after its original a redundant copy leaves, on a path of round trip ``rtt_s``:
    ``COPY_LAG_RTTS`` of it, within ``COPY_DELAY_MIN_S`` and ``COPY_DELAY_MAX_S``. Far apart,
    so that one burst of loss rarely takes a packet and its copies (the link emulator's bursts
    are counted in packets: on mobile-3g-weak, with ~65 packets a second, a burst of 4 on
    average, and the two copies of a base-layer packet at half and all of the lag, a lag of
    half a round trip capped at 100 ms left 9 freezes a minute, 0.75 of it capped at 180 ms
    left 4: ``benchmarks/RESULTS.md`` §24); near enough to land within the receiver's playout
    delay (ours: a round trip less 30 ms, at most 200 ms; a copy of a frame's packet that
    comes later is a frame late on screen, as a retransmission would be)."""
    return min(max(rtt_s * COPY_LAG_RTTS, COPY_DELAY_MIN_S), COPY_DELAY_MAX_S)


START_POLL_S = 0.02
"""How often the ABR task looks for the ICE checks' round trip before it is known ..."""
START_POLL_MAX_S = 5.0
"""... for at most this long after the viewer was attached (ICE may take that long, or never
give a round trip: then the first receiver report is the first evidence)."""
REPORT_SPAN_S = 0.45
"""A sample's loss and raw round trip cover the receiver reports of at least this long (by
arrival; the first report stands alone). aiortc reports every 0.5-1.5 s, so each of its reports
is a span. libwebrtc adds a report to every NACK and REMB (~3 a second): one block then covers a
few packets (one loss in three said 33%), and its many raw round trips reached a queue sign on
plain jitter (15% of them on congested-evening, against 10% of aiortc's): each halved the
copies and each loss blocked the climb. Over a span, the lowest raw round trip is the
sample's: a queue raises them all, jitter only some."""
TRAIN_TICK_S = 0.005
"""A packet train leaves in slices this far apart."""
PACE_FLOOR = 1.2
"""The pacer never paces under this many times the nominal rate it sends (``pacing_kbps``)."""
PINGS_KEPT = 16
"""ICE pings whose answers ``FeedbackLog`` keeps (a window holds about four)."""
_UNKNOWN_KBPS = 2000.0
"""Pacing and retransmission budgets use this rung rate until the ladder is known."""


class FeedbackLog:
    """What one sender's RTCP said since the last :meth:`take` (an ``RtcpListener``)."""

    def __init__(self, delivery: DeliveryMeter | None = None) -> None:
        self.delivery = delivery
        """Told each report block's counts, for the rate the viewer received."""
        self.remb_bps: int | None = None
        self.loss: float | None = None
        self.rtt_s: float | None = None
        self.loss_avg: float | None = None
        """Loss smoothed over samples (one report covers few packets at low rates)."""
        self.nacks = 0
        """NACKed packets since the start."""
        self.keyframe_requests = 0
        """PLI/FIR since the start."""
        self.last_report: float | None = None
        """Monotonic time of the newest receiver report."""
        self._fresh = {"remb": False, "report": False, "span": False}
        self._nacks_taken = 0
        self._counts: tuple[int, int] | None = None
        self._expected = self._lost = 0
        self._span_start: float | None = None
        """Arrival of the report that closed the previous span (see ``REPORT_SPAN_S``)."""
        self._span_raw: float | None = None
        """Lowest raw round trip of the span so far."""
        self._raw: float | None = None
        """Lowest raw round trip of the newest closed span."""
        self._pings: deque[tuple[float, float]] = deque(maxlen=PINGS_KEPT)
        """(answered at, round trip s) of the newest ICE pings."""
        self._ping_new: list[float] = []
        """Round trips (s) of the pings answered since the previous sample."""
        self.queue_reports = 0
        """Queue reports from the viewer (``transport.queue_report``)."""
        self.malformed = 0
        """Queue reports that did not parse."""
        self.on_queue_report: Callable[[int], None] | None = None
        """Told each queue report (ms) at once (the ABR task's controller may switch down on
        it)."""
        self.train_reports = 0
        """Packet trains the viewer reported (``transport.train``)."""
        self.on_train_report: Callable[[TrainReport], None] | None = None
        """Told each train report at once."""

    def on_ping(self, rtt_s: float, now: float) -> None:
        """An ICE ping answered at ``now`` after ``rtt_s``."""
        self._pings.append((now, rtt_s))
        self._ping_new.append(rtt_s)

    def _take_pings(self, now: float) -> tuple[float | None, float | None]:
        """If a ping was answered since the previous sample: the lowest round trip (ms) of the
        last ``PING_WINDOW_S``, and the lowest of those answered since; else (None, None)."""
        new, self._ping_new = self._ping_new, []
        window = [rtt for at, rtt in self._pings if at > now - PING_WINDOW_S]
        if not new or not window:
            return None, None
        return min(window) * 1000, min(new) * 1000

    def on_remb(self, bps: int) -> None:
        """RtcpListener."""
        self.remb_bps = bps
        self._fresh["remb"] = True

    def on_report(self, fraction_lost: float, rtt_s: float | None,
                  raw_rtt_s: float | None = None,
                  counts: tuple[int, int] | None = None, now: float | None = None) -> None:
        """RtcpListener. ``counts``: the block's extended highest sequence number and
        cumulative packets lost, from which a sample's loss is counted over all the reports
        of a span (``REPORT_SPAN_S``). ``now``: arrival (default: the monotonic clock)."""
        self.loss, self.rtt_s = fraction_lost, rtt_s
        self.last_report = time.monotonic() if now is None else now
        self._fresh["report"] = True
        if raw_rtt_s is not None:
            low = self._span_raw
            self._span_raw = raw_rtt_s if low is None else min(low, raw_rtt_s)
        self._count(counts)
        if counts is not None and self.delivery is not None:
            self.delivery.report(self.last_report, *counts)
        start = self._span_start
        if start is None or self.last_report - start >= REPORT_SPAN_S:
            self._span_start, self._fresh["span"] = self.last_report, True
            self._raw, self._span_raw = self._span_raw, None

    def _count(self, counts: tuple[int, int] | None) -> None:
        """Add one block's packets expected and lost since the previous block to the span's."""
        if counts is not None:
            packets = None if self._counts is None else counted(self._counts, counts)
            if packets is not None:
                self._expected += packets[0]
                self._lost += packets[1]
            self._counts = counts

    def _interval_loss(self) -> tuple[float | None, int | None]:
        """Loss over the reports of the spans closed since the previous sample, and the packets
        lost (the newest report's fraction and None when the counts tell nothing); smooths
        ``loss_avg``."""
        counted = bool(self._expected)
        loss = self._lost / self._expected if counted else self.loss
        lost = self._lost if counted else None
        self._expected = self._lost = 0
        if loss is not None:
            previous = loss if self.loss_avg is None else self.loss_avg
            self.loss_avg = previous + LOSS_WEIGHT * (loss - previous)
        return loss, lost

    def on_nack(self, count: int) -> None:
        """RtcpListener."""
        self.nacks += count

    def on_queue(self, queue_ms: int) -> None:
        """RtcpListener."""
        self.queue_reports += 1
        if self.on_queue_report is not None:
            self.on_queue_report(queue_ms)

    def on_train(self, report: TrainReport) -> None:
        """RtcpListener."""
        self.train_reports += 1
        if self.on_train_report is not None:
            self.on_train_report(report)

    def on_malformed(self) -> None:
        """RtcpListener."""
        self.malformed += 1

    def on_keyframe_request(self) -> None:
        """A PLI/FIR (from ``route_keyframe_requests``)."""
        self.keyframe_requests += 1

    def take(self, now: float, sent_bytes: int, other_bytes: int = 0,
             path_rtt_s: float | None = None) -> Feedback:
        """The sample since the previous call (``path_rtt_s``: the ICE checks' round trip)."""
        report, remb, span = (self._fresh[k] for k in ("report", "remb", "span"))
        self._fresh = {"remb": False, "report": False, "span": False}
        nacks, self._nacks_taken = self.nacks - self._nacks_taken, self.nacks
        loss, lost = self._interval_loss() if span else (None, None)
        ping_ms, ping_new_ms = self._take_pings(now)
        return Feedback(
            now=now, sent_bytes=sent_bytes, loss=loss, lost=lost,
            rtt_ms=self.rtt_s * 1000 if report and self.rtt_s is not None else None,
            rtt_raw_ms=self._raw * 1000 if span and self._raw is not None else None,
            remb_kbps=self.remb_bps / 1000 if remb and self.remb_bps is not None else None,
            nacks=nacks, other_bytes=other_bytes,
            path_rtt_ms=None if path_rtt_s is None else path_rtt_s * 1000,
            ping_rtt_ms=ping_ms, ping_new_ms=ping_new_ms,
        )


@dataclass(frozen=True, slots=True)
class LinkStats:
    """One viewer's sending side, for ``ViewerStats``."""

    target_kbps: float
    """Rate of the rung the viewer is on (what it is sent at)."""
    estimate_kbps: float | None
    """Estimated available bandwidth (None without ABR)."""
    received_kbps: float | None
    """What the viewer received over its newest receiver reports, all streams
    (``transport.delivery``; None until two reports a second apart tell)."""
    loss_pct: float | None
    """Loss in the newest receiver report, percent."""
    rtt_ms: float | None
    """Round trip from the newest receiver report."""
    nacks: int
    """Packets the viewer NACKed (our viewer's echoes included: each NACK goes twice)."""
    rtx_sent: int
    """Packets retransmitted."""
    rtx_echoed: int
    """Of those, base-layer packets retransmitted a second time (``RetransmitGate.echo``)."""
    rtx_skipped: int
    """NACKed packets not resent (too late, over budget, repeated, unknown)."""
    keyframe_requests: int
    """PLI/FIR from the viewer."""
    stuck: int
    """Base-layer packets NACKed a third time or more when too late to resend
    (``RtxCounts.stuck``): each asked the rung for a keyframe, within the keyframe limit."""
    packets_sent: int
    """Media packets sent."""
    padding_kbit: float
    """Probing padding sent, kbit."""
    copy_kbit: float
    """Redundant copies sent, kbit."""
    thinned_frames: int
    """Droppable frames not sent while the video was thinned (``AbrConfig.thin_ping_ms``)."""
    queue_reports: int
    """Queue reports from the viewer (``transport.queue_report``; our Python viewer sends
    them, browsers do not)."""
    trains: int
    """Packet trains sent (``transport.train``) ..."""
    train_reports: int
    """... and reported by the viewer (ours does, browsers do not)."""
    quality: Quality
    """Connection quality grade (``quality.grade`` of the smoothed loss, the round trip, the rung
    and the age of the newest report)."""
    reason: str
    """The controller's latest decision reason ('fixed' without ABR)."""


def pacing_kbps(sending: float, factor: float, knee: float | None) -> float:
    """The pacer's rate for ``sending`` kbps (nominal: the rung, padding and copies): ``factor``
    times that, so that a frame's burst is spread; with ``knee`` (``Decision.knee_kbps``), at
    most the knee, so that bursts wait in the pacer, where retransmissions and copies pass them,
    and not in the path's queue, where they would wait behind them. Never below
    ``PACE_FLOOR`` x ``sending``: a rung sends up to ~15% above its nominal rate."""
    rate = sending * factor
    return rate if knee is None else min(rate, max(knee, PACE_FLOOR * sending))


class ViewerLink:
    """One viewer's feedback, pacing, retransmission gate and (optional) ABR task."""

    def __init__(self, sender: RTCRtpSender, track: RungTrack, encoder: LadderEncoder,
                 config: AbrConfig | None) -> None:
        self.track, self.config, self._encoder = track, config, encoder
        self.sender = sender
        self.settings = settings = config or AbrConfig()
        self.delivery = DeliveryMeter()
        self.feedback = FeedbackLog(self.delivery)
        self.counter = SendCounter(self.delivery)
        self.controller: AbrController | None = None
        self.pacer = Pacer(_UNKNOWN_KBPS * settings.pacing_factor)
        self.gate = RetransmitGate(_UNKNOWN_KBPS * settings.rtx_share)
        # A viewer stuck before a lost base-layer frame (``RetransmitGate.on_stuck``): Chromium
        # re-NACKs the packet every ~100 ms and asks for a keyframe only when nothing was
        # decodable for ~3 s; the rung makes one now, under the PLI limit, so the freeze lasts
        # about a round trip instead.
        self.gate.on_stuck = self._request_keyframe
        self.feedback.on_queue_report = self._on_queue
        self.feedback.on_train_report = self._on_train
        self.trains = 0
        """Packet trains sent."""
        self._trains: set[asyncio.Task[None]] = set()
        self.copies = CopyBudget()
        self.recent = PaddingPackets()
        self.decision: Decision | None = None
        self._sent_taken = 0
        self._attached = time.monotonic()
        self._last_keyframe = float("-inf")
        self.keyframes_ignored = 0
        """Keyframe requests not passed on (too soon after the previous one)."""
        self._ready()
        observe_rtcp(sender, self.feedback)
        pace_and_gate(sender, self.pacer, self.gate, self.counter, copies=self.copies,
                      recent=self.recent if config is not None else None)  # only ABR pads
        count_data(sender, self.counter)
        self._data_taken = 0
        self._tasks: list[asyncio.Task[None]] = []
        if config is not None:
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._run()), loop.create_task(self._pad()),
                           loop.create_task(self._ping())]

    @property
    def rates(self) -> tuple[float, ...]:
        """Rung rates, best first (empty until the ladder is known)."""
        ladder = self._encoder.ladder
        return () if ladder is None else tuple(float(r.kbps) for r in ladder.rungs)

    def _ready(self) -> bool:
        """Set up the controller and budgets once the ladder is known; moves the viewer to the
        controller's start rung (a switch before the sender starts costs nothing)."""
        rates = self.rates
        if not rates:
            return False
        if self.controller is None and self.config is not None:
            self.controller = AbrController(rates, self.config)
            if self.controller.rung != self.track.rung:
                self.track.switch(self.controller.rung)
            self._budgets(self.controller.rung)
        elif self.config is None:
            self._budgets(self.track.rung)
        return True

    def _budgets(self, rung: int, estimate: float | None = None) -> None:
        rates, decision = self.rates, self.decision
        padding = 0.0 if decision is None else decision.padding_kbps
        self.copies.rate_kbps = 0.0 if decision is None else decision.copy_kbps
        self.copies.base_copies = 1 if decision is None else decision.base_copies
        sending = max(rates[rung], rates[self.track.rung]) + padding + self.copies.rate_kbps
        knee = None if decision is None else decision.knee_kbps
        self.pacer.rate_kbps = pacing_kbps(sending, self.settings.pacing_factor, knee)
        self.gate.budget_kbps = max((estimate or rates[rung]) * self.settings.rtx_share, 20.0)
        rtt = self.feedback.rtt_s
        if rtt is not None:
            self.copies.delay_s = copy_lag_s(rtt)

    async def _run(self) -> None:
        try:
            for _ in range(1 << 40):  # until the track ends
                await asyncio.sleep(self._interval())
                if self.track.readyState != "live":
                    return
                self.step(time.monotonic())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ABR task failed; the viewer keeps its rung")

    def _interval(self) -> float:
        """Until the ICE checks' round trip is known (or a report came), look every
        ``START_POLL_S``: the controller's ``start`` may move a viewer on a long path to another
        rung, which is free before its first frame and costs a keyframe after."""
        if self.feedback.last_report is None and ice_rtt_s(self.sender) is None \
                and time.monotonic() - self._attached < START_POLL_MAX_S:
            return START_POLL_S
        return self.settings.interval_s

    async def _ping(self) -> None:
        """An ICE ping every ``interval_s``, each awaited on its own (a long or queued path
        has several out at once), its answer noted in the feedback log."""
        pings: set[asyncio.Task[None]] = set()
        try:
            for _ in range(1 << 40):  # until the track ends
                await asyncio.sleep(self.settings.interval_s)
                if self.track.readyState != "live":
                    return
                task = asyncio.get_running_loop().create_task(self._ping_once())
                pings.add(task)
                task.add_done_callback(pings.discard)
        finally:
            for task in pings:
                task.cancel()

    async def _ping_once(self) -> None:
        rtt = await ice_ping(self.sender)
        if rtt is not None:
            self.feedback.on_ping(rtt, time.monotonic())

    async def _pad(self) -> None:
        """Send the probing padding the controller asks for, in 20 ms slices (with none asked
        for, look again at each controller run, not every slice: one viewer less to wake 50
        times a second)."""
        credit, tick, idle = 0.0, 0.02, True
        try:
            for _ in range(1 << 40):  # until the track ends
                await asyncio.sleep(self.settings.interval_s if idle else tick)
                if self.track.readyState != "live":
                    return
                kbps = 0.0 if self.decision is None else self.decision.padding_kbps
                idle = kbps <= 0 or not can_pad(self.sender)
                if idle:
                    credit = 0.0
                    continue
                credit = min(credit + kbps * 1000 / 8 * tick, PADDING_BURST)
                for _ in range(64):
                    if credit < PADDING_MAX / 2:
                        break
                    credit -= await self._pad_once(int(min(credit, PADDING_MAX)))
        except asyncio.CancelledError:
            raise
        except ConnectionError:
            return
        except Exception:
            log.exception("padding task failed; no more probing for this viewer")

    async def _pad_once(self, size: int) -> int:
        """Send one packet of probing padding: a recent media packet again, or ``size`` bytes
        of padding alone before there is one; returns the bytes it took."""
        data = self.recent.take()
        if data is not None:
            return await send_copy(self.sender, self.counter, data, padding=True)
        return await send_padding(self.sender, self.counter, size)

    def step(self, now: float) -> Decision | None:
        """One controller run. Until the first receiver report there is no evidence but the
        ICE checks' round trip, which only the controller's ``start`` takes."""
        counter = self.counter
        sent, self._sent_taken = counter.bytes - self._sent_taken, counter.bytes
        other, self._data_taken = counter.data_bytes - self._data_taken, counter.data_bytes
        path_rtt = ice_rtt_s(self.sender)
        sample = self.feedback.take(now, sent, other, path_rtt)
        if self.feedback.rtt_s is not None:
            self.gate.rtt_s = self.feedback.rtt_s
        if not self._ready() or self.controller is None:
            return None
        if self.feedback.last_report is not None:
            decision: Decision | None = self.controller.update(sample)
        else:
            decision = self.controller.start(now, sample.path_rtt_ms)
        if decision is None:
            return None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("abr %.2f %s rung %d est %.0f pad %.0f copy %.0f loss %s rtt %s remb %s",
                      now, decision.reason, decision.rung, decision.estimate_kbps,
                      decision.padding_kbps, decision.copy_kbps, sample.loss, sample.rtt_ms,
                      sample.remb_kbps)
        self._apply(decision)
        return decision

    def _apply(self, decision: Decision) -> None:
        """Put the controller's decision into effect: the rung, the thinning, the budgets."""
        self.decision = decision
        track = self.track
        if decision.rung != (track.target if track.target is not None else track.rung):
            track.switch(decision.rung)
        track.thin = decision.thin
        self._budgets(decision.rung, decision.estimate_kbps)
        if decision.train_kbps > 0 and can_pad(self.sender):
            self.trains += 1
            task = asyncio.get_running_loop().create_task(self._train(decision.train_kbps))
            self._trains.add(task)
            task.add_done_callback(self._trains.discard)

    async def _train(self, kbps: float) -> None:
        """Send a packet train (``transport.train``): padding-only packets of ``PADDING_MAX``
        bytes at ``kbps`` for ``TRAIN_S``, past the pacer, a few every ``TRAIN_TICK_S``."""
        loop, credit = asyncio.get_running_loop(), 0.0
        start = loop.time()
        try:
            for tick in range(1, round(TRAIN_S / TRAIN_TICK_S) + 1):
                credit += kbps * 1000 / 8 * TRAIN_TICK_S
                while credit > 0:
                    credit -= await send_padding(self.sender, self.counter, PADDING_MAX,
                                                 paced=False)
                await asyncio.sleep(max(0.0, start + TRAIN_TICK_S * tick - loop.time()))
        except ConnectionError:
            return
        except Exception:
            log.exception("packet train not sent")

    def _on_queue(self, queue_ms: int) -> None:
        """The viewer reported a queue: the controller may switch it down now, before its next
        run (``AbrController.on_queue``)."""
        self._at_once(lambda controller, now: controller.on_queue(queue_ms, now))

    def _on_train(self, report: TrainReport) -> None:
        """The viewer reported a packet train: the controller may end the probe or switch the
        viewer up now (``AbrController.on_train``)."""
        self._at_once(lambda controller, now: controller.on_train(report, now))

    def _at_once(self, decide: Callable[[AbrController, float], Decision | None]) -> None:
        """A viewer's report between two controller runs: apply what the controller decides
        on it now, if anything."""
        if self.controller is None:
            return
        decision = decide(self.controller, time.monotonic())
        if decision is not None:
            self._apply(decision)

    def keyframe_request(self, now: float) -> None:
        """A PLI/FIR arrived: passed to the rung if due. One is honoured per
        ``max(keyframe_gap_s, 1.5 x RTT)``: the keyframe it asks for cannot arrive sooner, and
        every keyframe on a thin link costs the frames after it."""
        self.feedback.on_keyframe_request()
        self._request_keyframe(now)

    def _request_keyframe(self, now: float) -> None:
        """Ask the rung for a keyframe if one is due (see ``keyframe_request``)."""
        rtt = self.feedback.rtt_s or 0.0
        if now - self._last_keyframe < max(self.settings.keyframe_gap_s, 1.5 * rtt):
            self.keyframes_ignored += 1
            return
        self._last_keyframe = now
        self.track.request_keyframe()

    def stats(self) -> LinkStats:
        """The viewer's sending side now."""
        fb, rtx = self.feedback, self.gate.counts()
        received = self.delivery.kbps()
        age = None if fb.last_report is None else time.monotonic() - fb.last_report
        rtt_ms = None if fb.rtt_s is None else fb.rtt_s * 1000
        rates = self.rates or (_UNKNOWN_KBPS,)
        return LinkStats(
            target_kbps=rates[min(self.track.rung, len(rates) - 1)],
            estimate_kbps=None if self.decision is None else round(self.decision.estimate_kbps, 1),
            received_kbps=None if received is None else round(received, 1),
            loss_pct=None if fb.loss is None else round(fb.loss * 100, 2),
            rtt_ms=None if rtt_ms is None else round(rtt_ms, 1),
            nacks=fb.nacks, rtx_sent=rtx.sent, rtx_echoed=rtx.echoed, rtx_skipped=rtx.skipped,
            keyframe_requests=fb.keyframe_requests, stuck=rtx.stuck,
            packets_sent=self.counter.packets,
            padding_kbit=round(self.counter.padding_bytes * 8 / 1000, 1),
            copy_kbit=round(self.counter.copy_bytes * 8 / 1000, 1),
            thinned_frames=self.track.thinned, queue_reports=fb.queue_reports,
            trains=self.trains, train_reports=fb.train_reports,
            quality=grade(fb.loss_avg, rtt_ms, self.track.rung, len(rates), age,
                          self.settings.stale_s),
            reason="fixed" if self.decision is None else self.decision.reason,
        )

    async def aclose(self) -> None:
        """Stop the ABR and padding tasks (idempotent)."""
        tasks, self._tasks = self._tasks + list(self._trains), []
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
