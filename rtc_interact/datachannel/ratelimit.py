"""Token-bucket rate limiting, sans-IO: time comes in as an argument."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A sustained rate with a burst allowance."""

    per_second: float
    """Sustained messages per second."""
    burst: int
    """Messages allowed back to back after a quiet period."""

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ConfigurationError(
                "rate limit needs per_second > 0 and burst >= 1, "
                f"got {self.per_second}/{self.burst}"
            )


class TokenBucket:
    """Allows ``limit.burst`` messages at once and ``limit.per_second`` on average."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self._limit = limit
        self._tokens = float(limit.burst)
        self._stamp = now

    def allow(self, now: float) -> bool:
        """Take one token if there is one; ``now`` is in seconds on any monotonic clock."""
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        refill = elapsed * self._limit.per_second
        self._tokens = min(float(self._limit.burst), self._tokens + refill)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
