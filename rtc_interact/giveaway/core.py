"""The sans-IO giveaway state machine: draft -> open -> closed -> drawn -> announced.

:class:`Giveaway` takes taps and comments with the host's ``now`` and returns values: an
:class:`Accepted` entry (to be made durable by the store *before* the receipt is sent) or a typed
:class:`Refused`. It does no I/O and reads no clock; a restarted host rebuilds it with
:meth:`Giveaway.restore` from what the store kept.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ErrorCode
from . import compliance, fairness
from .draw import PublishedResult, Winner, commitment, entries_hash, new_seed, pick_winners
from .entry import Entry, Receipt, make_entry
from .errors import InvalidTransition
from .rules import Rules, render_text, to_dict


class State(enum.Enum):
    """Lifecycle of a giveaway."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DRAWN = "drawn"
    ANNOUNCED = "announced"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.OPEN}),
    State.OPEN: frozenset({State.CLOSED}),
    State.CLOSED: frozenset({State.DRAWN}),
    State.DRAWN: frozenset({State.ANNOUNCED}),
    State.ANNOUNCED: frozenset(),
}
"""The only allowed transitions; tests walk this table."""


class RefusalReason(enum.Enum):
    """Why an entry was refused; ``code`` is the proposed wire error code."""

    NOT_OPEN = "not_open"
    NOT_ELIGIBLE = "not_eligible"
    OUTSIDE_WINDOW = "outside_window"
    CONDITION_NOT_MET = "condition_not_met"

    @property
    def code(self) -> ErrorCode:
        """Wire error code for this refusal."""
        return _CODES[self]


_CODES = {
    RefusalReason.NOT_OPEN: ErrorCode.GIVEAWAY_NOT_OPEN,
    RefusalReason.NOT_ELIGIBLE: ErrorCode.NOT_ELIGIBLE,
    RefusalReason.OUTSIDE_WINDOW: ErrorCode.OUTSIDE_WINDOW,
    RefusalReason.CONDITION_NOT_MET: ErrorCode.CONDITION_NOT_MET,
}


@dataclass(frozen=True, slots=True)
class TapIn:
    """A tap on the giveaway as the host received it."""

    identity: str
    """Token subject of the viewer."""
    viewer_id: str
    """Session id of the viewer."""
    region: str
    """Region claim of the viewer's token ("" if none)."""
    arrival_ms: int
    """When the tap reached the host (host wall ms)."""
    media_ts_ms: int | None = None
    """Media timestamp of the frame on the viewer's screen at the tap, if sent."""
    rtt_ms: float | None = None
    """The viewer's current round trip from clock sync, if known."""
    watched_ms: int = 0
    """How long this identity has watched so far (for a minimum watch time)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The tap is (or already was) an entry."""

    entry: Entry
    """The entry; make it durable before sending the receipt."""
    new: bool
    """False when this identity had entered before (the existing entry is returned)."""

    @property
    def receipt(self) -> Receipt:
        """The receipt for the acknowledgement."""
        return self.entry.receipt()


@dataclass(frozen=True, slots=True)
class Refused:
    """The tap is not an entry."""

    reason: RefusalReason
    """Why."""
    message: str
    """One line for the viewer."""
    decision: fairness.Decision | None = None
    """The window decision, for OUTSIDE_WINDOW."""


@dataclass(frozen=True, slots=True)
class Opened:
    """What to broadcast when the giveaway opens."""

    commitment: str
    """Hex sha256 of the secret seed."""
    window: fairness.Window
    """The entry window (host wall ms)."""
    close_at_ms: int
    """When to call :meth:`Giveaway.close` (window end plus the latency allowance)."""


