"""Child process for the SIGKILL test: writes entries through the store as fast as it can and
prints ``ack NUMBER HASH`` the moment each entry's durable future resolves.

    python store_child.py STORE_PATH MAX_ENTRIES
"""

from __future__ import annotations

import asyncio
import sys

from rtc_interact.giveaway import Accepted, Giveaway, GiveawayStore, PrizeTier, Rules, TapIn

T0 = 1_700_000_000_000
CONCURRENCY = 64


def _rules() -> Rules:
    return Rules("crash", "Crash test", (PrizeTier("Grand", "Prize", 3, 10, "EUR"),),
                 window_s=3600, regions=("DE",), organizer="tests")


async def main(path: str, max_entries: int) -> None:
    async with GiveawayStore(path) as store:
        gw = Giveaway(_rules())
        gw.open(T0)
        await store.save_giveaway(gw.record)
        print("ready", flush=True)
        taps = iter(range(max_entries))

        async def submitter() -> None:
            for i in taps:
                decision = gw.enter(TapIn(f"viewer{i}", f"v{i}", "DE", T0 + i))
                assert isinstance(decision, Accepted)
                await store.add_entry(decision.entry)
                e = decision.entry
                sys.stdout.write(f"ack {e.number} {e.entry_hash}\n")
                sys.stdout.flush()

        await asyncio.gather(*(submitter() for _ in range(CONCURRENCY)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
