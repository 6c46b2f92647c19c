"""The sans-IO giveaway state machine with a fake clock (plain integers)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rtc_interact.errors import ErrorCode
from rtc_interact.giveaway import (
    Accepted,
    EntryCondition,
    Giveaway,
    InvalidTransition,
    RefusalReason,
    Refused,
    State,
    verify,
)
from rtc_interact.giveaway.core import TRANSITIONS
from rtc_interact.giveaway.draw import commitment, entries_hash

from .support import T0, make_rules, tap

SEED = b"\x01" * 32


def _step(gw: Giveaway, to: State) -> None:
    """Try the one method that leads to ``to`` (nothing leads back to DRAFT)."""
    now = T0 + 100_000
    if to is State.DRAFT:
        raise InvalidTransition("no method leads back to draft")
    steps: dict[State, Callable[[], object]] = {
        State.OPEN: lambda: gw.open(T0), State.CLOSED: lambda: gw.close(now),
        State.DRAWN: lambda: gw.draw(now), State.ANNOUNCED: lambda: gw.announce(now)}
    steps[to]()


def _walk_to(target: State) -> Giveaway:
    gw = Giveaway(make_rules(), seed=SEED)
    order = [State.OPEN, State.CLOSED, State.DRAWN, State.ANNOUNCED]
    for state in order[:order.index(target) + 1] if target is not State.DRAFT else []:
        _step(gw, state)
    return gw


@pytest.mark.parametrize("start", list(State))
@pytest.mark.parametrize("target", list(State))
def test_only_the_transitions_in_the_table_are_allowed(start: State, target: State) -> None:
    gw = _walk_to(start)
    assert gw.state is start
    if target in TRANSITIONS[start]:
        _step(gw, target)
        assert gw.state is target
    else:
        with pytest.raises(InvalidTransition):
            _step(gw, target)
        assert gw.state is start


def test_open_publishes_commitment_and_window() -> None:
    gw = Giveaway(make_rules(window_s=30), seed=SEED)
    opened = gw.open(T0)
    assert opened.commitment == commitment(SEED)
    assert (opened.window.open_ms, opened.window.close_ms) == (T0, T0 + 30_000)
    assert opened.close_at_ms > opened.window.close_ms + make_rules().max_allowance_ms


def test_entries_are_numbered_and_hashed() -> None:
    gw = Giveaway(make_rules(), seed=SEED)
    gw.open(T0)
    a = gw.enter(tap("alice", T0 + 10, media_ts_ms=T0 + 5))
    b = gw.enter(tap("bob", T0 + 20))
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    assert (a.entry.number, b.entry.number) == (1, 2)
    assert a.new and a.receipt.entry_hash == a.entry.entry_hash
    assert a.entry.entry_hash != b.entry.entry_hash
    assert a.entry.media_ts_ms == T0 + 5 and b.entry.media_ts_ms is None


def test_one_entry_per_identity_returns_the_existing_receipt() -> None:
    gw = Giveaway(make_rules(), seed=SEED)
    gw.open(T0)
    first = gw.enter(tap("alice", T0 + 10))
    again = gw.enter(tap("alice", T0 + 900, viewer_id="reconnected"))
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert not again.new and again.receipt == first.receipt
    assert len(gw.entries) == 1
    gw.close(T0 + 100_000)
    late = gw.enter(tap("alice", T0 + 100_001))
    assert isinstance(late, Accepted) and late.receipt == first.receipt


def test_refusals_are_typed_with_wire_codes() -> None:
    gw = Giveaway(make_rules(regions=("DE",)), seed=SEED)
    draft = gw.enter(tap("a", T0))
    assert isinstance(draft, Refused) and draft.reason is RefusalReason.NOT_OPEN
    gw.open(T0)
    foreign = gw.enter(tap("b", T0 + 1, region="FR"))
    assert isinstance(foreign, Refused) and foreign.reason is RefusalReason.NOT_ELIGIBLE
    assert foreign.reason.code is ErrorCode.NOT_ELIGIBLE
    assert "DE" in foreign.message and "FR" in foreign.message
    late = gw.enter(tap("c", T0 + 60_001))
    assert isinstance(late, Refused) and late.reason is RefusalReason.OUTSIDE_WINDOW
    assert late.decision is not None and not late.decision.counts
    assert gw.entries == ()


def test_keyword_and_watch_time_conditions() -> None:
    gw = Giveaway(make_rules(condition=EntryCondition("coffee", 30)), seed=SEED)
    gw.open(T0)
    no_comment = gw.enter(tap("a", T0 + 1, watched_ms=60_000))
    assert isinstance(no_comment, Refused)
    assert no_comment.reason is RefusalReason.CONDITION_NOT_MET
    gw.note_comment("a", "I love COFFEE!")
    short = gw.enter(tap("a", T0 + 2, watched_ms=29_999))
    assert isinstance(short, Refused) and "30 s" in short.message
    assert isinstance(gw.enter(tap("a", T0 + 3, watched_ms=30_000)), Accepted)


def test_close_freezes_entries_and_hash_matches_the_list() -> None:
    gw = Giveaway(make_rules(), seed=SEED)
    gw.open(T0)
    for i in range(5):
        gw.enter(tap(f"u{i}", T0 + i))
    digest = gw.close(T0 + 100_000)
    assert digest == entries_hash([e.entry_hash for e in gw.entries])
    refused = gw.enter(tap("newcomer", T0 + 10))
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.NOT_OPEN


def test_full_lifecycle_publishes_a_valid_result() -> None:
    gw = Giveaway(make_rules(), seed=SEED)
    gw.open(T0)
    for i in range(12):
        gw.enter(tap(f"u{i}", T0 + 10 * i))
    gw.close(T0 + 70_000)
    winners = gw.draw(T0 + 70_001)
    with pytest.raises(InvalidTransition):
        gw.result()  # the seed stays secret until announced
    result = gw.announce(T0 + 70_002)
    assert [w.tier_name for w in winners] == ["Grand prize"] + ["Second prize"] * 2 + \
        ["Participation"] * 3
    assert result.seed == SEED.hex() and result.winners == winners
    assert verify(result) == []


def test_restore_continues_numbering_and_dedupe() -> None:
    gw = Giveaway(make_rules(), seed=SEED)
    gw.open(T0)
    gw.enter(tap("a", T0 + 1))
    gw.enter(tap("b", T0 + 2))
    again = Giveaway.restore(gw.record, gw.entries)
    assert again.state is State.OPEN and again.commitment == gw.commitment
    dup = again.enter(tap("a", T0 + 3))
    assert isinstance(dup, Accepted) and not dup.new and dup.entry.number == 1
    new = again.enter(tap("c", T0 + 4))
    assert isinstance(new, Accepted) and new.entry.number == 3


def test_public_info_never_leaks_the_seed_before_the_announcement() -> None:
    gw = Giveaway(make_rules(), seed=SEED)
    assert gw.public_info()["commitment"] is None
    gw.open(T0)
    gw.enter(tap("a", T0 + 1))
    for step in (lambda: gw.close(T0 + 70_000), lambda: gw.draw(T0 + 70_001)):
        info = gw.public_info()
        assert info["seed"] is None and info["winners"] is None
        assert SEED.hex() not in str(info)
        step()
    assert gw.public_info()["entries"] == 1
    gw.announce(T0 + 70_002)
    info = gw.public_info()
    assert info["seed"] == SEED.hex() and info["winners"] == [[0, 1, 1, "a"]]
    assert info["commitment"] == commitment(SEED) and "Fair timing" in info["rules_text"]