@dataclass(frozen=True, slots=True)
class GiveawayRecord:
    """Everything about a giveaway except its entries, as the store keeps it."""

    rules: Rules
    """The rules."""
    state: State
    """Current state."""
    seed: bytes
    """The secret seed (revealed only in the published result)."""
    acknowledged: tuple[str, ...] = ()
    """Ids of compliance findings the organizer acknowledged."""
    opened_at_ms: int | None = None
    """When it opened."""
    closed_at_ms: int | None = None
    """When the entry list was frozen."""
    entries_hash: str | None = None
    """Hash of the frozen entry list."""
    drawn_at_ms: int | None = None
    """When winners were drawn."""
    winners: tuple[Winner, ...] = ()
    """Winners once drawn."""
    announced_at_ms: int | None = None
    """When winners were announced."""


class Giveaway:
    """One giveaway; see the module docstring."""

    def __init__(self, rules: Rules, *, seed: bytes | None = None,
                 table: compliance.Table | None = None) -> None:
        self._rec = GiveawayRecord(rules, State.DRAFT, seed or new_seed())
        self.findings = compliance.check(rules, table)
        """Compliance findings, computed when the giveaway is created."""
        self._entries: list[Entry] = []
        self._by_identity: dict[str, Entry] = {}
        self._keyword_seen: set[str] = set()

    @classmethod
    def restore(cls, record: GiveawayRecord, entries: Iterable[Entry],
                table: compliance.Table | None = None) -> Giveaway:
        """Rebuild from the store after a restart."""
        gw = cls(record.rules, seed=record.seed, table=table)
        gw._rec = record
        for entry in sorted(entries, key=lambda e: e.number):
            gw._entries.append(entry)
            gw._by_identity[entry.identity] = entry
        return gw

    @property
    def rules(self) -> Rules:
        """The rules."""
        return self._rec.rules

    @property
    def state(self) -> State:
        """Current state."""
        return self._rec.state

    @property
    def record(self) -> GiveawayRecord:
        """Snapshot for the store (save it after every transition)."""
        return self._rec

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Entries so far, in number order."""
        return tuple(self._entries)

    @property
    def commitment(self) -> str:
        """Hex sha256 of the seed (public from the moment the giveaway opens)."""
        return commitment(self._rec.seed)

    @property
    def window(self) -> fairness.Window | None:
        """The entry window, None before opening."""
        if self._rec.opened_at_ms is None:
            return None
        start = self._rec.opened_at_ms
        return fairness.Window(start, start + self.rules.window_ms)

    def _check_move(self, to: State) -> None:
        if to not in TRANSITIONS[self.state]:
            raise InvalidTransition(f"giveaway {self.rules.giveaway_id}: cannot go from "
                                    f"{self.state.value} to {to.value}")

    def open(self, now_ms: int, acknowledge: tuple[str, ...] = ()) -> Opened:
        """Open entries now; blocking compliance findings must be in ``acknowledge``."""
        self._check_move(State.OPEN)
        compliance.require_acknowledged(self.findings, acknowledge)
        self._rec = replace(self._rec, state=State.OPEN, opened_at_ms=now_ms,
                            acknowledged=tuple(acknowledge))
        window = self.window
        assert window is not None
        return Opened(self.commitment, window, self.close_at_ms())

    def public_info(self) -> dict[str, Any]:
        """What every viewer may know now (send on join and on each transition): rules as a
        plain dict and as text, state, commitment, window; entries hash and winners once known.
        Never the seed before the announcement."""
        rec, window = self._rec, self.window
        info: dict[str, Any] = {
            "giveaway_id": self.rules.giveaway_id, "state": rec.state.value,
            "rules": to_dict(self.rules), "rules_text": render_text(self.rules),
            "commitment": self.commitment if window else None,
            "open_ms": window.open_ms if window else None,
            "close_ms": window.close_ms if window else None,
            "entries_hash": rec.entries_hash, "entries": len(self._entries)
            if rec.entries_hash else None,
            "winners": None, "seed": None,
        }
        if rec.state is State.ANNOUNCED:
            info["winners"] = [[w.tier, w.place, w.entry_number, w.identity] for w in rec.winners]
            info["seed"] = rec.seed.hex()
        return info

    def close_at_ms(self) -> int:
        """When to freeze entries: no tap that could still count arrives later."""
        window = self.window
        if window is None:
            raise InvalidTransition("not opened yet")
        return fairness.last_arrival_ms(window, self.rules.max_allowance_ms)

    def note_comment(self, identity: str, text: str) -> None:
        """A comment arrived; remembers who commented the entry keyword."""
        keyword = self.rules.condition.keyword
        if keyword and keyword.casefold() in text.casefold():
            self._keyword_seen.add(identity)

    def enter(self, tap: TapIn) -> Accepted | Refused:
        """Judge a tap: an entry (new or existing) or a typed refusal."""
        existing = self._by_identity.get(tap.identity)
        if existing is not None:
            return Accepted(existing, new=False)
        window = self.window
        if self.state is not State.OPEN or window is None:
            return Refused(RefusalReason.NOT_OPEN, "this giveaway is not taking entries")
        ok, why = compliance.eligibility(self.rules, tap.region)
        if not ok:
            return Refused(RefusalReason.NOT_ELIGIBLE, why)
        unmet = self._condition_unmet(tap)
        if unmet:
            return Refused(RefusalReason.CONDITION_NOT_MET, unmet)
        decision = fairness.judge(window, tap.arrival_ms, tap.media_ts_ms, rtt_ms=tap.rtt_ms,
                                  max_allowance_ms=self.rules.max_allowance_ms)
        if not decision.counts:
            return Refused(RefusalReason.OUTSIDE_WINDOW, decision.reason, decision)
        entry = make_entry(self.rules.giveaway_id, len(self._entries) + 1, tap.identity,
                           tap.viewer_id, tap.region, tap.media_ts_ms, tap.arrival_ms)
        self._entries.append(entry)
        self._by_identity[tap.identity] = entry
        return Accepted(entry, new=True)

    def _condition_unmet(self, tap: TapIn) -> str:
        cond = self.rules.condition
        if cond.keyword and tap.identity not in self._keyword_seen:
            return f"comment \"{cond.keyword}\" before tapping to enter"
        if tap.watched_ms < cond.min_watch_s * 1000:
            return f"watch at least {cond.min_watch_s:g} s before entering"
        return ""

    def close(self, now_ms: int) -> str:
        """Freeze the entry list; returns the entries hash to publish."""
        digest = entries_hash([e.entry_hash for e in self._entries])
        self._check_move(State.CLOSED)
        self._rec = replace(self._rec, state=State.CLOSED, closed_at_ms=now_ms,
                            entries_hash=digest)
        return digest

    def draw(self, now_ms: int) -> tuple[Winner, ...]:
        """Pick the winners of every tier (the seed stays secret until :meth:`announce`)."""
        self._check_move(State.DRAWN)
        winners = pick_winners(self._rec.seed, self.rules.giveaway_id, self.rules.tiers,
                                    self._entries)
        self._rec = replace(self._rec, state=State.DRAWN, drawn_at_ms=now_ms, winners=winners)
        return winners

    def announce(self, now_ms: int) -> PublishedResult:
        """Announce winners and reveal the seed: the result to publish."""
        self._check_move(State.ANNOUNCED)
        self._rec = replace(self._rec, state=State.ANNOUNCED, announced_at_ms=now_ms)
        return self.result()

    def result(self) -> PublishedResult:
        """The published result (only once announced: it reveals the seed)."""
        rec = self._rec
        if (rec.state is not State.ANNOUNCED or rec.opened_at_ms is None
                or rec.closed_at_ms is None or rec.entries_hash is None
                or rec.drawn_at_ms is None):
            raise InvalidTransition("the result is published only after the announcement")
        return PublishedResult(
            rules=rec.rules, commitment=self.commitment, opened_at_ms=rec.opened_at_ms,
            closed_at_ms=rec.closed_at_ms, entries=tuple(self._entries),
            entries_hash=rec.entries_hash, winners=rec.winners, seed=rec.seed.hex(),
            drawn_at_ms=rec.drawn_at_ms)
