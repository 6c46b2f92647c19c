"""The level of a viewer's redundant copies (sans-IO; the rules are in ``transport.abr``'s
module docstring, "Redundant copies", and the ``AbrConfig.copy_*`` fields).

Copies are on from the session's start and for ``copy_hold_s`` after each loss, until a first
round trip shows a short path that has lost nothing yet. While on, their level grows by
``copy_ramp_per_s`` of the rung's rate a second and halves on a sign of a queue, up to the
rung's rate (``copy_cover`` times it on a long path). The controller (``AbrController``) says
how the rung and its room limit them on the way out.
"""

from __future__ import annotations

from .abr_config import AbrConfig
from .abr_types import Feedback
from .path_length import PathLength

__all__ = ["CopyLevel"]


class CopyLevel:
    """A viewer's copies: whether they are on, and their own level (see the module docstring)."""

    __slots__ = ("_path", "_start_clean", "config", "kbps", "until")

    def __init__(self, config: AbrConfig, path: PathLength) -> None:
        self.config, self._path = config, path
        self.until = float("-inf")
        """Copies are on before this time."""
        self.kbps = 0.0
        """The copies' own level (additive increase, halved on a queue sign)."""
        self._start_clean: bool | None = None
        """None before the first sample; then whether the path has shown neither a loss nor a
        round trip yet (see ``AbrConfig.copy_at_start``)."""

    def on(self, now: float) -> bool:
        """Whether copies are on at ``now`` (a loss lately, or the session's start)."""
        return now < self.until

    def cap(self, rate: float) -> float:
        """The most copies of a rung of ``rate``: more than the rate on a long path."""
        return rate * self.config.copy_cover if self._path.long else rate

    def hold(self, now: float) -> None:
        """On from ``now``, for ``copy_hold_s``."""
        self.until = max(self.until, now + self.config.copy_hold_s)

    def note(self, feedback: Feedback) -> None:
        """On for ``copy_hold_s`` after a loss (a receiver report with loss, or a NACK), and
        from the first sample (``copy_at_start``)."""
        lost = bool(feedback.nacks or feedback.loss)
        if lost:
            self.hold(feedback.now)
        if self.config.copy_at_start:
            self._start(feedback, lost)

    def pace(self, now: float, dt: float, rate: float, *, halve: bool,
             full_at_once: bool) -> None:
        """The level at ``now``, ``dt`` s after the previous, on a rung of ``rate``: halved if
        ``halve``; else up by ``copy_ramp_per_s`` of the rate a second (from zero at once to
        the cap if ``full_at_once``); zero while off."""
        cfg = self.config
        if not cfg.copies or not self.on(now):
            self.kbps = 0.0
        elif halve:
            self.kbps /= 2
        else:
            level = self.cap(rate) if full_at_once and self.kbps == 0 else \
                self.kbps + cfg.copy_ramp_per_s * dt * rate
            self.kbps = min(level, self.cap(rate))

    def _start(self, feedback: Feedback, lost: bool) -> None:
        """Copies from the first sample, until a first round trip shows a short clean path."""
        if self._start_clean is None:
            self._start_clean = not lost
            self.until = feedback.now + self.config.copy_hold_s
        elif lost:
            self._start_clean = False
        elif self._start_clean and feedback.rtt_ms is not None:
            self._start_clean = False
            if not self._path.long:  # the first round trip: the controller has just noted it
                self.until = feedback.now  # a shorter path, clean so far: no copies yet
