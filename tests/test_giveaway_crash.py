"""SIGKILL the host process in the middle of a 50-viewer tap storm, restart it, draw.

Every entry a viewer got a receipt for must be in the published result, no identity twice, and
the result must verify. A real ``rtc-interact host`` process, real viewers, a real SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from rtc_interact import Viewer
from rtc_interact.config import ViewerConfig
from rtc_interact.errors import RtcInteractError
from rtc_interact.giveaway import PrizeTier, Rules, to_dict
from rtc_interact.giveaway.draw import result_from_json, verify
from rtc_interact.tokens import Role, mint, new_secret

VIEWERS = 50
CONFIG = ViewerConfig(receive_video=False, request_timeout_s=3.0, connect_timeout_s=20.0)


def _host(tmp: Path, secret: str, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "rtc_interact", "host", "--port", "0", "--secret", secret,
               "--size", "176x96", "--fps", "5", "--giveaway-store", str(tmp / "gw.db"),
               "--giveaway", str(tmp / "rules.json"), *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


async def _url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(30):
        while True:
            line = await asyncio.to_thread(process.stdout.readline)
            seen.append(line)
            assert line, f"host exited before printing its URL: {''.join(seen)}"
            if line.startswith("viewer URL:"):
                return line.split()[-1]


async def _storm(url: str, secret: str, process: subprocess.Popen[str]) -> list[tuple[str, int,
                                                                                        str]]:
    viewers = [Viewer(url, mint(secret, f"fan{i:02d}", Role.VIEWER, 600, "DE"), CONFIG)
               for i in range(VIEWERS)]
    await asyncio.gather(*(v.open() for v in viewers))
    acknowledged: list[tuple[str, int, str]] = []

    async def enter(i: int, viewer: Viewer) -> None:
        await asyncio.sleep(i * 0.02)  # 50 taps over 1 s
        try:
            receipt = await viewer.enter("storm")
        except RtcInteractError:
            return  # the host died before answering: not acknowledged, may or may not count
        acknowledged.append((f"fan{i:02d}", receipt.entry, receipt.entry_hash))
        if len(acknowledged) == VIEWERS // 2:
            process.send_signal(signal.SIGKILL)  # mid-storm, with taps still in flight

    try:
        await asyncio.gather(*(enter(i, v) for i, v in enumerate(viewers)))
    finally:
        await asyncio.gather(*(v.aclose() for v in viewers), return_exceptions=True)
    return acknowledged


async def test_sigkill_mid_storm_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    rules = Rules(giveaway_id="storm", title="Storm giveaway",
                  tiers=(PrizeTier("Prize", "Mug", 5, 10.0, "EUR"),), window_s=120.0,
                  regions=("DE", "FR"), organizer="Test organizer")
    (tmp_path / "rules.json").write_text(json.dumps(to_dict(rules)))
    secret = new_secret()
    first = _host(tmp_path, secret)
    try:
        acknowledged = await _storm(await _url(first), secret, first)
    finally:
        first.kill()
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    assert VIEWERS // 2 <= len(acknowledged) < VIEWERS  # the kill really cut the storm
    result_file = tmp_path / "result.json"
    second = _host(tmp_path, secret, "--finish-after", "1", "--seconds", "3",
                   "--result", str(result_file))
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 0, output
    result = result_from_json(result_file.read_text())
    assert verify(result) == []
    published = {(e.identity, e.number, e.entry_hash) for e in result.entries}
    assert set(acknowledged) <= published
    identities = [e.identity for e in result.entries]
    assert len(identities) == len(set(identities))
    assert len(result.winners) == min(5, len(result.entries))
