"""Percentile summaries used by stats, the CLI and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Distribution summary of a sample."""

    p50: float
    """Median."""
    p95: float
    """95th percentile."""
    p99: float
    """99th percentile."""
    max: float
    """Largest value."""
    n: int
    """Sample size."""

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        """Summary of ``values``, or None when there are none."""
        if not values:
            return None
        p50, p95, p99 = np.percentile(np.asarray(values, dtype=float), [50, 95, 99])
        return cls(float(p50), float(p95), float(p99), float(max(values)), len(values))

    def as_dict(self, digits: int = 3) -> dict[str, float | int]:
        """Rounded plain dict for JSON output."""
        return {k: round(v, digits) if isinstance(v, float) else v for k, v in asdict(self).items()}
