"""Claims, export for shipping and the overdue report."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rtc_interact.giveaway import ClaimDeadlinePassed, ClaimRefused, Fulfilment, NotAWinner
from rtc_interact.giveaway.fulfillment import (
    EXPORT_COLUMNS,
    HOUR_MS,
    claim_deadline_ms,
    export_csv,
    export_json,
    make_claim,
    overdue,
)

from .support import announced

ADDR = {"name": "Ada", "address": "1 Main St, Berlin", "contact": "ada@example.com"}


def test_winner_claims_before_the_deadline() -> None:
    r = announced(20)
    w = r.winners[0]
    c = make_claim(r.rules, r.winners, r.drawn_at_ms, w.identity, r.drawn_at_ms + 1000, **ADDR)
    assert (c.entry_number, c.tier_name, c.name) == (w.entry_number, "Grand prize", "Ada")


def test_claim_after_the_deadline_is_refused() -> None:
    r = announced(20)
    deadline = claim_deadline_ms(r.rules, r.drawn_at_ms)
    assert deadline == r.drawn_at_ms + 72 * HOUR_MS
    make_claim(r.rules, r.winners, r.drawn_at_ms, r.winners[0].identity, deadline, **ADDR)
    with pytest.raises(ClaimDeadlinePassed):
        make_claim(r.rules, r.winners, r.drawn_at_ms, r.winners[0].identity, deadline + 1,
                   **ADDR)


def test_non_winner_and_empty_fields_are_refused() -> None:
    r = announced(20)
    losers = {e.identity for e in r.entries} - {w.identity for w in r.winners}
    with pytest.raises(NotAWinner):
        make_claim(r.rules, r.winners, r.drawn_at_ms, sorted(losers)[0], r.drawn_at_ms, **ADDR)
    with pytest.raises(ClaimRefused):
        make_claim(r.rules, r.winners, r.drawn_at_ms, r.winners[0].identity, r.drawn_at_ms,
                   **{**ADDR, "address": " "})


def test_export_has_one_row_per_winner_with_claims() -> None:
    r = announced(20)
    claim = make_claim(r.rules, r.winners, 0, r.winners[1].identity, 5, **ADDR)
    done = Fulfilment("gw-1", r.winners[1].identity, 10, "TRACK123")
    rows = list(csv.DictReader(io.StringIO(export_csv(r.winners, [claim], [done]))))
    assert tuple(rows[0]) == EXPORT_COLUMNS and len(rows) == len(r.winners)
    assert rows[1]["address"] == "1 Main St, Berlin" and rows[1]["note"] == "TRACK123"
    assert rows[0]["claimed"] == "False" and rows[0]["fulfilled_at_ms"] == ""
    doc = json.loads(export_json(r.winners, [claim], [done]))
    assert doc[1]["claimed"] is True and doc[1]["claimed_at_ms"] == 5


def test_overdue_lists_undelivered_and_unclaimed_prizes() -> None:
    r = announced(20)
    ann = 0
    a, b, c = (w.identity for w in r.winners[:3])
    claims = [make_claim(r.rules, r.winners, ann, x, 1000, **ADDR) for x in (a, b)]
    done = [Fulfilment("gw-1", a, 2000)]
    assert overdue(r.rules, r.winners, ann, claims, done, 1000 + 48 * HOUR_MS) == []
    late = overdue(r.rules, r.winners, ann, claims, done, 1001 + 48 * HOUR_MS)
    assert [(o.identity, o.status, o.late_ms) for o in late] == [(b, "undelivered", 1)]
    much_later = overdue(r.rules, r.winners, ann, claims, done, 73 * HOUR_MS)
    statuses = {o.identity: o.status for o in much_later}
    assert statuses[b] == "undelivered" and statuses[c] == "unclaimed" and a not in statuses
