"""What a train of padding packets would tell of a link's capacity (RESULTS §44.5): the project's
link model alone (sans-IO, no peers), with media paced between the trains.

    python trains.py PROFILE AT_S TRAIN_KBPS PACKETS [MEDIA_KBPS [SEEDS]]

Per seed (20 unless given), ten trains one second apart from ``AT_S`` + 2 s (host to viewer),
with MEDIA_KBPS of media (400 unless given) between them, each PACKETS packets
of 1200 bytes sent at TRAIN_KBPS. A train's rate is its delivered packets' bytes (less the
first's) over the span of their arrivals. Prints the quartiles of that rate over all trains, the
share of trains that measured at least 0.9 x the rate they were sent at, and the most that a
train added to the bottleneck's backlog (from its first packet to its last; ms): what media
sent right behind a train waits for it.
"""

from __future__ import annotations

import random
import sys

from rtc_interact.linkemu.model import LinkDirection
from rtc_interact.linkemu.profiles import load_profiles

SIZE = 1200
TRAINS = 10


def trains(profile: str, at_s: float, kbps: float, packets: int, media_kbps: float,
           seed: int) -> tuple[list[float], list[float]]:
    """Each train's measured rate (kbps) and the backlog it added (ms)."""
    link = LinkDirection.from_profile(load_profiles()[profile], "a_to_b", seed)
    rng = random.Random(seed)
    rates, backlogs, t = [], [], at_s + 2.0
    for _ in range(TRAINS):
        stop = t + 1.0
        while t < stop - 0.1:
            link.submit(SIZE, t)
            t += SIZE * 8 / (media_kbps * 1e3) * rng.uniform(0.5, 1.5)
        sends = [t + i * SIZE * 8 / (kbps * 1e3) for i in range(packets)]
        arrivals = []
        before = link.backlog_s(sends[0])
        for i, sent in enumerate(sends):
            if i == packets - 1:
                backlogs.append((link.backlog_s(sent) - before) * 1000)
            got = link.submit(SIZE, sent)
            if got is not None:
                arrivals.append(got)
        span = arrivals[-1] - arrivals[0] if len(arrivals) >= max(3, packets // 2) else 0.0
        if span > 0:
            rates.append((len(arrivals) - 1) * SIZE * 8 / 1e3 / span)
        t = stop
    return rates, backlogs


def main() -> None:
    profile, at_s, kbps, packets = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), \
        int(sys.argv[4])
    media_kbps = float(sys.argv[5]) if len(sys.argv) > 5 else 400.0
    seeds = int(sys.argv[6]) if len(sys.argv) > 6 else 20
    rates, backlogs = [], []
    for seed in range(seeds):
        got = trains(profile, at_s, kbps, packets, media_kbps, seed)
        rates += got[0]
        backlogs += got[1]
    rates.sort()

    def q(p: float) -> float:
        return rates[min(len(rates) - 1, int(p * len(rates)))]

    print(f"{profile} at {at_s:.0f} s, media {media_kbps:.0f} kbps, {packets} x {SIZE} B at "
          f"{kbps:.0f} kbps: {len(rates)} "
          f"trains; kbps p10 {q(0.1):.0f} p25 {q(0.25):.0f} median {q(0.5):.0f} p75 "
          f"{q(0.75):.0f} p90 {q(0.9):.0f}; share >= 0.9 x sent "
          f"{sum(r >= 0.9 * kbps for r in rates) / len(rates):.2f}; backlog added, max "
          f"{max(backlogs):.0f} ms")


if __name__ == "__main__":
    main()
