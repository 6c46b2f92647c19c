"""The host's giveaway desk: the asyncio adapter between the event channel and the sans-IO core.

It keeps the live :class:`~rtc_interact.giveaway.core.Giveaway` objects, makes every entry and
state change durable in the :class:`~rtc_interact.giveaway.store.GiveawayStore` *before* anything
is answered or announced, and turns outcomes into wire messages. The host calls
:meth:`GiveawayDesk.enter` and :meth:`GiveawayDesk.claim` for deferred requests; the application
calls :meth:`create`, :meth:`open`, :meth:`close` and :meth:`finish` (usually through ``Host``).
After a crash, a desk opened on the same store file carries on where the last one stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..datachannel.clock import wall_ms
from ..datachannel.messages import MAX_RULES_TEXT, Downstream, GiveawayRules, Winners, Won
from ..errors import ConfigurationError, ErrorCode
from .analytics import CommentRecord, PresenceSpan
from .core import Accepted, Giveaway, Refused, State, TapIn
from .draw import PublishedResult
from .entry import Entry
from .errors import ClaimRefused, GiveawayError
from .fulfillment import Claim, claim_deadline_ms, make_claim
from .rules import Rules, render_text
from .store import GiveawayStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    """An entry or claim the desk refused: what to put in the ``error`` reply."""

    code: ErrorCode
    """Wire error code."""
    reason: str
    """One line for the viewer."""


class GiveawayDesk:
    """Giveaways of one host; see the module docstring."""

    def __init__(self, store: GiveawayStore, broadcast: Callable[[Downstream], int],
                 send_to: Callable[[str, Downstream], int],
                 present: Callable[[], list[PresenceSpan]] = list) -> None:
        self.store = store
        self._broadcast, self._send_to, self._present = broadcast, send_to, present
        self.giveaways: dict[str, Giveaway] = {
            gid: store.restore(gid) for gid in store.giveaway_ids()}
        """Every giveaway the store knows, by id (restored ones included)."""
        self._writes: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self._tasks: set[asyncio.Future[str]] = set()
        self.refused = 0
        """Entries refused (not eligible, outside the window, ...)."""

    @classmethod
    def open_file(cls, path: str | Path, broadcast: Callable[[Downstream], int],
                  send_to: Callable[[str, Downstream], int],
                  present: Callable[[], list[PresenceSpan]] = list) -> GiveawayDesk:
        """A desk on the store at ``path`` (created if missing); ``present`` lists the viewers
        watching now (for the analytics of who was there when entries closed)."""
        return cls(GiveawayStore(path), broadcast, send_to, present)

    def get(self, giveaway_id: str) -> Giveaway:
        """The giveaway with this id; raises ConfigurationError for an unknown id."""
        try:
            return self.giveaways[giveaway_id]
        except KeyError:
            raise ConfigurationError(f"no giveaway {giveaway_id!r}") from None

    def notice(self, gw: Giveaway) -> GiveawayRules:
        """The ``rules`` message for a giveaway in its current state."""
        window = gw.window
        opened = gw.state is not State.DRAFT
        return GiveawayRules(g=gw.rules.giveaway_id, state=gw.state.value,
                             text=render_text(gw.rules),
                             open_ms=window.open_ms if window else None,
                             close_ms=window.close_ms if window else None,
                             commit=gw.commitment if opened else None)

    def notices(self) -> list[GiveawayRules]:
        """What a joining viewer is sent: every giveaway that is not a draft."""
        return [self.notice(gw) for gw in self.giveaways.values() if gw.state is not State.DRAFT]

    async def create(self, rules: Rules) -> Giveaway:
        """Register a giveaway (draft); its compliance findings are in ``.findings``."""
        if rules.giveaway_id in self.giveaways:
            raise ConfigurationError(f"giveaway {rules.giveaway_id!r} exists already")
        if len(render_text(rules)) > MAX_RULES_TEXT:
            raise ConfigurationError(f"rules text longer than {MAX_RULES_TEXT} characters")
        gw = Giveaway(rules)
        await self.store.save_giveaway(gw.record)
        self.giveaways[rules.giveaway_id] = gw
        return gw

    async def open(self, giveaway_id: str, acknowledge: tuple[str, ...] = ()) -> None:
        """Open entries now (raises ComplianceBlocked for unacknowledged blocking findings);
        entries freeze by themselves once no tap that could count can still arrive."""
        gw = self.get(giveaway_id)
        opened = gw.open(wall_ms(), acknowledge)
        await self.store.save_giveaway(gw.record)
        self._broadcast(self.notice(gw))
        delay = max(0.0, (opened.close_at_ms - wall_ms()) / 1000)
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(delay, self._auto_close, giveaway_id))

    def _auto_close(self, giveaway_id: str) -> None:
        if self.giveaways[giveaway_id].state is State.OPEN:
            task = asyncio.ensure_future(self.close(giveaway_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self, giveaway_id: str) -> str:
        """Freeze the entry list (after every pending entry is durable); returns its hash."""
        gw = self.get(giveaway_id)
        await self._settle(giveaway_id)
        digest = gw.close(wall_ms())
        await self.store.save_giveaway(gw.record)
        for span in self._present():  # still watching: present until the report's end
            self.store.add_presence(giveaway_id, span)
        self._broadcast(self.notice(gw))
        return digest

    async def _settle(self, giveaway_id: str) -> None:
        pending = [f for (gid, _), f in self._writes.items() if gid == giveaway_id]
        await asyncio.gather(*pending, return_exceptions=True)

    async def finish(self, giveaway_id: str, result_path: str | Path | None = None
                     ) -> PublishedResult:
        """Close if still open, draw, announce: winners to everyone, ``won`` to each winner,
        the published result written to ``result_path`` if given."""
        gw = self.get(giveaway_id)
        if gw.state is State.OPEN:
            await self.close(giveaway_id)
        if gw.state is State.CLOSED:
            gw.draw(wall_ms())
            await self.store.save_giveaway(gw.record)
        if gw.state is State.DRAWN:
            gw.announce(wall_ms())
            await self.store.save_giveaway(gw.record)
        result = gw.result()
        if result_path is not None:
            await asyncio.to_thread(Path(result_path).write_text, result.to_json(), "utf-8")
        self._announce(gw, result)
        return result

    def _announce(self, gw: Giveaway, result: PublishedResult) -> None:
        lines = [f"{w.tier_name} #{w.place}: {w.identity} (entry {w.entry_number})"
                 for w in result.winners] or ["no entries, no winners"]
        self._broadcast(Winners(g=gw.rules.giveaway_id, text="\n".join(lines)[:MAX_RULES_TEXT],
                                seed=result.seed, entries=result.entries_hash))
        announced = gw.record.announced_at_ms or wall_ms()
        deadline = claim_deadline_ms(gw.rules, announced)
        for w in result.winners:
            prize = gw.rules.tiers[w.tier].prize
            self._send_to(w.identity, Won(g=gw.rules.giveaway_id, tier=w.tier_name, prize=prize,
                                          deadline_ms=deadline))

    def note_comment(self, identity: str, text: str, at_ms: int) -> None:
        """A comment: counts toward keyword conditions and the comments-per-minute analytics."""
        for gid, gw in self.giveaways.items():
            if gw.state in (State.DRAFT, State.OPEN, State.CLOSED):
                gw.note_comment(identity, text)
                self.store.add_comment(gid, CommentRecord(identity, at_ms))

    def viewer_left(self, span: PresenceSpan) -> None:
        """A viewer session ended: recorded for every giveaway open at the time."""
        for gid, gw in self.giveaways.items():
            if gw.state is State.OPEN:
                self.store.add_presence(gid, span)

    async def enter(self, tap: TapIn, giveaway_id: str) -> Entry | Refusal:
        """Judge a tap; an entry is returned only once it is durable (a repeat waits for the
        first write of the same identity)."""
        gw = self.giveaways.get(giveaway_id)
        if gw is None:
            return Refusal(ErrorCode.GIVEAWAY_NOT_OPEN, f"no giveaway {giveaway_id!r}")
        outcome = gw.enter(tap)
        if isinstance(outcome, Refused):
            self.refused += 1
            return Refusal(ErrorCode(int(outcome.reason.code)), outcome.message)
        return await self._durable(giveaway_id, outcome)

    async def _durable(self, giveaway_id: str, accepted: Accepted) -> Entry | Refusal:
        key = (giveaway_id, accepted.entry.identity)
        write = self._writes.get(key)
        if write is None and accepted.new:
            write = self._writes[key] = self.store.add_entry(accepted.entry)
        try:
            if write is not None:
                await asyncio.shield(write)
        except GiveawayError as exc:
            log.error("entry %s not stored: %s", key, exc)
            return Refusal(ErrorCode.INTERNAL, "the entry could not be stored; tap again")
        if write is not None and self._writes.get(key) is write:
            del self._writes[key]  # durable now: a repeat needs no wait
        return accepted.entry

    async def claim(self, identity: str, giveaway_id: str, name: str, address: str,
                    contact: str) -> Claim | Refusal:
        """Record a winner's claim durably; a Refusal when it cannot be accepted."""
        gw = self.giveaways.get(giveaway_id)
        announced = gw.record.announced_at_ms if gw is not None else None
        if gw is None or announced is None:
            return Refusal(ErrorCode.CLAIM_REFUSED, "no announced giveaway with that id")
        try:
            claim = make_claim(gw.rules, gw.record.winners, announced, identity, wall_ms(),
                               name=name, address=address, contact=contact)
            await self.store.add_claim(claim)
        except ClaimRefused as exc:
            return Refusal(ErrorCode.CLAIM_REFUSED, exc.reason)
        return claim

    async def aclose(self) -> None:
        """Stop timers, finish pending writes and close the store."""
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._writes.values(), return_exceptions=True)
        await self.store.aclose()
