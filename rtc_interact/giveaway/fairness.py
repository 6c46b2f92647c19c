"""The latency-fair entry window, sans-IO.

A viewer whose video runs 800 ms behind sees "entries open" 800 ms later, and "entries close" 800 ms
later, than the host. So a tap is judged by the *frame the viewer was seeing*: each tap carries the
media timestamp of that frame (host wall-clock ms at capture, read from the frame stamp). The rule:

* with a media timestamp ``m``: the tap counts iff ``open_ms <= m <= close_ms`` AND the implied
  delay ``arrival_ms - m`` (minus the tap's own uplink time, ``rtt_ms / 2``, when clock sync
  measured it) is at most ``max_allowance_ms + slack_ms``; a media timestamp later than the tap's
  arrival (plus slack) is impossible and refused;
* without a media timestamp: the tap counts iff ``open_ms <= arrival_ms <= close_ms``.

The host therefore keeps accepting taps until ``close_ms + max_allowance_ms + slack_ms`` (plus an
uplink allowance) and only then freezes the entry list: see :func:`last_arrival_ms`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_SLACK_MS = 250
"""Tolerance for decode/render time and clock jitter between capture and the tap."""
DEFAULT_UPLINK_MS = 500
"""Extra time :func:`last_arrival_ms` waits for taps still travelling to the host."""


class Verdict(enum.Enum):
    """Outcome of judging one tap against the window."""

    INSIDE = "inside"
    BEFORE_OPEN = "before_open"
    AFTER_CLOSE = "after_close"
    TOO_FAR_BEHIND = "too_far_behind"
    IMPOSSIBLE_TIMESTAMP = "impossible_timestamp"


@dataclass(frozen=True, slots=True)
class Window:
    """The entry window in host wall-clock ms."""

    open_ms: int
    """First instant that counts."""
    close_ms: int
    """Last instant that counts."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a tap was inside the window as its viewer saw it."""

    counts: bool
    """True when the tap is inside the window."""
    verdict: Verdict
    """Which case of the rule decided."""
    judged_ms: int
    """The instant compared with the window (the media timestamp, or the arrival)."""
    delay_ms: int | None
    """Implied video delay (arrival - media ts - uplink), None without a media timestamp."""
    reason: str
    """One line for the viewer and the logs."""


def judge(window: Window, arrival_ms: int, media_ts_ms: int | None = None, *,
          rtt_ms: float | None = None, max_allowance_ms: int = 1500,
          slack_ms: int = DEFAULT_SLACK_MS) -> Decision:
    """Judge one tap; all times are host wall-clock ms."""
    if media_ts_ms is None:
        return _by_instant(window, arrival_ms, None, "arrival at the host")
    uplink = round(rtt_ms / 2) if rtt_ms is not None and rtt_ms > 0 else 0
    delay = arrival_ms - media_ts_ms - uplink
    if delay < -slack_ms:
        return Decision(False, Verdict.IMPOSSIBLE_TIMESTAMP, media_ts_ms, delay,
                        "the frame timestamp is later than the tap's arrival")
    if delay > max_allowance_ms + slack_ms:
        return Decision(False, Verdict.TOO_FAR_BEHIND, media_ts_ms, delay,
                        f"your video was {delay} ms behind live; at most {max_allowance_ms} ms "
                        "is allowed")
    return _by_instant(window, media_ts_ms, delay, "the frame on screen")


def _by_instant(window: Window, instant: int, delay: int | None, what: str) -> Decision:
    if instant < window.open_ms:
        return Decision(False, Verdict.BEFORE_OPEN, instant, delay,
                        f"{what} was before entries opened")
    if instant > window.close_ms:
        return Decision(False, Verdict.AFTER_CLOSE, instant, delay,
                        f"{what} was after entries closed")
    return Decision(True, Verdict.INSIDE, instant, delay, f"{what} was inside the window")


def last_arrival_ms(window: Window, max_allowance_ms: int, *, slack_ms: int = DEFAULT_SLACK_MS,
                    uplink_ms: int = DEFAULT_UPLINK_MS) -> int:
    """When the host may freeze entries: no tap that could still count arrives after this."""
    return window.close_ms + max_allowance_ms + slack_ms + uplink_ms
