"""Fan-out: host CPU (cores) at 1, 4, 16 and 32 viewers on loopback, ours beside stock aiortc.

    python benchmarks/bench_fanout.py --viewers 1,4,16,32 --runs 3 --window 10 --json fanout.json

The host and the viewers run in separate child processes; see rtc_interact/bench/fanout.py.
"""

from __future__ import annotations

from rtc_interact.bench.fanout import main

if __name__ == "__main__":
    main()
