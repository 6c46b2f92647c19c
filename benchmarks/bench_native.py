"""The native hot path beside its pure-Python twin: VP8 RTP packetization per viewer.

    python benchmarks/bench_native.py --json native.json

For typical encoded frame sizes (a 640x360 delta frame at 500 kbps is ~2 kB, a 1280x720 one at
1.5 Mbps ~6 kB, a keyframe ~12-40 kB) times ``packetize`` (C, rtc_interact._native) and
``packetize_py`` on the same input in the same run; also the whole ``Vp8Packetizer.pack`` (what
each viewer's sender calls per frame, av.Packet to payloads). Median of ``--repeats`` timings of
``--number`` calls each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import timeit
from typing import Any

import av

from rtc_interact.bench.runner import commit
from rtc_interact.media import vp8

SIZES = (600, 2_000, 6_000, 12_000, 40_000)


def _time(fn: Any, number: int, repeats: int) -> float:
    """Median ns per call."""
    times = timeit.repeat(fn, number=number, repeat=repeats)
    return statistics.median(times) / number * 1e9


def _row(size: int, c_fn: Any, number: int, repeats: int) -> dict[str, Any]:
    frame = os.urandom(size)
    packet = av.Packet(frame)
    packet.pts, packet.time_base = 90_000, vp8.Fraction(1, 90_000)
    pure_pack, c_pack = vp8.Vp8Packetizer(vp8.packetize_py), vp8.Vp8Packetizer(c_fn)
    py_ns = _time(lambda: vp8.packetize_py(frame, 1234, vp8.MAX_PAYLOAD), number, repeats)
    c_ns = _time(lambda: c_fn(frame, 1234, vp8.MAX_PAYLOAD), number, repeats)
    py_pack = _time(lambda: pure_pack.pack(packet), number, repeats)
    c_pack_ns = _time(lambda: c_pack.pack(packet), number, repeats)
    return {"frame_bytes": size, "packets": -(-size // (vp8.MAX_PAYLOAD - 4)),
            "packetize_ns": {"python": round(py_ns), "c": round(c_ns)},
            "packetize_speedup": round(py_ns / c_ns, 2),
            "pack_ns": {"python": round(py_pack), "c": round(c_pack_ns)},
            "pack_speedup": round(py_pack / c_pack_ns, 2)}


def main() -> None:
    """Time both implementations and print JSON and a table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    try:
        from rtc_interact._native import vp8_packetize
    except ImportError:
        sys.exit("rtc_interact._native is not built (pip install -e . with a C compiler)")
    rows = [_row(size, vp8_packetize, args.number, args.repeats) for size in SIZES]
    result = {"name": "native_vp8_packetize", "unit": "ns per call", "loop": None,
              "n": args.number * args.repeats, "repeats": args.repeats,
              "python": platform.python_version(), "cpu_count": os.cpu_count(),
              "commit": commit(), "default_implementation": vp8.IMPLEMENTATION, "results": rows}
    print(json.dumps(result, indent=2))
    print("frame B  pkts  py ns   C ns  speedup | pack py ns  pack C ns  speedup")
    for r in rows:
        print(f"{r['frame_bytes']:>7} {r['packets']:>5} {r['packetize_ns']['python']:>6} "
              f"{r['packetize_ns']['c']:>6} {r['packetize_speedup']:>7.2f}x | "
              f"{r['pack_ns']['python']:>10} {r['pack_ns']['c']:>10} {r['pack_speedup']:>7.2f}x")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
