"""Durable giveaway store: SQLite in WAL mode with one writer thread doing group commit.

Callers on the event loop submit writes and get an ``asyncio.Future`` that resolves only after the
transaction containing the write has committed. The writer thread takes everything queued while the
previous commit was running and commits it in one transaction, so one ``fsync`` covers many entries.

Durability: ``Durability.POWER`` (the default) runs ``synchronous=FULL``: a commit is fsynced before
the future resolves, so an acknowledged entry survives a process SIGKILL *and* an OS crash or power
loss. ``Durability.PROCESS`` runs ``synchronous=NORMAL``: in WAL mode a commit is written to the WAL
file (the OS page cache) before the future resolves, which survives SIGKILL of the process but the
last commits may be lost on power loss.

Reads (recovery, reports) use their own connection in the caller's thread (WAL readers do not block
the writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import queue
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from .analytics import CommentRecord, PresenceSpan
from .core import Giveaway, GiveawayRecord, State
from .draw import Winner
from .entry import Entry
from .errors import StoreError
from .fulfillment import Claim, Fulfilment
from .rules import rules_from_dict, to_dict

SCHEMA = """
CREATE TABLE IF NOT EXISTS giveaways (
    giveaway_id TEXT PRIMARY KEY, record TEXT NOT NULL, seed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    giveaway_id TEXT NOT NULL, number INTEGER NOT NULL, identity TEXT NOT NULL,
    viewer_id TEXT NOT NULL, region TEXT NOT NULL, media_ts_ms INTEGER,
    arrival_ms INTEGER NOT NULL, entry_hash TEXT NOT NULL,
    PRIMARY KEY (giveaway_id, number), UNIQUE (giveaway_id, identity));
CREATE TABLE IF NOT EXISTS claims (
    giveaway_id TEXT NOT NULL, identity TEXT NOT NULL, entry_number INTEGER NOT NULL,
    tier_name TEXT NOT NULL, name TEXT NOT NULL, address TEXT NOT NULL, contact TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL, PRIMARY KEY (giveaway_id, identity));
CREATE TABLE IF NOT EXISTS fulfilments (
    giveaway_id TEXT NOT NULL, identity TEXT NOT NULL, fulfilled_at_ms INTEGER NOT NULL,
    note TEXT NOT NULL, PRIMARY KEY (giveaway_id, identity));
CREATE TABLE IF NOT EXISTS presence (
    giveaway_id TEXT NOT NULL, identity TEXT NOT NULL, joined_ms INTEGER NOT NULL,
    left_ms INTEGER);
CREATE TABLE IF NOT EXISTS comments (
    giveaway_id TEXT NOT NULL, identity TEXT NOT NULL, at_ms INTEGER NOT NULL);
