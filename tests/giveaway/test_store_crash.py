"""SIGKILL a real process that writes entries; every acknowledged entry must survive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from rtc_interact.giveaway import Accepted, GiveawayStore, State, TapIn, verify

CHILD = Path(__file__).with_name("store_child.py")
KILL_AFTER_ACKS = 2000
MAX_ENTRIES = 1_000_000  # far more than can be written before the kill


def _run_and_kill(path: Path) -> dict[int, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, str(CHILD), str(path), str(MAX_ENTRIES)],
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    acked: dict[int, str] = {}
    try:
        assert child.stdout.readline().strip() == "ready"
        for _ in range(MAX_ENTRIES):
            line = child.stdout.readline()
            if not line:
                break
            _, number, digest = line.split()
            acked[int(number)] = digest
            if len(acked) >= KILL_AFTER_ACKS:
                child.send_signal(signal.SIGKILL)
                break
        # Acks the child printed before it died are acks too: read them all.
        for line in child.stdout:
            if line.startswith("ack "):
                _, number, digest = line.split()
                acked[int(number)] = digest
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return acked


async def test_every_acknowledged_entry_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    acked = _run_and_kill(path)
    assert len(acked) >= KILL_AFTER_ACKS
    async with GiveawayStore(path) as store:
        entries = store.load_entries("crash")
        stored = {e.number: e.entry_hash for e in entries}
        assert len({e.identity for e in entries}) == len(entries)  # none twice
        missing = [n for n, h in acked.items() if stored.get(n) != h]
        assert missing == []
        assert sorted(stored) == list(range(1, len(stored) + 1))  # no holes
        # The restarted host continues: dedupe holds, new entries follow, the draw proceeds.
        gw = store.restore("crash")
        assert gw.state is State.OPEN
        first = entries[0]
        again = gw.enter(TapIn(first.identity, "reconnected", "DE", first.arrival_ms + 5))
        assert isinstance(again, Accepted) and not again.new
        new = gw.enter(TapIn("newcomer", "vn", "DE", first.arrival_ms + 10))
        assert isinstance(new, Accepted) and new.entry.number == len(entries) + 1
        await store.add_entry(new.entry)
        gw.close(first.arrival_ms + 20)
        gw.draw(first.arrival_ms + 21)
        assert verify(gw.announce(first.arrival_ms + 22)) == []
