"""The durable store against a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from rtc_interact.giveaway import (
    Accepted,
    Durability,
    Fulfilment,
    Giveaway,
    GiveawayStore,
    State,
    StoreError,
    make_claim,
    verify,
)
from rtc_interact.giveaway.analytics import CommentRecord, PresenceSpan
from rtc_interact.giveaway.entry import make_entry

from .support import T0, make_rules, tap


async def _enter_all(store: GiveawayStore, gw: Giveaway, n: int, start: int = 0) -> None:
    futures = []
    for i in range(start, start + n):
        decision = gw.enter(tap(f"u{i}", T0 + 1 + i))
        assert isinstance(decision, Accepted)
        futures.append(store.add_entry(decision.entry))
    await asyncio.gather(*futures)


async def test_wal_mode_and_entries_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "gw.sqlite"
    async with GiveawayStore(path) as store:
        gw = Giveaway(make_rules(), seed=b"\x02" * 32)
        gw.open(T0)
        await store.save_giveaway(gw.record)
        await _enter_all(store, gw, 50)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    async with GiveawayStore(path) as again:
        restored = again.restore("gw-1")
        assert restored.state is State.OPEN
        assert restored.entries == gw.entries
        assert restored.commitment == gw.commitment


async def test_group_commit_batches_concurrent_writes(tmp_path: Path) -> None:
    async with GiveawayStore(tmp_path / "gw.sqlite", durability=Durability.PROCESS) as store:
        gw = Giveaway(make_rules())
        gw.open(T0)
        await _enter_all(store, gw, 2000)
        assert len(store.load_entries("gw-1")) == 2000
        assert store.commits < 2000  # many entries per transaction


async def test_resubmitting_a_stored_entry_is_idempotent(tmp_path: Path) -> None:
    async with GiveawayStore(tmp_path / "gw.sqlite") as store:
        entry = make_entry("gw-1", 1, "alice", "v1", "DE", None, T0)
        await store.add_entry(entry)
        await store.add_entry(entry)
        forged = make_entry("gw-1", 2, "alice", "v2", "DE", None, T0 + 5)
        with pytest.raises(StoreError):
            await store.add_entry(forged)
        other = make_entry("gw-1", 1, "bob", "v3", "DE", None, T0)
        with pytest.raises(StoreError):
            await store.add_entry(other)  # entry number 1 is taken
        assert store.load_entries("gw-1") == (entry,)


async def test_a_failed_write_does_not_fail_its_batch(tmp_path: Path) -> None:
    async with GiveawayStore(tmp_path / "gw.sqlite") as store:
        await store.add_entry(make_entry("gw-1", 1, "alice", "v", "DE", None, T0))
        good = [make_entry("gw-1", n, f"u{n}", "v", "DE", None, T0) for n in range(2, 40)]
        bad = make_entry("gw-1", 1, "mallory", "v", "DE", None, T0)
        results = await asyncio.gather(*(store.add_entry(e) for e in [*good[:10], bad,
                                                                      *good[10:]]),
                                       return_exceptions=True)
        assert [type(r) for r in results].count(StoreError) == 1
        assert len(store.load_entries("gw-1")) == 39


async def test_full_lifecycle_with_claims_and_analytics_records(tmp_path: Path) -> None:
    path = tmp_path / "gw.sqlite"
    async with GiveawayStore(path) as store:
        gw = Giveaway(make_rules())
        gw.open(T0)
        await store.save_giveaway(gw.record)
        await _enter_all(store, gw, 10)
        gw.close(T0 + 70_000)
        gw.draw(T0 + 70_001)
        result = gw.announce(T0 + 70_002)
        await store.save_giveaway(gw.record)
        winner = result.winners[0].identity
        claim = make_claim(gw.rules, result.winners, T0 + 70_002, winner, T0 + 80_000,
                           name="Ada", address="Berlin", contact="ada@example.com")
        await store.add_claim(claim)
        with pytest.raises(StoreError):
            await store.add_claim(claim)  # one claim per winner
        await store.mark_fulfilled(Fulfilment("gw-1", winner, T0 + 90_000, "TRACK"))
        await store.add_presence("gw-1", PresenceSpan("u1", T0 - 5000, None))
        await store.add_comment("gw-1", CommentRecord("u1", T0 + 10))
    async with GiveawayStore(path) as again:
        restored = again.restore("gw-1")
        assert restored.state is State.ANNOUNCED
        assert verify(restored.result()) == []
        assert restored.result() == result
        assert again.load_claims("gw-1") == (claim,)
        assert again.load_fulfilments("gw-1")[0].note == "TRACK"
        assert again.load_presence("gw-1") == (PresenceSpan("u1", T0 - 5000, None),)
        assert again.load_comments("gw-1") == (CommentRecord("u1", T0 + 10),)
        assert again.giveaway_ids() == ["gw-1"]


async def test_missing_giveaway_and_closed_store_raise_store_error(tmp_path: Path) -> None:
    store = GiveawayStore(tmp_path / "gw.sqlite")
    with pytest.raises(StoreError):
        store.load_record("nope")
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(StoreError):
        store.add_entry(make_entry("gw-1", 1, "a", "v", "DE", None, T0))