"""
INSERT_ENTRY = "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class Durability(enum.Enum):
    """What an acknowledged write survives."""

    POWER = "FULL"
    """fsync on every (group) commit: survives process kill, OS crash and power loss."""
    PROCESS = "NORMAL"
    """WAL written on commit, fsync at checkpoints: survives process kill, not power loss."""


@dataclass(slots=True)
class _Write:
    sql: str
    params: tuple[Any, ...]
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop
    error: BaseException | None = field(default=None)


_STOP = object()


class GiveawayStore:
    """See the module docstring. Use as ``async with GiveawayStore(path) as store``."""

    def __init__(self, path: str | Path, *, durability: Durability = Durability.POWER,
                 max_batch: int = 2048) -> None:
        self.path = Path(path)
        self.durability = durability
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Write | object] = queue.SimpleQueue()
        self._closed = False
        self.commits = 0
        """Transactions committed so far (for benchmarks: writes / commits = batch size)."""
        conn = self._connect()  # creates the schema before the writer starts
        conn.close()
        self._thread = threading.Thread(target=self._run, name="giveaway-store", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.durability.value}")
        conn.executescript(SCHEMA)
        return conn

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        conn = self._connect()
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                if first is _STOP:
                    break
                assert isinstance(first, _Write)
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    assert isinstance(item, _Write)
                    batch.append(item)
                self._commit(conn, batch)
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for item in batch:
                try:
                    conn.execute(item.sql, item.params)
                except sqlite3.IntegrityError as exc:
                    item.error = self._integrity(conn, item, exc)
                except sqlite3.Error as exc:
                    item.error = StoreError(f"store write failed: {exc}")
            conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for item in batch:
                item.error = StoreError(f"store commit failed: {exc}")
        by_loop: dict[asyncio.AbstractEventLoop, list[_Write]] = {}
        for item in batch:
            by_loop.setdefault(item.loop, []).append(item)
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(_resolve, items)

    @staticmethod
    def _integrity(conn: sqlite3.Connection, item: _Write,
                   exc: sqlite3.IntegrityError) -> BaseException | None:
        """An entry already stored with the same hash is success (idempotent re-entry)."""
        if item.sql == INSERT_ENTRY:
            row = conn.execute("SELECT entry_hash FROM entries WHERE giveaway_id=? AND "
                               "identity=?", (item.params[0], item.params[2])).fetchone()
            if row is not None and row[0] == item.params[7]:
                return None
        return StoreError(f"store write conflicts with stored data: {exc}")

    # -- writes ----------------------------------------------------------------------------------

    def submit(self, sql: str, params: tuple[Any, ...]) -> asyncio.Future[None]:
        """Queue one write; the future resolves once it is committed (or fails)."""
        if self._closed:
            raise StoreError("the giveaway store is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Write(sql, params, fut, loop))
        return fut

    def add_entry(self, entry: Entry) -> asyncio.Future[None]:
        """Make ``entry`` durable; await the future before sending its receipt.

        Submitting an entry that is already stored (same identity, same hash) succeeds, so a
        re-entry after a reconnect can simply await this again."""
        return self.submit(INSERT_ENTRY, (
            entry.giveaway_id, entry.number, entry.identity, entry.viewer_id, entry.region,
            entry.media_ts_ms, entry.arrival_ms, entry.entry_hash))

    def save_giveaway(self, record: GiveawayRecord) -> asyncio.Future[None]:
        """Store the giveaway's record; await it after every transition, before broadcasting."""
        return self.submit("INSERT OR REPLACE INTO giveaways VALUES (?, ?, ?)",
                           (record.rules.giveaway_id, _record_json(record), record.seed))

    def add_claim(self, claim: Claim) -> asyncio.Future[None]:
        """Store a winner's claim (one per winner; a second one fails)."""
        return self.submit("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
            claim.giveaway_id, claim.identity, claim.entry_number, claim.tier_name, claim.name,
            claim.address, claim.contact, claim.submitted_at_ms))

    def mark_fulfilled(self, item: Fulfilment) -> asyncio.Future[None]:
        """Mark a prize delivered."""
        return self.submit("INSERT OR REPLACE INTO fulfilments VALUES (?, ?, ?, ?)",
                           (item.giveaway_id, item.identity, item.fulfilled_at_ms, item.note))

    def add_presence(self, giveaway_id: str, span: PresenceSpan) -> asyncio.Future[None]:
        """Record a viewer session for analytics."""
        return self.submit("INSERT INTO presence VALUES (?, ?, ?, ?)",
                           (giveaway_id, span.identity, span.joined_ms, span.left_ms))

    def add_comment(self, giveaway_id: str, comment: CommentRecord) -> asyncio.Future[None]:
        """Record a comment for analytics."""
        return self.submit("INSERT INTO comments VALUES (?, ?, ?)",
                           (giveaway_id, comment.identity, comment.at_ms))

    # -- reads -----------------------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def giveaway_ids(self) -> list[str]:
        """Ids of every stored giveaway."""
        return [r[0] for r in self._read("SELECT giveaway_id FROM giveaways ORDER BY rowid")]

    def load_record(self, giveaway_id: str) -> GiveawayRecord:
        """The stored record of one giveaway; raises :class:`StoreError` if absent."""
        rows = self._read("SELECT record, seed FROM giveaways WHERE giveaway_id=?",
                          (giveaway_id,))
        if not rows:
            raise StoreError(f"no giveaway {giveaway_id!r} in {self.path}")
        return _record_from_json(rows[0][0], bytes(rows[0][1]))

    def load_entries(self, giveaway_id: str) -> tuple[Entry, ...]:
        """The stored entries of one giveaway, in number order."""
        rows = self._read("SELECT * FROM entries WHERE giveaway_id=? ORDER BY number",
                          (giveaway_id,))
        return tuple(Entry(*row) for row in rows)

    def restore(self, giveaway_id: str) -> Giveaway:
        """Rebuild the sans-IO giveaway after a restart (it continues where it stopped)."""
        return Giveaway.restore(self.load_record(giveaway_id), self.load_entries(giveaway_id))

    def load_claims(self, giveaway_id: str) -> tuple[Claim, ...]:
        """Stored claims of one giveaway."""
        rows = self._read("SELECT * FROM claims WHERE giveaway_id=? ORDER BY submitted_at_ms",
                          (giveaway_id,))
        return tuple(Claim(*row) for row in rows)

    def load_fulfilments(self, giveaway_id: str) -> tuple[Fulfilment, ...]:
        """Stored fulfilments of one giveaway."""
        rows = self._read("SELECT * FROM fulfilments WHERE giveaway_id=?", (giveaway_id,))
        return tuple(Fulfilment(*row) for row in rows)

    def load_presence(self, giveaway_id: str) -> tuple[PresenceSpan, ...]:
        """Stored presence spans of one giveaway."""
        rows = self._read("SELECT identity, joined_ms, left_ms FROM presence "
                          "WHERE giveaway_id=?", (giveaway_id,))
        return tuple(PresenceSpan(*row) for row in rows)

    def load_comments(self, giveaway_id: str) -> tuple[CommentRecord, ...]:
        """Stored comment records of one giveaway."""
        rows = self._read("SELECT identity, at_ms FROM comments WHERE giveaway_id=?",
                          (giveaway_id,))
        return tuple(CommentRecord(*row) for row in rows)

    # -- lifecycle -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Commit what is queued, stop the writer thread. Idempotent."""
        self._stop()
        await asyncio.to_thread(self._thread.join)

    def close_now(self) -> None:
        """Like :meth:`aclose`, blocking; for code without an event loop (the CLI)."""
        self._stop()
        self._thread.join()

    def _stop(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)

    async def __aenter__(self) -> GiveawayStore:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


