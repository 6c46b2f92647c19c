"""The video suite alone: ours beside stock aiortc on emulated links.

    python benchmarks/bench_video.py --profile rtt150-loss2 --json video.json

Takes every option of `rtc-interact bench` (see `--help`); `--suite` is fixed to video.
"""

from __future__ import annotations

import sys

from rtc_interact.cli import bench

if __name__ == "__main__":
    bench.main([*sys.argv[1:], "--suite", "video"], prog_name="bench_video.py")
