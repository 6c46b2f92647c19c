"""The per-viewer ABR controller's settings (``transport.abr`` has the rules they tune).

Each field's docstring says what it does and, where a measurement chose its value, which one
(``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError
from .estimator import GROWTH_CAP


@dataclass(frozen=True, slots=True)
class AbrConfig:
    """How the per-viewer ABR controller behaves."""

    start_rung: int | None = None
    """Rung a viewer starts on; None: the middle of the ladder, rounding up to the better rung
    (rung 1 of 3 or 4, rung 0 of 2: conservative without starting a two-rung ladder at the
    bottom)."""
    interval_s: float = 0.25
    """Seconds between two controller runs."""
    loss_high: float = 0.20
    """Loss fraction above which the estimate backs off."""
    loss_low: float = 0.04
    """Loss fraction below which the estimate may grow."""
    loss_calm: float = 0.06
    """While the ICE pings come and show no queue, the estimate may grow through smoothed loss
    up to this, not only up to ``loss_low``: loss with no queue is the path's own. After
    congested-evening's step up to 2500 kbps, its 2% of loss in bursts (one burst is ~6% of a
    report on the 190 kbps rung) kept the smoothed loss above ``loss_low`` and the estimate
    still for 5-14 s (``benchmarks/RESULTS.md`` §34.1, §39). Growth there is safe only because
    the viewer's report ends a probe at once (``queue_probe_ms``): without it, §34.2."""
    loss_weight: float = 0.25
    """Weight of a new report in the smoothed loss (a report covers few packets at low rates)."""
    queue_ms: float = 120.0
    """Round trip above the smallest seen by this much: a queue is building."""
    increase_per_s: float = 0.15
    """Multiplicative growth of the estimate per second while the path is clean."""
    knee_increase_per_s: float = 0.03
    """Above the rate at which the last queue built, the estimate grows by this share of that
    rate per second instead (additive, as GCC near the link's capacity) ..."""
    knee_memory_s: float = 15.0
    """... for this long after that queue showed."""
    ping_queue_ms: float = 60.0
    """The ICE pings' round trip (``Feedback.ping_rtt_ms``) above the smallest by this much:
    a queue (the estimate backs off; again only if it grows by half this more, until it has
    fallen below half this)."""
    decrease_gap_s: float = 0.5
    """Shortest time between two decreases of the estimate."""
    up_margin: float = 0.15
    """An up-switch needs the estimate above the next rung's rate times (1 + this)."""
    up_hold_s: float = 1.0
    """... continuously for this long."""
    probe_fail_s: float = 4.0
    """A down-switch this soon after an up-switch marks the up-switch as a failed probe."""
    backoff_s: float = 4.0
    """Wait before retrying a failed probe or up-switch (doubles per failure, up to
    ``backoff_max_s``)."""
    backoff_max_s: float = 8.0
    """Longest wait between probes: a capacity step up is found within about this plus the
    ramp and ``up_hold_s``."""
    probe: bool = True
    """Probe with padding before switching up (False: switch up on the estimate alone)."""
    trains: bool = True
    """While a probe runs above the knee, send packet trains (``transport.train``): two that the
    viewer reports carried refute the knee and switch the viewer up at once."""
    probe_ramp_per_s: float = 0.25
    """A probe raises what we send (rung + padding) by this much per second."""
    probe_knee_ramp_per_s: float = 0.1
    """Above the rate at which the path last showed a queue (the knee), a probe ramps what we
    send by this share of the knee per second (linear), not by ``probe_ramp_per_s``
    compounded: the pings show a probe's queue a second or more after it began, and near the
    path's capacity the exponential ramp had run well past it by then: in traces, each probe
    queued 230-320 ms on abr-300-loss3, and on mobile-3g-weak the probes for the 190 kbps rung
    with its copies, one every ~10 s, 220-285 ms (``benchmarks/RESULTS.md`` §29). Below
    ``abr.KNEE_RAMP_FROM`` times the knee, and with no knee, the ramp stays exponential: a
    capacity step up is still climbed quickly."""
    probe_knee_factor: float = GROWTH_CAP
    """No probe for a next rung above this many times the rate at which the path last showed a
    queue, for ``knee_memory_s`` after it was noted (``estimator.KneeMemory``; the estimate
    itself grows to at most ``estimator.GROWTH_CAP`` x what we send): on abr-300-loss3 each
    probe for the 530 kbps rung (610 kbps with its margin) filled the 300 kbps link's queue to
    110-360 ms, and most freezes came in the 3 s after one."""
    knee_memory_max_s: float = 60.0
    """Each failed probe for a rung above ``probe_knee_factor`` times the knee doubles how long
    the knee blocks the next, from ``knee_memory_s`` up to this (an up-switch above the knee
    resets it): a capacity step up on such a thin path is found within about this long."""
    knee_cap: bool = True
    """On a path the copies do not cover, while the next rung is above ``probe_knee_factor``
    times the knee, the copies fill ``copy_fill`` of the knee at most, and the pacer paces at
    the knee (``Decision.knee_kbps``). On abr-300-loss3 the copies followed the estimate up to
    the 300 kbps link every 6-10 s, and the frames' own bursts queued 100-160 ms in it:
    retransmissions waited behind both (``benchmarks/RESULTS.md`` §28)."""
    probe_max_s: float = 15.0
    """A probe that has not reached the next rung after this long ends (and backs off)."""
    busy_share: float = 0.3
    """No probing or up-switch while other traffic on the path (data channels) is above this
    share of the estimate: a probe fills the bottleneck's queue on purpose, and in a tap storm
    the taps would wait in it. The climb resumes when the storm is over."""
    copies: bool = True
    """Send redundant copies of media packets in spare room on lossy paths (see
    ``transport.abr``)."""
    copy_hold_s: float = 10.0
    """Copies go on for this long after the last loss report or NACK."""
    copy_at_start: bool = True
    """On a long path, copies from the session's start, for ``copy_hold_s``, as after a loss:
    the first loss report comes seconds in, and each loss before the copies flow costs a
    frozen round trip. A first round trip that shows a shorter path, with no loss yet, stops
    them (before it, the path's length is unknown)."""
    copy_cover: float = 1.15
    """On a long path, copies reach this many times the rung's rate: a rung sends more than
    its nominal rate (on cn-brazil ~580 kbps arrived on the 530 kbps rung: headers and the
    encoder's overshoot), and copies held to the nominal rate left that part uncopied."""
    copy_long_rtt_ms: float = 190.0
    """A long path: its smallest round trip is at least this (once long, until it, or the
    smallest ICE ping, is ``path_length.LONG_EXIT_MS`` under it). There a retransmission cannot
    land within the viewer's playout delay (at most 200 ms), so every lost packet without a
    copy freezes the picture (on mobile-3g-weak, 180 ms and 20 ms of jitter each way, a
    retransmission came 222-339 ms after its hole). On a shorter path a retransmission mostly
    lands in time, and on a thin link, where the estimate runs high, more copies held a
    queue. (From 250 ms: ``benchmarks/RESULTS.md`` §22.3, §23.)"""
    copy_first_long: bool = True
    """On a long path with copies on, climb with the copies: a viewer starts on, and probes
    for, a rung that fits with its copies (``copy_cover`` x its rate), which start at and keep
    across an up-switch their full share of the rung, and are not halved on a queue sign (see
    ``transport.abr``); the estimator and the probe see the reported loss squared on the
    share copied, and a REMB that falls alone ends no probe. Before the first report this needs
    ``copy_at_start`` and ICE checks of ``path_length.START_LONG_FACTOR`` x ``copy_long_rtt_ms``."""
    copy_keep: float = 0.5
    """Where ``copy_first_long`` covers a path, the viewer stays on its rung while the room
    holds the rung and this share of its copies (``copy_cover`` x its rate), and goes down to
    the best rung that it holds otherwise."""
    copy_base_twice: bool = True
    """While copies are sent, each packet of the base layer (and of a keyframe) gets two
    copies and a droppable frame's packets none: a packet lost with its one copy froze the
    picture for a round trip (about one freeze a minute on cn-brazil), while a droppable frame
    lost is skipped, one frame less on screen. The budget is the same (the copies' rate). On a
    short path too: on congested-evening, whose lossy phases are where the copies come, this
    cut the freezes by a third (``benchmarks/RESULTS.md`` §52)."""
    thin_ping_ms: float = 120.0
    """On a path the copies do not cover, the newest pings up by this much (a queue that the
    window's lowest ping shows only a window later) stop the copies and the padding at once,
    for ``thin_s`` after the last such sample while the viewer stays on its rung, and up by
    ``pings.THIN_FRAMES_FACTOR`` times this, the sender also skips the droppable frames (the
    temporal layer above the base, ~40% of the rung's rate). Meanwhile the rung is kept only
    with a climb's margin of room. A switch down needs the estimate below the rung, often a
    second cut a window and a round trip later, and then a keyframe; meanwhile, on
    congested-evening's step from 1200 to 600 kbps, the bottleneck's 500 ms queue stayed full
    for 1.3 s and froze the picture (``benchmarks/RESULTS.md`` §32.3, §36). On a covered path
    a packet without its copy is a frozen picture: there thinning froze mobile-3g-weak more.
    Such a ping switching a viewer above the second-lowest rung one rung down instead, with
    its copies (§47), also switched it down on the pings' jitter in congested-evening's 1200
    kbps phase, which then delivered 0.57-0.70 of its capacity against 0.77; the viewer's
    reports make that switch (``queue_down_ms``, ``abr.STEP_RISE_MS``; §48). 0: off."""
    thin_s: float = 1.0
    """How long one such sample thins the video."""
    queue_down_ms: float = 160.0
    """A queue this long in the viewer's own report (``transport.queue_report``: the lowest
    one-way delay of its newest packets; our Python viewer sends it, browsers do not), twice
    within ``abr.DEEP_REPORTS_WITHIN_S``, switches the viewer one rung down at once, when no
    probe pads and not onto the bottom rung (that stays the estimate's call: reports on the
    190 kbps rung had doubled the time on the 80 kbps one) (``AbrController.on_queue``). The
    thinning then ends and no ping thins for two ``thin_s``: on the lower rung the copies fit
    beside the rate and cover the loss that a capacity step brings with it. On
    congested-evening's step from 1200 to 600 kbps (8% of loss from there) the queue built
    before the estimate's cut, and thinning had stopped the copies just when the loss began:
    freezes with no packet dropped by the queue (``benchmarks/RESULTS.md`` §38). On a path the
    copies cover, the rung with its copies (~1140 kbps) had filled the 1200 kbps phase with a
    queue of up to 360 ms, and at the step to 600 kbps the queue reached its 500 ms limit
    before the estimate's cut, in each of 6 runs (§40). At 240 ms the switch came 0.7-1.1 s
    after the step, after the copies had been cut. At 160 ms, with a report that grew fast
    switching too (``abr.STEP_RISE_MS``), congested-evening froze 57 times in 24 runs, its
    1200 kbps phase delivered 0.71 of its capacity and every step up fitted within 10 s (48,
    0.64 and 20 of 24 with §47's switch on the pings instead: §48); the reports on cn-brazil,
    cn-eu and cn-us-west stayed under 100 ms. 0: reports switch nothing."""
    queue_probe_ms: float = 100.0
    """A queue this long in the viewer's report ends a probe (or an up-switch's wait) at once,
    as a failed probe (``AbrController.on_queue``). The pings show it a second later: in a trace
    of congested-evening's 600 kbps phase, a probe's reports went 75, 92, 121 and 224 ms before
    the viewer switched up, into a queue that reached 392 ms (``benchmarks/RESULTS.md`` §39).
    On that profile's faster phases, with nothing to queue behind, jitter (15 ms, held ~50 ms)
    and keyframes gave reports of up to 88-100 ms in two traces: much lower, and noise would
    end probes. 0: off."""
    copy_ramp_per_s: float = 0.25
    """Copies grow by this share of the rung's rate per second while no queue shows."""
    copy_fill: float = 0.75
    """Copies fill the room times this, less the rung's rate (the estimate errs high by up
    to the 15-20% a probe overshoots: copies leave that margin)."""
    padding_max_kbps: float = 600.0
    """Most padding one viewer is sent (with ``copy_first_long``, beside the copies and at
    least the next rung's rate)."""
    min_kbps: float = 50.0
    """Floor of the estimate."""
    max_kbps: float = 20_000.0
    """Ceiling of the estimate."""
    rtx_share: float = 0.25
    """Share of the estimate that retransmissions may use (per second)."""
    pacing_factor: float = 2.5
    """Packets leave at most this many times the rung's rate (a frame's burst is spread)."""
    keyframe_gap_s: float = 0.5
    """A viewer's keyframe requests (PLI/FIR) are honoured at most once per this long, or
    per 1.5 round trips if longer."""
    stale_s: float = 5.0
    """No receiver report for this long: the connection is graded LOST."""

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.up_hold_s < 0 or self.backoff_s < 0:
            raise ConfigurationError("AbrConfig: interval_s > 0, up_hold_s and backoff_s >= 0")
        low, weight = self.loss_low, self.loss_weight
        if not 0 <= low <= min(self.loss_calm, self.loss_high) <= 1 or not 0 < weight <= 1:
            raise ConfigurationError("AbrConfig: 0 <= loss_low <= loss_high <= 1, loss_low <= "
                                     "loss_calm, 0 < loss_weight <= 1")
        if not 0 < self.min_kbps < self.max_kbps or not 0 <= self.rtx_share <= 1:
            raise ConfigurationError("AbrConfig: 0 < min_kbps < max_kbps, rtx_share 0..1")
        if self.probe_knee_factor < 1:
            raise ConfigurationError("AbrConfig: probe_knee_factor >= 1")
        if self.pacing_factor < 1 or min(self.increase_per_s, self.up_margin,
                                         self.knee_increase_per_s, self.knee_memory_s,
                                         self.knee_memory_max_s, self.ping_queue_ms,
                                         self.probe_knee_ramp_per_s, self.thin_ping_ms,
                                         self.thin_s, self.queue_down_ms, self.queue_probe_ms) < 0:
            raise ConfigurationError("AbrConfig: pacing_factor >= 1, increases, margin, "
                                     "knee_memory_s, ping_queue_ms, ramps, thin_* >= 0")
        if min(self.copy_hold_s, self.copy_ramp_per_s) < 0 \
                or not (0 <= self.copy_fill <= 1 and 0 <= self.copy_keep <= 1):
            raise ConfigurationError("AbrConfig: copy_hold_s, copy_ramp_per_s >= 0, "
                                     "copy_fill and copy_keep 0..1")
