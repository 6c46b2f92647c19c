"""Regional compliance checks and viewer eligibility, driven by ``data/regional_rules.json``.

The table is data, not code: each rule names its regions, a condition kind, a threshold and the law
or regulator it comes from. :func:`check` runs every rule that applies to the giveaway's eligible
regions; :func:`require_acknowledged` refuses to open while a blocking finding is unacknowledged.
The SDK does not geolocate: a viewer's region is the ``region`` claim of their token.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .errors import ComplianceBlocked, RulesError
from .rules import Rules

KINDS = ("max_top_prize_value", "max_total_value", "requires_notary_and_notice")


class Severity(enum.Enum):
    """How a finding affects opening."""

    BLOCKING = "blocking"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class RegionalRule:
    """One row of the regional table."""

    rule_id: str
    """Stable id, used to acknowledge a finding."""
    regions: tuple[str, ...]
    """Region codes it applies to."""
    kind: str
    """Condition kind, one of :data:`KINDS`."""
    threshold: float
    """Threshold value in ``currency`` (unused by ``requires_notary_and_notice``)."""
    currency: str
    """Currency of ``threshold``."""
    severity: Severity
    """Blocking or warning."""
    message: str
    """What the organizer must know."""
    source: str
    """The law or regulator the rule comes from."""


@dataclass(frozen=True, slots=True)
class Table:
    """The regional rules and the currency rates they are compared with."""

    rules: tuple[RegionalRule, ...]
    """All rules."""
    usd_per_unit: dict[str, float]
    """US dollars per unit of each currency."""
    rates_as_of: str
    """Date of the rates."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A regional rule the giveaway triggers."""

    rule_id: str
    """Id of the regional rule."""
    region: str
    """The region (of the rule) the giveaway is open to."""
    severity: Severity
    """Blocking findings stop :meth:`Giveaway.open` unless acknowledged."""
    message: str
    """What the rule requires."""
    detail: str
    """How this giveaway triggers it (computed values)."""
    source: str
    """The law or regulator."""


@cache
def load_table() -> Table:
    """The packaged table (read once)."""
    data = resources.files("rtc_interact.giveaway").joinpath("data/regional_rules.json")
    text = data.read_text("utf-8")
    return parse_table(json.loads(text))


def parse_table(doc: dict[str, Any]) -> Table:
    """A :class:`Table` from its JSON form; bad rows raise :class:`RulesError`."""
    try:
        rows = tuple(RegionalRule(
            rule_id=r["id"], regions=tuple(r["regions"]), kind=r["kind"],
            threshold=float(r["threshold"]), currency=r["currency"],
            severity=Severity(r["severity"]), message=r["message"], source=r["source"],
        ) for r in doc["rules"])
        rates = {str(k): float(v) for k, v in doc["rates"]["usd_per_unit"].items()}
        as_of = str(doc["rates"]["as_of"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"regional table: bad row ({exc!r})") from None
    for row in rows:
        if row.kind not in KINDS:
            raise RulesError(f"regional table: unknown kind {row.kind!r} in {row.rule_id}")
    return Table(rows, rates, as_of)


def _matches(pattern: str, region: str) -> bool:
    """``pattern`` ("*", "US", "US-NY") covers ``region``."""
    return pattern == "*" or pattern == region or region.startswith(pattern + "-")


def eligibility(rules: Rules, region: str) -> tuple[bool, str]:
    """Whether a viewer whose token claims ``region`` may enter, and why not."""
    if not region:
        if "*" in rules.regions and not rules.excluded_regions:
            return True, ""
        return False, "your viewer token carries no region, and this giveaway is regional"
    for pattern in rules.excluded_regions:
        if _matches(pattern, region):
            return False, f"residents of {region} are excluded from this giveaway"
    if any(_matches(pattern, region) for pattern in rules.regions):
        return True, ""
    return False, f"this giveaway is open to {', '.join(rules.regions)} only, not {region}"


def _applies(rules: Rules, rule_region: str) -> bool:
    """The giveaway is open to at least part of ``rule_region``."""
    if eligibility(rules, rule_region)[0]:
        return True
    return any(_matches(rule_region, r) and eligibility(rules, r)[0] for r in rules.regions)


def _convert(value: float, from_cur: str, to_cur: str, table: Table) -> float:
    if from_cur == to_cur:
        return value
    try:
        return value * table.usd_per_unit[from_cur] / table.usd_per_unit[to_cur]
    except KeyError as exc:
        raise RulesError(f"no exchange rate for {exc.args[0]} in the regional table") from None


def _detail(rule: RegionalRule, rules: Rules, table: Table) -> str | None:
    """Why ``rules`` triggers ``rule``, or None when it does not."""
    cur = rule.currency
    if rule.kind == "max_top_prize_value":
        top = max(_convert(t.value, t.currency, cur, table) for t in rules.tiers)
        if top > rule.threshold:
            return f"top prize worth about {top:,.0f} {cur} > {rule.threshold:,.0f} {cur}"
        return None
    if rule.kind == "max_total_value":
        total = sum(_convert(t.value * t.quantity, t.currency, cur, table) for t in rules.tiers)
        if total > rule.threshold:
            return f"total prize value about {total:,.0f} {cur} > {rule.threshold:,.0f} {cur}"
        return None
    return "open to this region: notary and prior ministry notice are required"


def check(rules: Rules, table: Table | None = None) -> tuple[Finding, ...]:
    """Every finding of the regional table for ``rules`` (rates as of ``table.rates_as_of``)."""
    table = table or load_table()
    findings = []
    for rule in table.rules:
        for region in rule.regions:
            if not _applies(rules, region):
                continue
            detail = _detail(rule, rules, table)
            if detail is not None:
                findings.append(Finding(rule.rule_id, region, rule.severity, rule.message,
                                        detail, rule.source))
    return tuple(findings)


def require_acknowledged(findings: tuple[Finding, ...], acknowledge: tuple[str, ...]) -> None:
    """Raise :class:`ComplianceBlocked` unless every blocking finding's id is in ``acknowledge``."""
    open_ = tuple(f for f in findings
                  if f.severity is Severity.BLOCKING and f.rule_id not in acknowledge)
    if open_:
        raise ComplianceBlocked(open_)
