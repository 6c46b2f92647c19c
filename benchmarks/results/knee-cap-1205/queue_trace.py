"""Queue trace (RESULTS.md §28): ``rtx_probe.py`` (§25) plus every host-to-viewer RTP packet the
link emulator took (ms, bytes, the bottleneck's backlog in ms when it came, payload type,
sequence number, dropped by the queue), every ICE ping's round trip, and the estimator's state
at each controller run.

    python benchmarks/results/knee-cap-1205/queue_trace.py abr-300-loss3 60 8 out.json

The output is ``rtx_probe.py``'s list followed by ``{"pkts": [...]}``, ``{"est": [...]}`` and
``{"pings": [...]}``. An "est" row: (s, estimate before, after, sent kbps, knee, s since the
estimator noted it, ping ms, ping excess ms, REMB, loss, smoothed loss, reason, copies,
padding). Payload type 97 is the video, 98 its RTX stream (retransmissions, copies, padding).
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quiet-nack-1204"))
import rtx_probe

from rtc_interact.linkemu.relay import LinkEmulator
from rtc_interact.transport import abr, abr_task, nack, pacer

PKTS: list[tuple[Any, ...]] = []
EST: list[tuple[Any, ...]] = []
PINGS: list[tuple[float, float]] = []
RELAY, ON_PING = LinkEmulator._relay, abr_task.FeedbackLog.on_ping


def relay(self: Any, target: Any, data: bytes, src: Any) -> None:
    direction = self._direction(target, src)
    rtp = len(data) > 12 and 0x80 <= data[0] < 0xC0 and not 192 <= data[1] <= 223
    if direction is None or not str(direction).lower().endswith("a_to_b") or not rtp:
        RELAY(self, target, data, src)
        return
    model = self._models[direction]
    now = self._loop.time()
    backlog, dropped = model.backlog_s(now) * 1000, model._dropped_queue
    RELAY(self, target, data, src)
    PKTS.append((round(now * 1000, 2), len(data), round(backlog, 1), data[1] & 0x7F,
                 struct.unpack("!H", data[2:4])[0], model._dropped_queue > dropped))


def on_ping(self: abr_task.FeedbackLog, rtt_s: float, now: float) -> None:
    PINGS.append((round(now * 1000, 1), round(rtt_s * 1000, 1)))
    ON_PING(self, rtt_s, now)


def update(self: abr.AbrController, feedback: abr.Feedback) -> abr.Decision:
    e: Any = self.estimator
    before = e.kbps
    d = rtx_probe.UPDATE(self, feedback)
    knee = e._knee and round(e._knee)
    EST.append((round(time.monotonic(), 3), round(before), round(e.kbps), round(e.sent_kbps),
                knee, round(feedback.now - e._knee_at, 1), feedback.ping_rtt_ms,
                round(e._pings.excess), feedback.remb_kbps, feedback.loss, round(e._loss, 3),
                d.reason, round(d.copy_kbps), round(d.padding_kbps)))
    rtx_probe.DECISIONS.append((time.monotonic(), d.reason, round(d.padding_kbps),
                                round(d.target_kbps), round(self.estimate), round(d.copy_kbps)))
    return d


def main(argv: list[str], wrap: Any = update, extra: tuple[dict[str, Any], ...] = ()) -> None:
    """Run the trace of ``argv`` (profile, seconds, seed, output file) with ``wrap`` as the
    controller's update; ``extra`` rows (filled during the run) go at the end of the output."""
    nack.NackScheduler.due = rtx_probe.due  # type: ignore[method-assign]
    nack.NackScheduler.on_packet = rtx_probe.on_packet  # type: ignore[method-assign]
    pacer.RetransmitGate.allow = rtx_probe.allow  # type: ignore[method-assign]
    abr.AbrController.update = wrap  # type: ignore[method-assign]
    LinkEmulator._relay = relay  # type: ignore[method-assign]
    abr_task.FeedbackLog.on_ping = on_ping  # type: ignore[method-assign]
    out: list[Any] = asyncio.run(rtx_probe.main(argv[0], int(argv[1]), int(argv[2])))
    out += [{"pkts": PKTS}, {"est": EST}, {"pings": PINGS}, *extra]
    Path(argv[3]).write_text(json.dumps(out, default=str))
    print(len(out) - 4 - len(extra), "freezes,", len(PKTS), "packets")


if __name__ == "__main__":
    main(sys.argv[1:])
