"""One video session with the ABR debug line, each sample's raw round trip and the copies' queue
flag in a log (RESULTS §16.1):

    python trace.py LOG PROFILE IMPL SEED SECONDS OUT.json

Each ``sign queue`` line is a REMB or smoothed round trip that was a queue sign; each ``raw``
line is a sample's raw round trip, the smallest seen so far and whether it was a queue sign;
each ``pace`` line says whether the copies were halved (``queue=True``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

from rtc_interact.bench.runner import BenchPlan, run
from rtc_interact.transport import abr
from rtc_interact.transport.abr import AbrController, Feedback

log_path, profile, impl, seed, seconds, out = sys.argv[1:7]
handler = logging.FileHandler(log_path)
handler.setFormatter(logging.Formatter("%(relativeCreated).0f %(message)s"))
log = logging.getLogger("rtc_interact.transport.abr_task")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
stock_signs, stock_raw = AbrController._queue_signs, AbrController._raw_queue
stock_pace = AbrController._pace_copies


def queue_signs(self: AbrController, feedback: Feedback) -> bool:
    remb, min_rtt = self._remb, self._min_rtt
    sign = stock_signs(self, feedback)
    if sign:
        log.debug("sign queue remb %s->%s rtt %s min %s", remb, feedback.remb_kbps,
                  feedback.rtt_ms, min_rtt)
    return sign


def raw_queue(self: AbrController, feedback: Feedback) -> bool:
    sign = stock_raw(self, feedback)
    if feedback.rtt_raw_ms is not None:
        log.debug("raw %s min %s sign %s", feedback.rtt_raw_ms, self._min_raw_rtt, sign)
    return sign


def pace_copies(self: AbrController, feedback: Feedback, dt: float, queue: bool) -> None:
    log.debug("pace queue=%s padding_on=%s covered=%s est=%.0f", queue, self._padding_on,
              self._covered(), self.estimate)
    stock_pace(self, feedback, dt, queue)


abr.AbrController._queue_signs = queue_signs  # type: ignore[method-assign]
abr.AbrController._raw_queue = raw_queue  # type: ignore[method-assign]
abr.AbrController._pace_copies = pace_copies  # type: ignore[method-assign]
plan = BenchPlan(profiles=(profile,), suites=("video",), video_s=int(seconds), seed=int(seed),
                 implementations=(impl,))
doc: dict[str, Any] = asyncio.run(run(plan, progress=False))
with open(out, "w") as fh:
    json.dump(doc, fh)
