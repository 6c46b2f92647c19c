"""The video must-shows of issue 5, computed from per-second data (sans-IO, no clocks).

Inputs are lists with one value per second of the run: the link's host-to-viewer capacity, what
it delivered, and the rate of the rung the viewer was watching (from the width of the last
frame it decoded in that second; None for stock aiortc, which has no rungs).

* **Steps.** A second whose capacity differs from the one before is a step (down or up).
* **Time to fit** after a step *down*: seconds until the viewer is on a rung whose rate, plus
  ``OVERHEAD`` for RTP headers and retransmissions, fits in the new capacity, and stays so for
  ``HOLD_S`` seconds. After a step *up*: seconds until it is on the best rung that fits.
* **Steady phases**: each stretch between steps, without its first ``SETTLE_S`` seconds;
  delivered kbps over capacity, mean over the phase.
"""

from __future__ import annotations

from dataclasses import dataclass

OVERHEAD = 1.1
"""A rung fits when its rate times this is at most the capacity."""
HOLD_S = 2
"""A fit counts once it has lasted this many seconds."""
SETTLE_S = 5
"""Seconds after a step that do not count as steady."""


@dataclass(frozen=True, slots=True)
class Step:
    """A change of capacity and how long the viewer took to fit it."""

    at_s: int
    """Second of the run when the new capacity starts."""
    from_kbps: float
    """Capacity before."""
    to_kbps: float
    """Capacity after."""
    fit_s: int | None
    """Seconds until the viewer fit (None: not within the phase, or no rung data)."""

    @property
    def down(self) -> bool:
        """Whether capacity dropped."""
        return self.to_kbps < self.from_kbps


def _fits(rate: float | None, capacity: float) -> bool:
    return rate is not None and rate * OVERHEAD <= capacity


def _best(rates: tuple[float, ...], capacity: float) -> float | None:
    fitting = [r for r in rates if _fits(r, capacity)]
    return max(fitting) if fitting else min(rates, default=None)


def _phases(capacity: list[float | None]) -> list[tuple[int, int]]:
    """[start, end) of each stretch of equal capacity."""
    edges = [0] + [i for i in range(1, len(capacity)) if capacity[i] != capacity[i - 1]]
    return list(zip(edges, [*edges[1:], len(capacity)], strict=True))


def steps(capacity: list[float | None], rung_kbps: list[float | None],
          rates: tuple[float, ...]) -> list[Step]:
    """Every capacity step with the viewer's time to fit it."""
    out = []
    for start, end in _phases(capacity)[1:]:
        before, after = capacity[start - 1], capacity[start]
        if before is None or after is None:
            continue
        want = _best(rates, after)
        fit = None
        for t in range(start, end - HOLD_S + 1):
            window = rung_kbps[t:t + HOLD_S]
            ok = all(_fits(r, after) for r in window) if after < before else \
                all(r is not None and want is not None and r >= want for r in window)
            if ok:
                fit = t - start
                break
        out.append(Step(start, before, after, fit))
    return out


def steady_ratios(kbps: list[float], capacity: list[float | None]) -> list[float]:
    """Delivered over capacity in each steady phase (phases too short to settle are left out)."""
    out = []
    for start, end in _phases(capacity):
        cap = capacity[start]
        span = kbps[start + SETTLE_S:end]
        if cap and len(span) >= 3:
            out.append(round(sum(span) / len(span) / cap, 3))
    return out


def rung_rates(widths: list[int | None], ladder: dict[int, float]) -> list[float | None]:
    """Per second, the rate of the rung of the frame width seen (None: no frame or unknown)."""
    return [None if w is None else ladder.get(w) for w in widths]


def windows_pct(fps: list[int], floor: int) -> float:
    """Share of 1 s windows at ``floor`` fps or more, percent."""
    return round(100 * sum(f >= floor for f in fps) / max(len(fps), 1), 1)
