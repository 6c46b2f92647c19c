"""The connect suite alone: ours beside stock aiortc on emulated links.

    python benchmarks/bench_connect.py --profile rtt150-loss2 --json connect.json

Takes every option of `rtc-interact bench` (see `--help`); `--suite` is fixed to connect.
"""

from __future__ import annotations

import sys

from rtc_interact.cli import bench

if __name__ == "__main__":
    bench.main([*sys.argv[1:], "--suite", "connect"], prog_name="bench_connect.py")
