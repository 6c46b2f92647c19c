"""Connection quality grade of one viewer (excellent/good/poor/lost), like the commercial SDKs
expose: :func:`grade` turns the newest loss, round trip, rung and report age into one."""

from __future__ import annotations

import enum


class Quality(enum.Enum):
    """Connection quality grade of one viewer, like the commercial SDKs expose."""

    EXCELLENT = "excellent"
    GOOD = "good"
    POOR = "poor"
    LOST = "lost"


GRADE_THRESHOLDS = {
    Quality.EXCELLENT: (0.02, 300.0),
    Quality.GOOD: (0.05, 600.0),
}
"""Grade: (loss fraction below, round trip ms below). EXCELLENT also needs the top rung,
GOOD any rung above the bottom (or a one-rung ladder); the rest is POOR. LOST: not connected, or
no receiver report for ``AbrConfig.stale_s``."""


def grade(loss: float | None, rtt_ms: float | None, rung: int | None, rungs: int,
          report_age_s: float | None, stale_s: float = 5.0) -> Quality:
    """Grade a viewer from its newest loss, round trip, rung and report age (None: no report
    yet, graded from the rung alone)."""
    if report_age_s is not None and report_age_s > stale_s:
        return Quality.LOST
    loss = loss or 0.0
    rtt = rtt_ms or 0.0
    low_loss, low_rtt = GRADE_THRESHOLDS[Quality.EXCELLENT]
    if loss < low_loss and rtt < low_rtt and rung in (0, None):
        return Quality.EXCELLENT
    mid_loss, mid_rtt = GRADE_THRESHOLDS[Quality.GOOD]
    if loss < mid_loss and rtt < mid_rtt and (rung is None or rungs == 1 or rung < rungs - 1):
        return Quality.GOOD
    return Quality.POOR
