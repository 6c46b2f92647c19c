"""Where a loopback tap from Chromium spends its time, on one clock (this machine's wall clock):
the page's own code until ``send``, the way to the host's socket, the host (SCTP, our handler,
the acknowledgement leaving, and aiortc's SACK), and the round trip the page measured.

    python benchmarks/results/page-critical-1204/tap_timeline.py 150 2 OUT.json

150 taps from each of 2 fresh pages, 20 ms apart. Prints p10/p50/p90 of each part in ms; OUT.json
has every tap. The host is patched here only to take the times (DTLS record type 23 in and out;
a tap is 105 bytes on the wire, an acknowledgement 97, a SACK 65).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aioice.ice
import aiortc.rtcsctptransport as sctp

import rtc_interact.bench.browser as browser
import rtc_interact.transport.aiortc_compat as compat
from rtc_interact import Host, HostConfig, Limits, RateLimit, new_secret
from rtc_interact import host as host_module

TAP_IN, ACK_OUT, SACK_OUT = 105, 97, 65
IN: list[tuple[float, int]] = []
OUT: list[tuple[float, int]] = []
STEPS: dict[str, float] = {}
_send, _receive = compat._stock_send, aioice.ice.Connection.data_received
_handle_data, _on_message = sctp.RTCSctpTransport._handle_data, host_module.Host._on_message


def now_ms() -> float:
    return time.time() * 1000


async def send(self: Any, data: bytes) -> None:
    if data and data[0] == 23:
        OUT.append((now_ms(), len(data)))
    await _send(self, data)


def receive(self: Any, data: bytes, component: int) -> None:
    if data and data[0] == 23:
        IN.append((now_ms(), len(data)))
    _receive(self, data, component)


async def handle_data(self: Any, data: bytes) -> None:
    STEPS.setdefault("sctp", now_ms())
    await _handle_data(self, data)


def on_message(self: Any, *args: Any) -> None:
    STEPS.setdefault("handler", now_ms())
    _on_message(self, *args)
    STEPS.setdefault("handled", now_ms())


compat._stock_send = send  # type: ignore[assignment]
aioice.ice.Connection.data_received = receive  # type: ignore[method-assign]
sctp.RTCSctpTransport._handle_data = handle_data  # type: ignore[method-assign]
host_module.Host._on_message = on_message  # type: ignore[method-assign]

TAP = """async () => {
  const state = window.rtcInteract.state;
  if (!window.tapTimes) {
    window.tapTimes = {};
    const original = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (data) {
      if (!window.tapTimes.sent) window.tapTimes.sent = performance.now();
      return original.call(this, data);
    };
  }
  window.tapTimes.sent = 0;
  const called = performance.now();
  const ack = await window.rtcInteract.tap();
  return [performance.timeOrigin, called, window.tapTimes.sent, ack.rtt];
}"""


def first(rows: list[tuple[float, int]], after: float, size: int) -> float | None:
    return next((t for t, n in rows if t >= after and n == size), None)


def one_tap(origin: float, called: float, sent: float, rtt: float) -> dict[str, float] | None:
    sent_wall = origin + sent
    tap_in = first(IN, sent_wall - 1, TAP_IN)
    if tap_in is None:
        return None
    ack, sack = first(OUT, tap_in, ACK_OUT), first(OUT, tap_in, SACK_OUT)
    row = {"rtt": rtt, "page_until_send": sent - called, "to_host": tap_in - sent_wall}
    for name, at in (("sctp", STEPS.get("sctp")), ("handler", STEPS.get("handler")),
                     ("handled", STEPS.get("handled")), ("ack_out", ack), ("sack_out", sack)):
        if at is not None:
            row[name] = at - tap_in
    return row


async def main(taps: int, pages: int) -> list[dict[str, float]]:
    config = HostConfig(secret=new_secret(), port=0, limits=Limits(taps=RateLimit(1000, 1000)))
    rows: list[dict[str, float]] = []
    async with Host(config) as host:
        for page in range(pages):
            session = await browser.connect_chromium(host.url, host.mint_token(f"tap-{page}"))
            try:
                await session.first_ack()
                await asyncio.sleep(1.0)
                for _ in range(taps):
                    IN.clear()
                    OUT.clear()
                    STEPS.clear()
                    row = one_tap(*await session.page.evaluate(TAP))
                    if row is not None:
                        rows.append(row)
                    await asyncio.sleep(0.02)
            finally:
                await session.aclose()
    return rows


if __name__ == "__main__":
    found = asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    for key in ("rtt", "page_until_send", "to_host", "sctp", "handler", "handled", "ack_out",
                "sack_out"):
        xs = sorted(r[key] for r in found if key in r)
        print(f"{key:16} p10 {xs[len(xs) // 10]:6.2f} p50 {xs[len(xs) // 2]:6.2f} "
              f"p90 {xs[9 * len(xs) // 10]:6.2f}  (n={len(xs)})")
    Path(sys.argv[3]).write_text(json.dumps(found), encoding="utf-8")
