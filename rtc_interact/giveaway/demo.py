"""A whole giveaway on this machine: host, viewers, entries, draw, winners, claims.

``rtc-interact demo --giveaway`` runs :func:`run_demo`; ``rtc-interact host --giveaway`` uses
:func:`load_rules` and :func:`host_giveaway`. Everything is real: aiortc peers on 127.0.0.1, the
SQLite store, the published result that ``rtc-interact giveaway verify`` checks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import HostConfig, VideoConfig, ViewerConfig
from ..datachannel.messages import Won
from ..errors import RequestRejected
from ..host import Host
from ..stats import Percentiles
from ..tokens import new_secret
from ..viewer import Receipt, Viewer
from .draw import verify
from .rules import PrizeTier, Rules, rules_from_dict

DEMO_REGIONS = ("DE", "FR", "BR", "US-CA", "US-NY")
"""Regions the demo viewers claim, in turn; the demo rules leave out US-NY (not eligible)."""


@dataclass(frozen=True, slots=True)
class GiveawayPlan:
    """What ``rtc-interact host --giveaway`` does with a giveaway."""

    rules: Rules
    """The rules (created and opened unless the store has them)."""
    acknowledge: tuple[str, ...] = ()
    """Compliance findings acknowledged by the organizer."""
    finish_after: float | None = None
    """Seconds after start to close, draw and announce; None: never by itself."""
    result_path: str | None = None
    """Where the published result goes."""


def demo_rules(window_s: float) -> Rules:
    """Rules of the demo giveaway."""
    return Rules(
        giveaway_id="demo-giveaway", title="Launch-day giveaway",
        tiers=(PrizeTier("Grand prize", "Espresso machine", 1, 400.0, "EUR"),
               PrizeTier("Second prize", "Coffee grinder", 2, 80.0, "EUR"),
               PrizeTier("Participation", "Bag of beans", 5, 12.0, "EUR")),
        window_s=window_s, regions=("DE", "FR", "BR", "US-CA"),
        organizer="rtc-interact demo shop, giveaways@example.invalid")


def load_rules(path: str | Path) -> Rules:
    """Rules from a JSON file in the form ``rules.to_dict`` writes."""
    return rules_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


async def host_giveaway(host: Host, rules: Rules, acknowledge: tuple[str, ...] = ()) -> None:
    """Create and open ``rules`` on ``host`` unless its store already has them (a restart)."""
    desk = host.giveaways
    if rules.giveaway_id not in desk.giveaways:
        await desk.create(rules)
    if desk.get(rules.giveaway_id).state.value == "draft":
        await desk.open(rules.giveaway_id, acknowledge)


async def _entrant(viewer: Viewer, delay_s: float, giveaway_id: str) -> Receipt | str:
    await asyncio.sleep(delay_s)
    if random.random() < 0.3:
        await viewer.comment("good luck everyone")
    try:
        return await viewer.enter(giveaway_id)
    except RequestRejected as exc:
        return exc.code.name


async def _claim_if_won(viewer: Viewer, giveaway_id: str) -> bool:
    try:
        async with asyncio.timeout(5.0):
            async for event in viewer.events():
                if isinstance(event, Won) and event.g == giveaway_id:
                    await viewer.claim(giveaway_id, name="Demo Winner", address="1 Demo Street",
                                       contact="winner@example.invalid")
                    return True
    except TimeoutError:
        pass
    return False


async def run_demo(viewers: int, result_path: Path, window_s: float = 4.0,
                   seed: int = 1) -> dict[str, Any]:
    """Run the giveaway with ``viewers`` viewers; returns a summary and writes the result."""
    random.seed(seed)
    rules = demo_rules(window_s)
    with tempfile.TemporaryDirectory() as tmp:
        config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(320, 180, 10),
                            giveaway_store=str(Path(tmp) / "giveaways.db"))
        async with Host(config) as host:
            await host_giveaway(host, rules)
            crowd = [Viewer(host.url, host.mint_token(f"viewer{i:02d}", region=region),
                            ViewerConfig(receive_video=i % 4 == 0))
                     for i, region in zip(range(viewers), itertools.cycle(DEMO_REGIONS),
                                          strict=False)]
            try:
                await asyncio.gather(*(v.open() for v in crowd))
                outcomes = await asyncio.gather(*(
                    _entrant(v, random.uniform(0, window_s * 0.8), rules.giveaway_id)
                    for v in crowd))
                claims = asyncio.gather(*(_claim_if_won(v, rules.giveaway_id) for v in crowd))
                result = await host.giveaways.finish(rules.giveaway_id, result_path)
                claimed = sum(await claims)
            finally:
                await asyncio.gather(*(v.aclose() for v in crowd))
    receipts = [o for o in outcomes if isinstance(o, Receipt)]
    refused = [o for o in outcomes if isinstance(o, str)]
    acks = Percentiles.of([r.rtt_ms for r in receipts])
    return {
        "giveaway": rules.giveaway_id, "viewers": viewers, "entries": len(result.entries),
        "refused": {reason: refused.count(reason) for reason in sorted(set(refused))},
        "entry_ack_ms": acks.as_dict() if acks else None,
        "winners": [{"tier": w.tier_name, "identity": w.identity, "entry": w.entry_number}
                    for w in result.winners],
        "claims": claimed, "commitment": result.commitment, "entries_hash": result.entries_hash,
        "result": str(result_path), "verified": not verify(result),
    }
