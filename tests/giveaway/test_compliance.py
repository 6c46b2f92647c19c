"""Regional compliance table, findings, acknowledgement and eligibility."""

from __future__ import annotations

import pytest

from rtc_interact.giveaway import (
    ComplianceBlocked,
    Giveaway,
    PrizeTier,
    RulesError,
    Severity,
    check,
    eligibility,
)
from rtc_interact.giveaway.compliance import load_table, parse_table, require_acknowledged

from .support import T0, make_rules


def _ids(rules_kw: dict[str, object]) -> set[str]:
    return {f.rule_id for f in check(make_rules(**rules_kw))}


def test_table_has_the_three_regions_with_sources() -> None:
    table = load_table()
    regions = {r for rule in table.rules for r in rule.regions}
    assert {"CN", "US-NY", "US-FL", "IT"} <= regions
    assert all(rule.source and rule.message for rule in table.rules)
    assert table.rates_as_of


def test_china_top_prize_cap_blocks_above_50000_cny() -> None:
    big = (PrizeTier("Grand", "Car", 1, 60_000, "CNY"),)
    small = (PrizeTier("Grand", "Phone", 1, 49_000, "CNY"),)
    assert _ids({"regions": ("CN",), "tiers": big}) == {"CN-top-prize-cap"}
    assert _ids({"regions": ("CN",), "tiers": small}) == set()


def test_china_cap_compares_after_currency_conversion() -> None:
    eur = (PrizeTier("Grand", "Car", 1, 8_000, "EUR"),)  # ~62,600 CNY at the table's rates
    findings = check(make_rules(regions=("CN",), tiers=eur))
    assert [f.rule_id for f in findings] == ["CN-top-prize-cap"]
    assert findings[0].severity is Severity.BLOCKING
    assert "CNY" in findings[0].detail


def test_new_york_and_florida_total_value_over_5000_usd() -> None:
    tiers = (PrizeTier("Grand", "Bike", 1, 3000, "USD"), PrizeTier("Second", "Bag", 30, 100, "USD"))
    assert _ids({"regions": ("US",), "tiers": tiers}) == {"US-NY-registration-bond",
                                                           "US-FL-registration-bond"}
    assert _ids({"regions": ("US-NY",), "tiers": tiers}) == {"US-NY-registration-bond"}
    assert _ids({"regions": ("US",), "excluded_regions": ("US-NY", "US-FL"),
                 "tiers": tiers}) == set()
    assert _ids({"regions": ("US-CA",), "tiers": tiers}) == set()
    cheap = (PrizeTier("Grand", "Mug", 100, 50, "USD"),)  # exactly 5,000: not above
    assert _ids({"regions": ("US",), "tiers": cheap}) == set()


def test_italy_needs_notary_whatever_the_value() -> None:
    tiny = (PrizeTier("Grand", "Sticker", 1, 1, "EUR"),)
    assert _ids({"regions": ("IT",), "tiers": tiny}) == {"IT-notary-ministry-notice"}
    assert _ids({"regions": ("*",), "excluded_regions": ("IT",), "tiers": tiny}) == set()


def test_worldwide_giveaway_meets_every_applicable_rule() -> None:
    tiers = (PrizeTier("Grand", "Car", 1, 30_000, "USD"),)
    assert _ids({"regions": ("*",), "tiers": tiers}) == {
        "CN-top-prize-cap", "US-NY-registration-bond", "US-FL-registration-bond",
        "IT-notary-ministry-notice"}


def test_opening_with_blocking_findings_needs_acknowledgement() -> None:
    gw = Giveaway(make_rules(regions=("IT", "DE")))
    with pytest.raises(ComplianceBlocked) as info:
        gw.open(T0)
    assert [f.rule_id for f in info.value.findings] == ["IT-notary-ministry-notice"]
    opened = gw.open(T0, acknowledge=("IT-notary-ministry-notice",))
    assert opened.window.open_ms == T0
    assert gw.record.acknowledged == ("IT-notary-ministry-notice",)


def test_require_acknowledged_lists_only_unacknowledged() -> None:
    findings = check(make_rules(regions=("*",), tiers=(PrizeTier("G", "Car", 1, 30_000, "USD"),)))
    with pytest.raises(ComplianceBlocked) as info:
        require_acknowledged(findings, ("CN-top-prize-cap", "IT-notary-ministry-notice"))
    assert {f.rule_id for f in info.value.findings} == {"US-NY-registration-bond",
                                                        "US-FL-registration-bond"}


@pytest.mark.parametrize(("regions", "excluded", "viewer", "ok"), [
    (("DE",), (), "DE", True),
    (("DE",), (), "FR", False),
    (("US",), (), "US-NY", True),
    (("US-CA",), (), "US-NY", False),
    (("US",), ("US-NY",), "US-NY", False),
    (("*",), (), "JP", True),
    (("*",), (), "", True),
    (("*",), ("IT",), "", False),
    (("DE",), (), "", False),
])
def test_eligibility(regions: tuple[str, ...], excluded: tuple[str, ...], viewer: str,
                     ok: bool) -> None:
    allowed, reason = eligibility(make_rules(regions=regions, excluded_regions=excluded), viewer)
    assert allowed is ok
    assert bool(reason) is not ok


def test_bad_table_rows_raise_rules_error() -> None:
    doc = {"rates": {"as_of": "x", "usd_per_unit": {"USD": 1}},
           "rules": [{"id": "x", "regions": ["XX"], "kind": "no_such_kind", "threshold": 1,
                      "currency": "USD", "severity": "blocking", "message": "m", "source": "s"}]}
    with pytest.raises(RulesError):
        parse_table(doc)
    with pytest.raises(RulesError):
        parse_table({"rules": [{}]})


def test_unknown_currency_is_a_rules_error() -> None:
    with pytest.raises(RulesError):
        check(make_rules(regions=("CN",), tiers=(PrizeTier("G", "x", 1, 5, "XYZ"),)))
