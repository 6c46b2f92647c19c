"""The first probe's largest queue on ``tests/abr_fake.py``'s fake 300 kbps path (RESULTS.md
§34.3), for a rung that sends 1.0, 1.15 and 1.25 x its rate and pings given as the lowest of 1
or 4 samples. Needs ``FakePath.overshoot``, which ``trials/vR-padding-tops-up-what-we-send.patch``
adds; run it in a worktree with that patch (vR), or with only its ``tests/abr_fake.py`` (base):

    PYTHONPATH=. python benchmarks/results/probe-wire-1205/fake_first_probe.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd() / "tests"))
from abr_fake import FakePath, run

from rtc_interact.transport.abr import AbrConfig, AbrController

RATES = (1200.0, 530.0, 190.0, 80.0)


def main() -> None:
    for overshoot in (1.0, 1.15, 1.25):
        for window in (1, 4):
            path = FakePath(capacity=300, pings=True, ping_window=window, overshoot=overshoot)
            controller = AbrController(RATES, AbrConfig(start_rung=2, copies=False))
            run(controller, path, 0.0, 12)
            print(f"overshoot {overshoot}, ping window {window}: largest queue in the first "
                  f"10 s {max(path.queues[:40]):.0f} ms")


if __name__ == "__main__":
    main()
