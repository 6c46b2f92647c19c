"""A traced run's controller lines from ``FROM`` to ``TO`` seconds, compact (RESULTS §46): per
line the reason, rung, estimate, padding, copies, knee and its memory, the back-offs (as
seconds of the run), the probe's start, what was sent, whether the path counts as covered, the
newest ping and the loss; queue reports and trains as they are.

    python view.py TRACE FROM TO
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SHOWN = ("est", "pad", "copy", "knee", "kmem", "quiet", "since", "sent", "cov", "pnew", "loss")
TIMES = ("quiet", "since")
ROUNDED = {"knee": "{:.0f}", "pnew": "{:.0f}", "loss": "{:.2f}"}


def compact(rest: str, start: float) -> str:
    """One controller line, its times from ``start``."""
    fields = dict(re.findall(r"(\w+)=(\S+)", rest))
    for key in TIMES:
        if fields.get(key) not in (None, "None", "-inf"):
            fields[key] = f"{float(fields[key]) - start:.1f}"
    for key, shape in ROUNDED.items():
        if fields.get(key) not in (None, "None"):
            fields[key] = shape.format(float(fields[key]))
    blocked = re.search(r"blk=\{([^}]*)\}", rest)
    fields["blk"] = "" if blocked is None else ",".join(
        f"{rung}:{float(at) - start:.1f}"
        for rung, at in re.findall(r"(\d+): ([\d.]+)", blocked.group(1)))
    reason, rung = rest.split()[:2]
    return f"{reason:7} {rung} " + " ".join(f"{key}={fields.get(key)}"
                                           for key in (*SHOWN, "blk"))


def main(name: str, first: float, last: float) -> None:
    lines = Path(name).read_text().splitlines()
    start = float(lines[0].split()[0])
    for line in lines:
        at, rest = line.split(maxsplit=1)
        t = float(at) - start
        if first <= t <= last:
            print(f"{t:6.2f} " + (compact(rest, start) if " est=" in rest else f"  {rest[:150]}"))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
