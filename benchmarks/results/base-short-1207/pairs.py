"""Two builds' runs paired by profile and seed (RESULTS §52): each pair's freezes, then per
profile the totals, the pairs where each build froze less, and a two-sided sign-flip test on
the pairs' differences (exact over all 2^n flips up to 20 pairs, else 200,000 random ones).

    python pairs.py A B runs ../playout-follow-1207/runs2 ../playout-follow-1207/runs3
"""

from __future__ import annotations

import itertools
import json
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path

DRAWS = 200_000
"""Random sign flips where the pairs are too many to flip every way."""


def video(path: Path) -> dict:
    """The ``ours`` video result of a benchmark run's JSON."""
    return json.loads(path.read_text())["results"][0]["video"]["ours"]


def flip_p(diffs: list[int]) -> float:
    """Two-sided p of the pairs' summed difference under random signs."""
    observed = abs(sum(diffs))
    if len(diffs) <= 20:
        signs = itertools.product((1, -1), repeat=len(diffs))
        sums = [abs(sum(s * d for s, d in zip(flip, diffs, strict=True))) for flip in signs]
    else:
        draw = random.Random(52)
        sums = [abs(sum(d if draw.random() < 0.5 else -d for d in diffs)) for _ in range(DRAWS)]
    return sum(total >= observed for total in sums) / len(sums)


def pairs(base: str, build: str, dirs: list[str]) -> dict[str, list[tuple[int, dict, dict]]]:
    """Per profile, (seed, base's video result, build's) for every seed both builds ran."""
    found: dict[str, list[tuple[int, dict, dict]]] = defaultdict(list)
    for folder in map(Path, dirs):
        for path in sorted(folder.glob(f"{base}-*.json")):
            other = path.with_name(build + path.name[len(base):])
            if other.exists():
                profile, seed = path.stem[len(base) + 1:].rsplit("-", 1)
                found[profile].append((int(seed), video(path), video(other)))
    return found


def main(base: str, build: str, dirs: list[str]) -> None:
    for profile, rows in sorted(pairs(base, build, dirs).items()):
        print(f"{profile}: seed, freezes {base} {build}, g2g p95 {base} {build} (ms)")
        for seed, a, b in sorted(rows, key=lambda row: row[0]):
            print(f"  {seed:4} {a['freezes']:3} {b['freezes']:3}   "
                  f"{a['g2g_ms']['p95']:5.0f} {b['g2g_ms']['p95']:5.0f}")
        diffs = [b["freezes"] - a["freezes"] for _, a, b in rows]
        fewer = sum(d < 0 for d in diffs), sum(d > 0 for d in diffs)
        print(f"  {len(rows)} pairs: {sum(a['freezes'] for _, a, _ in rows)} vs "
              f"{sum(b['freezes'] for _, _, b in rows)} freezes; {build} fewer in {fewer[0]}, "
              f"more in {fewer[1]}; sign-flip p = {flip_p(diffs):.3f}; g2g p95 median "
              f"{statistics.median(a['g2g_ms']['p95'] for _, a, _ in rows):.0f} vs "
              f"{statistics.median(b['g2g_ms']['p95'] for _, _, b in rows):.0f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
