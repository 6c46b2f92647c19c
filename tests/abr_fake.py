"""A fake bottleneck for the sans-IO ABR controller's tests (``test_abr*.py``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from rtc_interact.transport.abr import AbrController, Decision, Feedback

TICK = 0.25


@dataclass
class FakePath:
    """A bottleneck with a drop-tail queue, receiver reports every second and an aiortc-like
    REMB (0.85 x what arrived on over-use, else up to 1.5 x what arrived, +8 %/s)."""

    capacity: float
    other_kbps: float = 0.0
    """Non-video traffic on the same path (data channels) ..."""
    report_other: bool = True
    """... reported to the controller as ``other_bytes``."""
    random_loss: float = 0.0
    """Loss fraction on top of the queue's drops (reported, not taken off what arrives)."""
    base_rtt_ms: float = 150.0
    path_rtt_ms: float | None = None
    """Round trip of the ICE checks, given with every sample (None: not known)."""
    queue_max_ms: float = 400.0
    pings: bool = False
    """Give an ICE ping's round trip (the path's and the queue's) with every sample."""
    ping_window: int = 1
    """With ``pings``, give them as the host takes them: the lowest over this many samples
    (a window: the queue shows in it once its oldest ping sees it)."""
    queue_ms: float = 0.0
    queues: list[float] = field(default_factory=list)
    remb: float | None = None
    sent_kbit: float = 0.0
    lost_kbit: float = 0.0
    since_report: float = 0.0
    trace: list[tuple[float, Decision]] = field(default_factory=list)

    def feedback(self, now: float, decision: Decision | None) -> Feedback:
        video = 0.0 if decision is None else \
            decision.target_kbps + decision.padding_kbps + decision.copy_kbps
        sending = video + self.other_kbps
        growth = (sending - self.capacity) / self.capacity * TICK * 1000
        overuse = growth > 0
        self.queue_ms = min(self.queue_max_ms, max(0.0, self.queue_ms + growth))
        dropped = max(0.0, sending - self.capacity) if self.queue_ms >= self.queue_max_ms else 0
        arrived = min(sending, self.capacity)  # what leaves the bottleneck
        self.sent_kbit += sending * TICK
        self.lost_kbit += dropped * TICK
        remb = None
        if overuse and self.remb is not None:
            remb = self.remb = 0.85 * arrived
        elif self.since_report + TICK >= 1.0:
            self.remb = min((self.remb or arrived) * 1.08, 1.5 * max(arrived, 1.0))
            remb = self.remb
        loss = rtt = None
        self.since_report += TICK
        if self.since_report >= 1.0:
            loss = self.random_loss + (self.lost_kbit / self.sent_kbit if self.sent_kbit else 0)
            rtt = self.base_rtt_ms + self.queue_ms
            self.since_report, self.sent_kbit, self.lost_kbit = 0.0, 0.0, 0.0
        self.queues.append(self.queue_ms)
        ping = self.base_rtt_ms + min(self.queues[-self.ping_window:]) if self.pings else None
        return Feedback(now=now, sent_bytes=int(video * TICK * 1000 / 8), loss=loss,
                        rtt_ms=rtt, remb_kbps=remb, path_rtt_ms=self.path_rtt_ms,
                        ping_rtt_ms=ping,
                        other_bytes=int(self.report_other * self.other_kbps * TICK * 1000 / 8))


def run(controller: AbrController, path: FakePath, start: float, seconds: float,
        decision: Decision | None = None) -> Decision | None:
    """Drive ``controller`` over ``path`` for ``seconds`` of fake time."""
    for i in range(int(seconds / TICK)):
        now = start + i * TICK
        decision = controller.update(path.feedback(now, decision))
        path.trace.append((now, decision))
    return decision


def first_time(path: FakePath, after: float, ok: object) -> float | None:
    """Seconds after ``after`` until the rung satisfies ``ok`` (a callable on the rate)."""
    assert callable(ok)
    for now, decision in path.trace:
        if now >= after and ok(decision.target_kbps):
            return now - after
    return None


def probe_starts(path: FakePath) -> list[float]:
    """When each probe of ``path``'s trace started."""
    return [t for (_, before), (t, d) in itertools.pairwise(path.trace)
            if d.reason == "probe" and before.reason != "probe"]
