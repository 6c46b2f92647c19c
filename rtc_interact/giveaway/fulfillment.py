"""Winners' claims, export for shipping, and the report of prizes overdue (sans-IO).

A winner claims before ``announced_at + claim_within_h``; a valid claim starts the delivery promise
``submitted_at + deliver_within_h``. A prize not marked fulfilled by then is overdue.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from .draw import Winner
from .errors import ClaimDeadlinePassed, ClaimRefused, NotAWinner
from .rules import Rules

HOUR_MS = 3_600_000
MAX_CLAIM_TEXT = 500


@dataclass(frozen=True, slots=True)
class Claim:
    """A winner's claim: where and how to deliver the prize."""

    giveaway_id: str
    """The giveaway."""
    identity: str
    """The winner."""
    entry_number: int
    """The winning entry."""
    tier_name: str
    """The tier won."""
    name: str
    """Recipient name."""
    address: str
    """Delivery address (free text)."""
    contact: str
    """E-mail or phone for the courier."""
    submitted_at_ms: int
    """When the claim reached the host."""


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """A prize marked delivered."""

    giveaway_id: str
    """The giveaway."""
    identity: str
    """The winner."""
    fulfilled_at_ms: int
    """When it was marked delivered."""
    note: str = ""
    """Tracking number or other note."""


@dataclass(frozen=True, slots=True)
class Overdue:
    """A prize not delivered in the promised time, or not claimed in time."""

    identity: str
    """The winner."""
    tier_name: str
    """The tier won."""
    status: str
    """"undelivered" (claimed, past the delivery promise) or "unclaimed" (claim window over)."""
    due_ms: int
    """When it was due."""
    late_ms: int
    """How late it is at ``now``."""


def claim_deadline_ms(rules: Rules, announced_at_ms: int) -> int:
    """Last instant a claim is accepted."""
    return announced_at_ms + round(rules.claim_within_h * HOUR_MS)


def make_claim(rules: Rules, winners: Sequence[Winner], announced_at_ms: int, identity: str,
               now_ms: int, *, name: str, address: str, contact: str) -> Claim:
    """Validate a claim; raises :class:`NotAWinner`, :class:`ClaimDeadlinePassed` or
    :class:`ClaimRefused` (missing or oversized fields)."""
    won = next((w for w in winners if w.identity == identity), None)
    if won is None:
        raise NotAWinner(f"{identity!r} did not win in giveaway {rules.giveaway_id}")
    deadline = claim_deadline_ms(rules, announced_at_ms)
    if now_ms > deadline:
        raise ClaimDeadlinePassed(f"the claim deadline passed {now_ms - deadline} ms ago")
    for label, text in (("name", name), ("address", address), ("contact", contact)):
        if not text.strip() or len(text) > MAX_CLAIM_TEXT:
            raise ClaimRefused(f"{label} must be 1..{MAX_CLAIM_TEXT} characters")
    return Claim(rules.giveaway_id, identity, won.entry_number, won.tier_name, name, address,
                 contact, now_ms)


def overdue(rules: Rules, winners: Sequence[Winner], announced_at_ms: int,
            claims: Iterable[Claim], fulfilments: Iterable[Fulfilment],
            now_ms: int) -> list[Overdue]:
    """Prizes past their promised time and not fulfilled, most late first."""
    by_identity = {c.identity: c for c in claims}
    done = {f.identity for f in fulfilments}
    claim_end = claim_deadline_ms(rules, announced_at_ms)
    out = []
    for w in winners:
        if w.identity in done:
            continue
        claim = by_identity.get(w.identity)
        if claim is not None:
            due, status = claim.submitted_at_ms + round(rules.deliver_within_h * HOUR_MS), \
                "undelivered"
        else:
            due, status = claim_end, "unclaimed"
        if now_ms > due:
            out.append(Overdue(w.identity, w.tier_name, status, due, now_ms - due))
    return sorted(out, key=lambda o: -o.late_ms)


EXPORT_COLUMNS = ("tier", "tier_name", "place", "entry_number", "identity", "claimed",
                  "name", "address", "contact", "claimed_at_ms", "fulfilled_at_ms", "note")


def export_rows(winners: Sequence[Winner], claims: Iterable[Claim],
                fulfilments: Iterable[Fulfilment]) -> list[dict[str, object]]:
    """One row per winner with its claim and fulfilment, if any."""
    by_claim = {c.identity: c for c in claims}
    by_done = {f.identity: f for f in fulfilments}
    rows: list[dict[str, object]] = []
    for w in winners:
        c, f = by_claim.get(w.identity), by_done.get(w.identity)
        rows.append({
            "tier": w.tier, "tier_name": w.tier_name, "place": w.place,
            "entry_number": w.entry_number, "identity": w.identity, "claimed": c is not None,
            "name": c.name if c else "", "address": c.address if c else "",
            "contact": c.contact if c else "", "claimed_at_ms": c.submitted_at_ms if c else None,
            "fulfilled_at_ms": f.fulfilled_at_ms if f else None, "note": f.note if f else "",
        })
    return rows


def export_csv(winners: Sequence[Winner], claims: Iterable[Claim],
               fulfilments: Iterable[Fulfilment]) -> str:
    """Winners and claims as CSV text (header row first)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in export_rows(winners, claims, fulfilments):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def export_json(winners: Sequence[Winner], claims: Iterable[Claim],
                fulfilments: Iterable[Fulfilment]) -> str:
    """Winners and claims as JSON text (a list of rows)."""
    return json.dumps(export_rows(winners, claims, fulfilments), indent=1, ensure_ascii=False)


def overdue_json(items: Iterable[Overdue]) -> str:
    """The overdue report as JSON text."""
    return json.dumps([asdict(o) for o in items], indent=1)
