"""Per-viewer bandwidth estimation and rung choice (sans-IO: feedback and ``now`` come in).

Settings: :class:`~rtc_interact.transport.abr_config.AbrConfig` (re-exported here).

The host encodes a fixed ladder of rungs once for everyone, so changing one viewer's rate means
moving it to another rung. Every ``AbrConfig.interval_s`` the adapter (``transport.abr_task``)
hands the :class:`AbrController` one :class:`Feedback` sample of what the viewer's RTCP said
since the previous one and what we sent; the controller returns a :class:`Decision`.

Estimation: :class:`~rtc_interact.transport.estimator.LossDelayEstimator` (GCC-like, pluggable
through ``Estimator``; see its module).

Probing: a rung sends at a fixed rate, so to find out whether the next rung fits, the controller
asks for padding (``Decision.padding_kbps``: the newest media packets sent again on the RTX
stream, which receivers count and drop unless they fill a hole) that brings what we send up to
the estimate, at most to the next rung's rate times ``1 + up_margin``. The estimate then grows
with what the path carries (the receiver's REMB follows it). Padding ramps from the rung's rate
by ``probe_ramp_per_s`` per second. Any decrease blocks probing for ``backoff_s``; a decrease
while padding, an early sign of a queue while padding (the ICE pings up by two thirds of
``ping_queue_ms``; unless pings come and show no such sign, also a REMB 10% lower, loss
above ``loss_low`` in two packets or more, the round trip up by ``queue_ms / 2``), or
``probe_max_s`` without reaching the next rung, ends the probe and blocks the next one for a
back-off (``backoff_s``, doubling up to ``backoff_max_s``); reaching it for ``up_hold_s``
switches up.
No probe starts for a next rung above ``probe_knee_factor`` times the rate at which the path
last showed a queue (``Estimator.knee``), for ``knee_memory_s`` after, doubled by each such probe
that fails and counted from the failure (``estimator.KneeMemory``): on a thin link such a probe
only fills the queue. Above that rate, a probe ramps linearly, by ``probe_knee_ramp_per_s`` of
it a second (``AbrController._ramp``), and the viewer switches up only once the ramp has reached
the next rung, even if the estimate (1.5 x what we send) says so sooner. Once the path has
carried ``KNEE_REFUTED`` times the knee with the pings calm, the knee is forgotten: the capacity
has grown since (``AbrController._refute_knee``); and so does a viewer's report of two packet
trains in a row that the path carried at the next rung's rate (``transport.train``, sent while a
probe runs above the knee), which also switches the viewer up (``AbrController.on_train``).

Rung choice (hysteresis) works on the *room*: the estimate less the other traffic we send on the
path (``Feedback.other_bytes``: data channels and their SCTP acknowledgements, smoothed over
~1 s), so that a burst of taps, acks and comments never has to queue behind video that fills
the link. Down at once when the current rung's rate exceeds the room, to the best rung that
fits; no climbing (probe or up-switch) while that traffic is above ``busy_share`` of the
estimate; up one rung only after the estimate has stayed above the next rung's rate
times ``1 + up_margin`` for ``up_hold_s``. An up-switch followed by a down-switch within
``probe_fail_s`` counts as a failed probe: the next up-switch to that rung waits
``backoff_s`` (doubling on each failure, reset by a probe that holds).

Thinning (``AbrConfig.thin_ping_ms``): a deep queue in the newest pings stops copies and
padding at once, and deeper still the droppable frames (``Decision.thin``; ``pings.Thinning``).
The viewer's report of a queue (``transport.queue_report``) ends a probe at once
(``queue_probe_ms``). With no probe running, it switches the viewer one rung down at once, with
the lower rung's copies, not onto the bottom rung: when two reports say ``queue_down_ms``, or one
of ``queue_probe_ms`` or more has grown by ``STEP_RISE_MS`` since the previous one, within
``STEP_WITHIN_S`` (a capacity step: the queue grows by a third of the time or faster).

Redundant copies (their level: ``transport.copies.CopyLevel``): from the session's start, and
after any loss (a receiver report with loss, or a NACK), for ``copy_hold_s`` after the last, the
room the rung leaves (the room times ``copy_fill``, less the rung's rate; at most the rung's
rate, and on a long path ``copy_cover`` times that, since a rung sends more than its nominal
rate) carries copies of the media packets (``Decision.copy_kbps``), sent a fraction of a round
trip after their originals: on a long path a retransmission cannot land within the receiver's
playout delay, a copy can. The first receiver report with loss comes seconds into a session, so
copies do not wait for it; a first round trip under ``copy_long_rtt_ms`` with no loss yet stops
them. Copies use the room before probing padding does (the padding asked for is what the copies
leave of it), so they probe as padding would; when the estimate falls they are the first to
shrink, the rung only when the room no longer holds it. The estimate may run above what the path
carries (it grows to 1.5 x what we send), and copies are redundancy that must not hold a queue
(on a 400 kbps link, copies filling the room kept a standing queue of 300-800 ms), so they have
a level of their own: from zero, up by ``copy_ramp_per_s`` of the rung's rate per second, halved
on any sign of a queue while no probe pads (the estimate falls; unless pings are calm, a REMB
10% below the previous one or the round trip up by ``queue_ms / 2``, smoothed or the reports'
own; and a second of ping signs in a row, ``PingWatch.standing``), within ``copy_fill`` of the
room. On a path they do not cover (below), copies and pacing stay under the rate at which the
path last showed a queue, while the next rung is far above it (``knee_cap``).

On a long path (``transport.path_length``: the ICE checks, made before any media, and every
report since say a round trip of at least ``copy_long_rtt_ms``; once long, ``LONG_EXIT_MS``
less, the pings included) with copies on, a packet without a copy is a frozen picture, so there
(``copy_first_long``) the viewer climbs with its copies: it starts on the best rung that fits
with them (:meth:`AbrController.start`), a probe's target is the next rung with its copies,
which keep their full share across an up-switch and are limited only by the room; the estimator
and the probe see the reported loss squared on the share copied, and a falling REMB is no sign
of a queue there; down, the copies shrink first, and the rung goes once the room no longer
holds it with ``copy_keep`` of its copies. On any path, each base-layer packet copied gets
two copies and a droppable frame's none (``copy_base_twice``). The measurements behind each
rule are in the ``AbrConfig`` fields' docstrings and ``benchmarks/RESULTS.md`` §13-§14 and
§52. The connection quality grade is in ``transport.quality``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..errors import ConfigurationError
from .abr_config import AbrConfig
from .abr_types import Decision, Feedback
from .copies import CopyLevel
from .estimator import (
    Estimator,
    Floor,
    KneeMemory,
    LossDelayEstimator,
    smoothed_kbps,
)
from .path_length import PathLength
from .pings import PingWatch, Thinning
from .train import TRAIN_BACKOFF_S, TrainProbe, TrainReport, Verdict

__all__ = ["AbrConfig", "AbrController", "Decision", "Feedback"]

KNEE_RAMP_FROM = 0.9
"""A probe's ramp turns linear this far below the knee (``AbrController._ramp``): the knee is
the rate sent when a queue showed, which a probe's overshoot can put above the capacity."""
KNEE_REFUTED = 1.2
"""The path carrying this many times the knee with the pings calm shows that its capacity has
grown since (``AbrController._refute_knee``)."""
CEILING_RUNGS = 3.0
"""The controller's estimate stops at this many times the top rung's rate."""
STEP_RISE_MS, STEP_WITHIN_S, STEP_RISE_MAX = 40.0, 0.12, 2.0
"""A report up this much on the previous one within this long, by at most this many times the
time between them (more would take a capacity under a third of what we send: an outlier, as in
``DEEP_REPORTS_WITHIN_S``), is a capacity step's queue (``AbrController.on_queue``): at
congested-evening's step to 600 kbps it came 0.1-0.3 s before the second report of
``queue_down_ms`` in half the runs, at 0.8-1.4 times the time (``benchmarks/RESULTS.md`` §48)."""
DEEP_REPORTS_WITHIN_S = 0.2
"""A switch down on the viewer's report (``AbrConfig.queue_down_ms``) takes two deep reports
this close together: a queue that a capacity step builds is reported every ~50 ms as it grows,
while one report of 382 ms between reports of 67 and 83 ms came on cn-brazil, where the path's
queue was never over 104 ms that second (retransmissions alone in the viewer's window, now left
out: ``queue_report.STALE_MS``; ``benchmarks/RESULTS.md`` §40). One report alone is an
outlier."""


