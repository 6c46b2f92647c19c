"""Per-run p50s and their medians for interleaved bench_browser.py runs: DIR/{build}-{n}.json."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

LOOPBACK = ("channel_open", "first_frame", "first_ack")
LONG = ("ice", "dtls", "first_frame", "channel_open", "first_ack")


def rows(path: Path) -> dict[str, float]:
    data = json.loads(path.read_text())
    out: dict[str, float] = {}
    chromium = data["loopback"]["chromium"]
    for stage in LOOPBACK:
        out[f"loopback {stage} ms"] = chromium["stages_ms"][stage]["p50"]
    out["loopback tap rtt ms"] = chromium["tap_rtt_ms"]["p50"]
    out["loopback python first_frame ms"] = data["loopback"]["python"]["stages_ms"][
        "first_frame"]["p50"]
    for name, key in (("chromium", "chromium"), ("python", "ours")):
        long = data.get("cn-us-west", {}).get(key, {})
        for stage in LONG:
            if f"{stage}_rtts" in long:
                out[f"cn-us-west {name} {stage} RTT"] = long[f"{stage}_rtts"]["p50"]
    return out


def main(folder: str, *builds: str) -> None:
    runs = {b: [rows(p) for p in sorted(Path(folder).glob(f"{b}-*.json"))] for b in builds}
    keys = list(next(iter(runs.values()))[0])
    print(f"{'p50 of each run':34s} " + " | ".join(f"{b} (median; runs)" for b in builds))
    for key in keys:
        cells = []
        for b in builds:
            values = [r[key] for r in runs[b] if key in r]
            cells.append(f"{statistics.median(values):7.2f} ({', '.join(f'{v:g}' for v in values)})"
                         if values else "-")
        print(f"{key:34s} " + " | ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1], *sys.argv[2:])