def _resolve(items: Sequence[_Write]) -> None:
    for item in items:
        if item.future.done():
            continue
        if item.error is None:
            item.future.set_result(None)
        else:
            item.future.set_exception(item.error)


def _record_json(record: GiveawayRecord) -> str:
    return json.dumps({
        "rules": to_dict(record.rules), "state": record.state.value,
        "acknowledged": list(record.acknowledged), "opened_at_ms": record.opened_at_ms,
        "closed_at_ms": record.closed_at_ms, "entries_hash": record.entries_hash,
        "drawn_at_ms": record.drawn_at_ms, "announced_at_ms": record.announced_at_ms,
        "winners": [[w.tier, w.tier_name, w.place, w.entry_number, w.identity, w.entry_hash]
                    for w in record.winners],
    })


def _record_from_json(text: str, seed: bytes) -> GiveawayRecord:
    doc = json.loads(text)
    return GiveawayRecord(
        rules=rules_from_dict(doc["rules"]), state=State(doc["state"]), seed=seed,
        acknowledged=tuple(doc["acknowledged"]), opened_at_ms=doc["opened_at_ms"],
        closed_at_ms=doc["closed_at_ms"], entries_hash=doc["entries_hash"],
        drawn_at_ms=doc["drawn_at_ms"], winners=tuple(Winner(*w) for w in doc["winners"]),
        announced_at_ms=doc["announced_at_ms"])
