"""What the ABR controller (``transport.abr``) takes and gives: one viewer's feedback sample,
and the decision for that viewer (sans-IO, frozen)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Decision", "Feedback"]


@dataclass(frozen=True, slots=True)
class Feedback:
    """What one viewer's RTCP said since the previous sample, and what we sent to it."""

    now: float
    """Monotonic seconds when the sample was taken."""
    sent_bytes: int
    """Media bytes (RTP, retransmissions included) sent since the previous sample."""
    loss: float | None = None
    """Fraction lost over the receiver reports of the interval (of the spans closed in it,
    ``abr_task.REPORT_SPAN_S``; None: none)."""
    lost: int | None = None
    """Packets those reports say were lost (None: not counted). One loss is no sign of a queue
    (at 190 kbps a Chromium viewer's sample covers ~16 packets: one lost says 6%)."""
    rtt_ms: float | None = None
    """Round trip from the newest report (LSR/DLSR, smoothed by aiortc), None if none."""
    rtt_raw_ms: float | None = None
    """The reports' own round trip, not smoothed: the lowest over a span of reports
    (``abr_task.REPORT_SPAN_S``; None if none closed in the interval)."""
    remb_kbps: float | None = None
    """Newest REMB in the interval, None if none."""
    nacks: int = 0
    """Packets NACKed in the interval."""
    other_bytes: int = 0
    """Other bytes sent on the same path since the previous sample (data channels: taps' acks,
    comments, SCTP acknowledgements), wire overhead included."""
    path_rtt_ms: float | None = None
    """Smallest round trip measured outside RTCP (the ICE checks), None if none: it tells only
    how long the path is, sooner than the first receiver report."""
    ping_rtt_ms: float | None = None
    """The lowest round trip of the ICE pings answered lately (``estimator.PING_WINDOW_S``),
    None if none came in the interval: a queue sign every ``interval_s`` (see the estimator)."""
    ping_new_ms: float | None = None
    """The lowest round trip of the pings answered in the interval (None: none): a queue shows
    in it a window sooner than in ``ping_rtt_ms`` (``AbrConfig.thin_ping_ms``)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the controller wants for one viewer now."""

    rung: int
    """Rung to be on (0 is the top)."""
    target_kbps: float
    """Rate the viewer is sent at: the rung's rate (pacing and retransmission budgets use it)."""
    estimate_kbps: float
    """Available bandwidth as estimated."""
    reason: str
    """Why: 'hold', 'down', 'up', 'wait-up' (hysteresis or back-off), 'probe', 'start' (before
    the first report, on a long path)."""
    padding_kbps: float = 0.0
    """Probing padding to send on top of the rung (0: none)."""
    copy_kbps: float = 0.0
    """Redundant copies of media packets to send on top of the rung (0: none)."""
    base_copies: int = 1
    """Copies of each base-layer packet while ``copy_kbps`` lasts (see
    ``AbrConfig.copy_base_twice``)."""
    thin: bool = False
    """Skip the droppable frames: the newest pings show a deep queue (``AbrConfig.thin_ping_ms``,
    ``pings.THIN_FRAMES_FACTOR``)."""
    knee_kbps: float | None = None
    """With ``AbrConfig.knee_cap``, the rate at which the path last showed a queue: the pacer
    paces at it (None: no cap, or a probe pads)."""
    train_kbps: float = 0.0
    """Send a packet train now (``transport.train``): padding-only packets at this rate for
    ``train.TRAIN_S``, beside the rest (0: none)."""
