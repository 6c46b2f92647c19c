"""Shared builders for the giveaway tests (no fakes of real parts: plain values)."""

from __future__ import annotations

from typing import Any

from rtc_interact.giveaway import Giveaway, PrizeTier, Rules, TapIn
from rtc_interact.giveaway.draw import PublishedResult

T0 = 1_700_000_000_000
"""A fixed host wall-clock time (ms) standing in for 'now'."""


def make_rules(**changes: Any) -> Rules:
    """Small valid rules: one grand prize, two second prizes, three participation prizes."""
    fields: dict[str, Any] = {
        "giveaway_id": "gw-1", "title": "Spring giveaway",
        "tiers": (PrizeTier("Grand prize", "Espresso machine", 1, 400.0, "EUR"),
                  PrizeTier("Second prize", "Grinder", 2, 80.0, "EUR"),
                  PrizeTier("Participation", "Coffee beans", 3, 10.0, "EUR")),
        "window_s": 60.0, "regions": ("DE", "FR", "US-CA"),
        "organizer": "Example Coffee GmbH, giveaways@example.com",
    }
    fields.update(changes)
    return Rules(**fields)


def tap(identity: str, arrival_ms: int, **changes: Any) -> TapIn:
    """A tap from an eligible region."""
    fields: dict[str, Any] = {"identity": identity, "viewer_id": f"v-{identity}",
                              "region": "DE", "arrival_ms": arrival_ms}
    fields.update(changes)
    return TapIn(**fields)


def announced(n: int = 20, rules: Rules | None = None, seed: bytes = b"\x07" * 32
              ) -> PublishedResult:
    """A giveaway run to the end with ``n`` entrants, all inside the window."""
    gw = Giveaway(rules or make_rules(), seed=seed)
    gw.open(T0)
    for i in range(n):
        gw.enter(tap(f"user{i}", T0 + 1000 + 100 * i, media_ts_ms=T0 + 700 + 100 * i))
    gw.close(gw.close_at_ms())
    gw.draw(gw.close_at_ms() + 10)
    return gw.announce(gw.close_at_ms() + 20)
