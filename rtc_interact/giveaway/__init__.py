"""Giveaways viewers can trust: rules, regional eligibility, latency-fair entry windows, durable
entries, a verifiable draw, winners and fulfilment.

The core (:class:`Giveaway`) is sans-IO; :class:`GiveawayStore` makes entries durable (SQLite WAL,
group commit). docs/GIVEAWAY.md describes the rules, the fairness rule and how to verify a draw.
"""

from .compliance import Finding, Severity, check, eligibility
from .core import (
    Accepted,
    Giveaway,
    GiveawayRecord,
    Opened,
    RefusalReason,
    Refused,
    State,
    TapIn,
)
from .draw import Mismatch, PublishedResult, Winner, result_from_json, verify
from .entry import Entry, Receipt
from .errors import (
    ClaimDeadlinePassed,
    ClaimRefused,
    ComplianceBlocked,
    GiveawayError,
    InvalidTransition,
    NotAWinner,
    ResultFormatError,
    RulesError,
    StoreError,
)
from .fairness import Decision, Verdict, Window, judge
from .fulfillment import Claim, Fulfilment, make_claim
from .rules import EntryCondition, PrizeTier, Rules, render_text, rules_from_dict, to_dict
from .store import Durability, GiveawayStore

__all__ = [
    "Accepted", "Claim", "ClaimDeadlinePassed", "ClaimRefused", "ComplianceBlocked", "Decision",
    "Durability", "Entry", "EntryCondition", "Finding", "Fulfilment", "Giveaway",
    "GiveawayError", "GiveawayRecord", "GiveawayStore",
    "InvalidTransition", "Mismatch", "NotAWinner", "Opened", "PrizeTier", "PublishedResult",
    "Receipt", "RefusalReason", "Refused", "ResultFormatError", "Rules", "RulesError",
    "Severity", "State", "StoreError", "TapIn", "Verdict", "Window", "Winner", "check",
    "eligibility", "judge", "make_claim", "render_text", "result_from_json", "rules_from_dict",
    "to_dict", "verify",
]