def _grew_fast(previous: tuple[float, float], report: tuple[float, float]) -> bool:
    """Whether a report (when, queue in ms) grew on the previous one as a capacity step's queue
    does (``STEP_RISE_MS``, ``STEP_WITHIN_S``, ``STEP_RISE_MAX``)."""
    elapsed, rise = report[0] - previous[0], report[1] - previous[1]
    return elapsed <= STEP_WITHIN_S and STEP_RISE_MS <= rise <= STEP_RISE_MAX * 1000 * elapsed


@dataclass(slots=True)
class _Probe:
    backoff: dict[int, float] = field(default_factory=dict)
    """Per rung: current back-off after failed probes or up-switches."""
    blocked_until: dict[int, float] = field(default_factory=dict)
    """Per rung: no probe or up-switch towards it before this time."""
    since: float | None = None
    """When the running probe started."""
    quiet_until: float = float("-inf")
    """No probe before this time (the estimate fell)."""
    up_at: float | None = None
    up_rung: int | None = None


class AbrController:
    """Chooses a viewer's rung from its estimate, with quick down and cautious up switches."""

    def __init__(self, rung_kbps: Sequence[float], config: AbrConfig | None = None,
                 estimator: Estimator | None = None) -> None:
        if not rung_kbps or list(rung_kbps) != sorted(rung_kbps, reverse=True):
            raise ConfigurationError("rung rates must be given best first, non-increasing")
        self.config = config or AbrConfig()
        self.rates = tuple(float(r) for r in rung_kbps)
        start = self.config.start_rung
        self.rung = (len(self.rates) - 1) // 2 if start is None else start
        if not 0 <= self.rung < len(self.rates):
            raise ConfigurationError(f"start rung {self.rung} outside the ladder")
        self.estimator: Estimator = estimator or LossDelayEstimator(
            self.config, self.rates[self.rung] * (1 + self.config.up_margin),
            CEILING_RUNGS * self.rates[0])
        self.estimate = self.rates[self.rung] * (1 + self.config.up_margin)
        self.switches = 0
        self._above_since: float | None = None
        self._probe = _Probe()
        self._knee = KneeMemory(self.config.knee_memory_s, self.config.knee_memory_max_s)
        self._padding_on = False
        self._remb: float | None = None
        self._rtt, self._raw_rtt = Floor(), Floor()
        """Smallest round trips seen: the reports', their raw ones."""
        self._pings = PingWatch(self.config.ping_queue_ms)
        self._path = PathLength(self.config.copy_long_rtt_ms, self._rtt, self._pings.floor)
        self._copies_sent = 0.0
        self._deep_at: float | None = None
        """When the viewer last reported a queue of ``queue_down_ms`` or more (None after a
        shallower report, and after the switch down two such reports made)."""
        self._report: tuple[float, float] | None = None
        """The viewer's last report with no probe running: when, and the queue (ms)."""
        self.other_kbps = 0.0
        """Smoothed rate of the other traffic on the path (see the module docstring)."""
        self._carried_since: float | None = None
        """Since when we send ``KNEE_REFUTED`` x the knee with the pings calm."""
        self._last_now: float | None = None
        self._copies = CopyLevel(self.config, self._path)
        self._thin = Thinning(self.config.thin_ping_ms, self.config.thin_s)
        self._trains = TrainProbe()

    @property
    def room(self) -> float:
        """What the estimate leaves for video beside the other traffic."""
        return max(0.0, self.estimate - self.other_kbps)

    def _note_other(self, feedback: Feedback, dt: float) -> None:
        self._last_now = feedback.now
        if dt > 0:
            self.other_kbps = smoothed_kbps(self.other_kbps, feedback.other_bytes, dt)

    def update(self, feedback: Feedback) -> Decision:
        """Run the estimator on ``feedback`` and choose the rung (and padding)."""
        before, now = self.estimate, feedback.now
        dt = 0.0 if self._last_now is None else max(0.0, now - self._last_now)
        self._path.note(feedback.path_rtt_ms)
        if feedback.loss is not None and self._covered():
            feedback = replace(feedback, loss=self._residual_loss(feedback.loss))
        self.estimate = self.estimator.update(feedback)
        self._knee.note(self.estimator.knee(now), now)
        self._note_other(feedback, dt)
        ping_sign = self._pings.sign(feedback.ping_rtt_ms, now)
        self._note_thin(feedback)
        calm = self._pings.calm(now)  # then pings alone tell a queue
        self._refute_knee(now, calm)
        queue_signs = self._queue_signs(feedback) and not calm
        pushed_back = queue_signs or ping_sign or (self._loss_sign(feedback) and not calm)
        self._pace_copies(feedback, dt, queue_signs or self.estimate < before * 0.99
                          or (self._raw_queue(feedback) and not calm) or self._pings.standing())
        if self.estimate < before * 0.99 or (pushed_back and self._padding_on):
            self._push_back(now)
        if self._held(self.rates[self.rung]) > self.room and self.rung < len(self.rates) - 1:
            return self._down(now)
        if self.rung == 0:
            return self._decision("hold")
        target = self._up_target(self.rates[self.rung - 1])
        busy = self.other_kbps > self.config.busy_share * self.estimate
        blocked = busy or now < max(self._probe.blocked_until.get(self.rung - 1, float("-inf")),
                                    self._probe.quiet_until)
        if self.room >= target and not blocked:
            padding, ramp_short = self._padding(target, now)
            if ramp_short:  # a probe above the knee: the switch waits for its ramp
                self._above_since = None
            elif self._above_since is None:
                self._above_since = now
            if self._above_since is not None \
                    and now - self._above_since >= self._up_hold(target):
                return self._up(now)
            return self._decision("wait-up", padding, self._train(target, now))
        self._above_since = None
        if blocked or not self.config.probe \
                or self._knee.blocks(target, self.config.probe_knee_factor, now):
            return self._decision("hold")
        if self._probe.since is None:
            self._probe.since = now
        if now - self._probe.since > self.config.probe_max_s:
            self._fail(self.rung - 1, now)
            return self._decision("hold")
        return self._decision("probe", self._padding(target, now)[0], self._train(target, now))

    def start(self, now: float, path_rtt_ms: float | None) -> Decision | None:
        """Before the first receiver report (``update`` waits for one): on a path the ICE checks
        show long (``PathLength.long_at_start``), copies from now on, at their full share of the
        best rung that fits with them (``copy_first_long``, with ``copy_at_start``); None otherwise
        (no ICE round trip yet, a shorter path, or the rule off). A path taken for long here
        and shown shorter by the first report is left to the usual rules from then on."""
        cfg = self.config
        self._path.note(path_rtt_ms)
        if not (cfg.copies and cfg.copy_at_start and cfg.copy_first_long
                and self._path.long_at_start):
            return None
        self._last_now = now
        self._copies.hold(now)
        best = self._best_rung(with_copies=True)
        if best > self.rung:  # before the first frame, if the ICE checks are quick
            self.rung = best
            self.switches += 1
        self._copies.kbps = self._copies.cap(self.rates[self.rung])
        return self._decision("start")

    def _residual_loss(self, loss: float) -> float:
        """On a covered path, the loss a viewer is left with: a copied packet is lost only with
        its copy (the share copied: the copies last asked for over the rung's rate). Loss above
        ``loss_high`` is kept as reported: the back-off needs it."""
        if loss > self.config.loss_high:
            return loss
        share = min(1.0, self._copies_sent / self.rates[self.rung])
        return loss * (1 - share) + loss**2 * share

    def _covered(self) -> bool:
        """Whether a rung counts with its copies now (see ``AbrConfig.copy_first_long``): only
        on a path the ICE checks, made before any media, showed long (a report's round trip may
        include a queue the video built)."""
        cfg = self.config
        return cfg.copies and cfg.copy_first_long and self._path.long \
            and self._path.ice_ms < float("inf") \
            and self._last_now is not None and self._copies.on(self._last_now)

    def _best_rung(self, with_copies: bool) -> int:
        """The best rung the room holds (with its copies on a covered path if asked, else
        as ``_held``), else the bottom one."""
        return next((i for i, rate in enumerate(self.rates)
                     if (self._with_copies(rate) if with_copies else self._held(rate))
                     <= self.room),
                    len(self.rates) - 1)

    def _with_copies(self, rate: float, share: float = 1.0) -> float:
        """A rung of ``rate`` with ``share`` of its copies on a covered path (else its rate)."""
        return rate + share * self._copies.cap(rate) if self._covered() else rate

    def _held(self, rate: float) -> float:
        """The room a viewer needs to stay on a rung of ``rate``: on a covered path, with
        ``copy_keep`` of its copies, else the rate alone; while the video is thinned (a queue
        the rung may not drain: ``AbrConfig.thin_ping_ms``), as much as a climb to it needs."""
        if self._thin.depth(self._last_now):
            return max(self._up_target(rate), self._with_copies(rate, self.config.copy_keep))
        return self._with_copies(rate, self.config.copy_keep)

    def _up_target(self, rate: float) -> float:
        """The room a climb to a rung of ``rate`` needs: on a covered path, room for its copies
        (they are the margin there), else the rate times ``1 + up_margin``."""
        if self._covered():
            return self._with_copies(rate)
        return rate * (1 + self.config.up_margin)

    def _pace_copies(self, feedback: Feedback, dt: float, queue: bool) -> None:
        """The copies' level (``copies.CopyLevel``), halved on a sign of a ``queue`` they may
        have caused: not while probing (the padding goes first), nor on a covered path (there
        the copies are part of the stream: a real queue lowers the estimate and the room)."""
        self._copies.note(feedback)
        covered = self._covered()
        self._copies.pace(feedback.now, dt, self.rates[self.rung], full_at_once=covered,
                          halve=queue and not self._padding_on and not covered)

    def _loss_sign(self, feedback: Feedback) -> bool:
        """Loss above ``loss_low`` in two packets or more (when counted): one loss in a short
        report is no sign of a queue."""
        return feedback.loss is not None and feedback.loss > self.config.loss_low \
            and (feedback.lost is None or feedback.lost > 1)

    def _raw_queue(self, feedback: Feedback) -> bool:
        """Whether the sample's raw round trip (not smoothed) is up by ``queue_ms / 2``."""
        if feedback.rtt_raw_ms is None:
            return False
        return self._raw_rtt.excess(feedback.rtt_raw_ms) > self.config.queue_ms / 2

    def _note_thin(self, feedback: Feedback) -> None:
        """The newest pings thin the video (``pings.Thinning``) where copies do not cover it."""
        ping = feedback.ping_new_ms
        if ping is not None and not self._covered():
            self._thin.note(self._pings.floor.excess(ping), feedback.now, self.rung)

    def on_queue(self, queue_ms: float, now: float) -> Decision | None:
        """The viewer's report of a queue ``queue_ms`` long (``transport.queue_report``): from
        ``queue_probe_ms``, a climb ends at once; with no climb, one rung down at once on two
        reports of ``queue_down_ms`` within ``DEEP_REPORTS_WITHIN_S``, or on one of
        ``queue_probe_ms`` that grew by ``STEP_RISE_MS`` (see both); the new decision, else
        None."""
        if self._last_now is None:
            return None
        self._trains.queued(now)
        probe_deep = 0 < self.config.queue_probe_ms <= queue_ms
        if self._climbing:  # a probe's own queue
            if not probe_deep:
                return None
            self._push_back(now)
            return self._decision("hold")
        previous, self._report = self._report, (now, queue_ms)
        deep = self._deep_twice(queue_ms, now)  # (notes this report whatever comes of it)
        step = probe_deep and previous is not None and _grew_fast(previous, (now, queue_ms))
        if not (deep or step) or self.rung >= len(self.rates) - 2:
            return None  # (nor onto the bottom rung: that is the estimate's call)
        self._deep_at = None
        return self._deep_down(now)

    def _deep_twice(self, queue_ms: float, now: float) -> bool:
        """Whether this report and the one before it, within ``DEEP_REPORTS_WITHIN_S``, say
        ``queue_down_ms`` or more."""
        cfg = self.config
        if not cfg.queue_down_ms or queue_ms < cfg.queue_down_ms:
            self._deep_at = None
            return False
        deep_before, self._deep_at = self._deep_at, now
        return deep_before is not None and now - deep_before <= DEEP_REPORTS_WITHIN_S

    def _deep_down(self, now: float) -> Decision:
        """One rung down at once on a deep or fast-growing queue in the viewer's reports
        (``on_queue``), with the lower rung's copies in full if copies are on, and no thinning
        for two ``thin_s``."""
        self._push_back(now)  # no climb back before the estimate says so
        self._thin.clear(now + 2 * self.config.thin_s)
        if self._copies.on(now):  # copies on (a loss lately): the lower rung's in full
            lower = self._copies.cap(self.rates[self.rung + 1])
            self._copies.kbps = max(self._copies.kbps, lower)
        return self._switch_down(self.rung + 1)

    def _train(self, target: float, now: float) -> float:
        """The rate of a packet train due now: only while a probe runs above the knee, for a
        rung within its reach (``probe_knee_factor``: on a thin link a train only queues), and
        while the pings are calm (``train.QUEUED_S``)."""
        knee, cfg = self._knee.kbps, self.config
        if not cfg.trains or self._probe.since is None or knee is None or target <= knee \
                or self._knee.beyond(target, cfg.probe_knee_factor) or not self._pings.calm(now):
            return 0.0
        return self._trains.due(now, self.estimator.sent_kbps, target)

    def on_train(self, report: TrainReport, now: float) -> Decision | None:
        """The viewer's measure of a packet train (``transport.train``): one not carried ends
        the probe; the last of ``train.TRAINS_NEEDED`` in a row that the path carried at the
        next rung's target refutes the knee, raises the estimate to what that train carried,
        and switches the viewer up at once (the trains tested the rung: no ``up_hold_s``, in
        which a deep report on the path's jitter alone ended such a climb, §45). The new
        decision, else None."""
        if self.rung == 0 or self._probe.since is None:
            return None
        verdict = self._trains.heard(report, self._up_target(self.rates[self.rung - 1]))
        if verdict is Verdict.FAILED:
            self._push_back(now, train=True)
            return self._decision("hold")
        if verdict is not Verdict.REFUTED:
            return None
        self._knee.forget()
        self.estimate = self.estimator.carried(report.arrived_kbps)
        return self._up(now)

    @property
    def _climbing(self) -> bool:
        """Whether a probe runs or an up-switch waits."""
        return self._probe.since is not None or self._above_since is not None

    def _push_back(self, now: float, train: bool = False) -> None:
        """The path pushed back: a running probe (or an up-switch's wait) fails, its padding
        stops now, and no climb before ``backoff_s`` (``TRAIN_BACKOFF_S`` if a train did, or
        may have: its report is awaited)."""
        train = train or self._trains.awaiting(now)
        if self._climbing:
            self._fail(self.rung - 1, now, train)
            self._above_since = None
        self._probe.quiet_until = now + (TRAIN_BACKOFF_S if train else self.config.backoff_s)

    def _queue_signs(self, feedback: Feedback) -> bool:
        """Early signs of a queue, enough to end a probe (not to lower the estimate), with
        loss above ``loss_low``: a REMB 10% below the previous one (not on a covered path,
        where it fell on plain jitter: see the module docstring), or the round trip up by half
        of ``queue_ms``. (``update`` takes none of them while pings are calm:
        ``PingWatch.calm``.)"""
        signs = False
        if feedback.remb_kbps is not None:
            signs = self._remb is not None and feedback.remb_kbps < 0.9 * self._remb \
                and not self._covered()
            self._remb = feedback.remb_kbps
        if feedback.rtt_ms is not None:
            up = self._rtt.excess(feedback.rtt_ms)  # noted even when the REMB said it
            signs = signs or up > self.config.queue_ms / 2
        return signs

    def _padding(self, target: float, now: float) -> tuple[float, bool]:
        """Padding that brings what we send to the probe's ramp (``_ramp``), up to the
        estimate and the next rung's rate x (1 + margin); and whether a probe above the knee
        has not yet ramped to that rate (an up-switch on the estimate alone, which grows to
        1.5 x what we send, put viewers on rungs the path did not hold). With no probe running
        the padding goes straight to that rate (a ramp, above the knee): ``up_hold_s`` at it
        tests the up-switch."""
        if not self.config.probe:
            return 0.0, False
        rate, knee = self.rates[self.rung], self._knee.kbps
        if self._probe.since is None and knee is not None and target > knee:
            self._probe.since = now
        top = min(self.room, target * 1.02, self._ramp(now))
        padding = float(max(0.0, top - rate))  # (``_decision`` caps it, beside the copies)
        self._padding_on = padding > 0
        return padding, knee is not None and top < target

    def _up_hold(self, target: float) -> float:
        """How long the room must hold ``target`` before the switch up: ``up_hold_s``, and for
        a rung above the knee also a ping window and the path's round trip, so that the pings
        have shown what sending at it does (on mobile-3g-weak a probe that crept up to 2% over
        the 400 kbps link passed ``up_hold_s``, and the viewer sat on a rung with no room left
        for its copies: ``benchmarks/RESULTS.md`` §29)."""
        knee = self._knee.kbps
        if knee is None or target <= knee:
            return self.config.up_hold_s
        return self.config.up_hold_s + self._pings.lag_s()

    def _refute_knee(self, now: float, calm: bool) -> None:
        """Sending ``KNEE_REFUTED`` x the knee for ``PingWatch.lag_s`` with the pings calm shows
        that the capacity has grown: the knee is forgotten, and a probe above it ramps on
        exponentially from where it is (on congested-evening a knee from the 600 kbps phase
        slowed the climb after the step up to 2500 kbps: ``benchmarks/RESULTS.md`` §30)."""
        knee = self._knee.kbps
        if knee is None or not calm or self.estimator.sent_kbps < KNEE_REFUTED * knee:
            self._carried_since = None
            return
        if self._carried_since is None:
            self._carried_since = now
        if now - self._carried_since < self._pings.lag_s():
            return
        level = self._ramp(now) if self._probe.since is not None else None
        self._knee.forget()
        self._carried_since = None
        if level is not None:
            self._probe.since = now - self._exponential_s(level)

    def _exponential_s(self, level: float) -> float:
        """How long a probe's exponential ramp takes from where it starts (the rung's rate,
        with its copies on a covered path) to ``level`` (0 for a level below the start)."""
        start = self._with_copies(self.rates[self.rung])
        return math.log(level / start, 1 + self.config.probe_ramp_per_s) if level > start else 0.0

    def _ramp(self, now: float) -> float:
        """What a running probe sends by ``now``: from the rung's rate (with its copies on a
        covered path) up by ``probe_ramp_per_s`` a second, compounded, to ``KNEE_RAMP_FROM``
        times the knee; above, by ``probe_knee_ramp_per_s`` of the knee a second. Infinite with
        no probe."""
        cfg, since, knee = self.config, self._probe.since, self._knee.kbps
        if since is None:
            return float("inf")
        start = self._with_copies(self.rates[self.rung])
        elapsed = max(0.0, now - since)
        grown = float(start * (1 + cfg.probe_ramp_per_s) ** elapsed)
        if knee is None or grown <= KNEE_RAMP_FROM * knee:
            return grown
        near = KNEE_RAMP_FROM * knee
        return max(start, near) + cfg.probe_knee_ramp_per_s * knee * (
            elapsed - self._exponential_s(near))

    def _fail(self, rung: int, now: float, train: bool = False) -> None:
        """A probe or up-switch towards ``rung`` failed: back off before the next (if a train
        ended it, ``TRAIN_BACKOFF_S``, and the back-off and the knee's memory stay)."""
        probe = self._probe
        probe.since = None
        self._trains.reset()
        if train:
            probe.blocked_until[rung] = now + TRAIN_BACKOFF_S
            return
        wait = min(probe.backoff.get(rung, self.config.backoff_s / 2) * 2,
                   self.config.backoff_max_s)
        probe.backoff[rung] = wait
        probe.blocked_until[rung] = now + wait
        self._knee.failed(self._up_target(self.rates[rung]), self.config.probe_knee_factor, now)

    def _down(self, now: float) -> Decision:
        new = self._best_rung(with_copies=False)
        probe = self._probe
        if probe.up_at is not None and probe.up_rung is not None \
                and now - probe.up_at <= self.config.probe_fail_s and new > probe.up_rung:
            self._fail(probe.up_rung, now)
        return self._switch_down(new)

    def _switch_down(self, rung: int) -> Decision:
        probe = self._probe
        probe.up_at = probe.up_rung = probe.since = None
        self._trains.reset()
        self.rung = rung
        self.switches += 1
        self._above_since = None
        return self._decision("down")

    def _up(self, now: float) -> Decision:
        probe = self._probe
        if probe.up_at is not None and probe.up_rung is not None:
            probe.backoff.pop(probe.up_rung, None)  # the previous up-switch held
        if self._covered():  # the copies keep their share of the rung (the probe made room)
            self._copies.kbps *= self.rates[self.rung - 1] / self.rates[self.rung]
        self.rung -= 1
        self._knee.switched_up(self._up_target(self.rates[self.rung]))
        probe.up_at, probe.up_rung, probe.since = now, self.rung, None
        self._trains.reset()
        self.switches += 1
        self._above_since = None
        return self._decision("up")

    def _thin_knee(self, covered: bool) -> float | None:
        """The knee, where ``knee_cap`` holds copies and pacing under it: a path the copies do
        not cover, whose next rung is beyond ``probe_knee_factor`` times it (on a path where
        the next rung is in reach, the copies fill the room as before: on congested-evening,
        fewer copies left the estimate above a rung that no longer fitted after a step down)."""
        if not self.config.knee_cap or covered or self.rung == 0:
            return None
        target = self._up_target(self.rates[self.rung - 1])
        return self._knee.kbps if self._knee.beyond(target, self.config.probe_knee_factor) \
            else None

    def _decision(self, reason: str, padding: float = 0.0, train: float = 0.0) -> Decision:
        if padding == 0.0:
            self._padding_on = False
        rate, copies, covered = self.rates[self.rung], 0.0, self._covered()
        knee = self._thin_knee(covered)
        depth = self._thin.depth(self._last_now)
        thin = depth > 1
        if depth:
            padding, train, self._padding_on = 0.0, 0.0, False
        elif self._copies.kbps > 0:  # on a covered path the rung's choice left the copies' room
            room = self.room if covered else self.room * self.config.copy_fill
            if knee is not None:
                room = min(room, knee * self.config.copy_fill)
            copies = min(self._copies.kbps, self._copies.cap(rate), max(0.0, room - rate))
        cap = self.config.padding_max_kbps
        if covered:  # what the copies leave is capped; the probe stands for the next rung's too
            padding = min(padding - copies, max(cap, self.rates[max(0, self.rung - 1)]))
        else:
            padding = min(padding, cap) - copies
        padding = max(0.0, padding)
        self._copies_sent = copies
        base = 2 if self.config.copy_base_twice else 1
        pace_at = None if padding else knee  # a probe sends above the knee on purpose
        return Decision(self.rung, rate, self.estimate, reason, padding, copies, base, thin,
                        pace_at, train)
