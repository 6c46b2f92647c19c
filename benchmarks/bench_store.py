"""Giveaway store: acknowledged (durable) entries per second and tap -> durable-ack latency.

Each run uses a fresh SQLite file and does two phases through the real path (``Giveaway.enter``
then ``GiveawayStore.add_entry``, acknowledged when the group commit that holds the entry is done):

* ``max``: ``--submitters`` concurrent tasks enter taps back to back (closed loop) until
  ``--entries`` are acknowledged or ``--seconds`` pass: sustained acknowledged entries per second.
* ``rate``: taps arrive on a fixed schedule at ``--rate`` per second (open loop) for ``--entries``
  taps; latency runs from each tap's *scheduled* arrival to its acknowledgement, so a stalled
  writer shows up in the tail instead of slowing the arrivals.

Prints a short table and, with ``--json PATH``, writes the numbers; the median run is reported.

    python benchmarks/bench_store.py --runs 3 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rtc_interact.bench.runner import commit, machine
from rtc_interact.giveaway import Accepted, Durability, Giveaway, GiveawayStore, PrizeTier, Rules
from rtc_interact.giveaway.core import TapIn
from rtc_interact.stats import Percentiles

T0 = 1_700_000_000_000


def _giveaway(name: str) -> Giveaway:
    rules = Rules(name, "Store benchmark", (PrizeTier("Grand", "Prize", 1, 10, "EUR"),),
                  window_s=86_400, regions=("DE",), organizer="benchmark")
    gw = Giveaway(rules)
    gw.open(T0)
    return gw


def _tap(i: int) -> TapIn:
    return TapIn(f"viewer{i}", f"v{i}", "DE", T0 + i)


async def _max_phase(store: GiveawayStore, entries: int, seconds: float,
                     submitters: int) -> dict[str, Any]:
    gw = _giveaway("max")
    taps = iter(range(entries))
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def submitter() -> None:
        for i in taps:
            if time.perf_counter() > deadline:
                return
            start = time.perf_counter()
            decision = gw.enter(_tap(i))
            assert isinstance(decision, Accepted)
            await store.add_entry(decision.entry)
            latencies.append((time.perf_counter() - start) * 1000)

    commits0, start = store.commits, time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(submitters)))
    elapsed = time.perf_counter() - start
    return _summary(latencies, elapsed, store.commits - commits0)


async def _rate_phase(store: GiveawayStore, entries: int, rate: float) -> dict[str, Any]:
    gw = _giveaway("rate")
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    pending: list[asyncio.Future[None]] = []
    commits0, start = store.commits, loop.time()
    for i in range(entries):
        due = start + i / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        decision = gw.enter(_tap(i))
        assert isinstance(decision, Accepted)
        fut = store.add_entry(decision.entry)
        fut.add_done_callback(lambda _f, due=due: latencies.append((loop.time() - due) * 1000))
        pending.append(fut)
    await asyncio.gather(*pending)
    elapsed = loop.time() - start
    return {**_summary(latencies, elapsed, store.commits - commits0), "target_per_s": rate}


def _summary(latencies: list[float], elapsed: float, commits: int) -> dict[str, Any]:
    p = Percentiles.of(latencies)
    return {"acked": len(latencies), "seconds": round(elapsed, 3),
            "acked_per_s": round(len(latencies) / elapsed, 1), "commits": commits,
            "mean_batch": round(len(latencies) / max(commits, 1), 1),
            "latency_ms": p.as_dict() if p else None}


async def one_run(args: argparse.Namespace) -> dict[str, Any]:
    """One run on a fresh store file."""
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        async with GiveawayStore(Path(tmp) / "bench.sqlite",
                                 durability=Durability[args.durability.upper()]) as store:
            peak = await _max_phase(store, args.entries, args.seconds, args.submitters)
            paced = await _rate_phase(store, args.entries, args.rate)
    return {"max": peak, "rate": paced}


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = sorted(runs, key=lambda r: r["max"]["acked_per_s"])
    return ranked[len(ranked) // 2]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """All runs and the JSON document."""
    runs = [await one_run(args) for _ in range(args.runs)]
    return {
        "name": "store", "implementation": "rtc-interact", "runs": args.runs,
        "loop": type(asyncio.get_running_loop()).__module__.split(".")[0], "unit": "ms",
        "durability": args.durability, "submitters": args.submitters, "n": args.entries,
        "median_run": _median_run(runs),
        "acked_per_s_all_runs": [r["max"]["acked_per_s"] for r in runs],
        "acked_per_s_median": statistics.median(r["max"]["acked_per_s"] for r in runs),
        "rate_p99_ms_all_runs": [r["rate"]["latency_ms"]["p99"] for r in runs],
        "per_run": runs, "python": sys.version.split()[0], "machine": machine(),
        "commit": commit(),
    }


def table(doc: dict[str, Any]) -> str:
    """Short human-readable table of the median run."""
    m = doc["median_run"]
    lines = [f"store, durability={doc['durability']}, loop={doc['loop']}, runs={doc['runs']} "
             f"(median run), {doc['machine']['cpu_count']} cores"]
    for phase, label in (("max", f"{doc['submitters']} submitters"),
                         ("rate", f"open loop {m['rate']['target_per_s']:g}/s")):
        r, lat = m[phase], m[phase]["latency_ms"]
        lines.append(f"  {label:<22} {r['acked_per_s']:9.0f} acked/s  batch {r['mean_batch']:6.1f}"
                     f"  p50 {lat['p50']:7.2f}  p95 {lat['p95']:7.2f}  p99 {lat['p99']:7.2f} ms"
                     f"  (n={lat['n']})")
    lines.append(f"  acked/s over runs: {doc['acked_per_s_all_runs']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="Cap on the max phase.")
    parser.add_argument("--submitters", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5_000.0, help="Open-loop taps per second.")
    parser.add_argument("--durability", choices=["power", "process"], default="power")
    parser.add_argument("--dir", default=None, help="Where the store files go (default: /tmp).")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop

        doc = uvloop.run(bench(args))
    else:
        doc = asyncio.run(bench(args))
    print(table(doc))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(doc, indent=1))
        print(f"JSON written to {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
