"""Rules: validation, plain-dict round trip, plain-text rendering."""

from __future__ import annotations

import pytest

from rtc_interact.errors import ConfigurationError
from rtc_interact.giveaway import (
    EntryCondition,
    PrizeTier,
    RulesError,
    render_text,
    rules_from_dict,
    to_dict,
)

from .support import make_rules


def test_round_trip_through_plain_dict() -> None:
    rules = make_rules(condition=EntryCondition("coffee", 30), excluded_regions=("US-NY",),
                       regions=("*",))
    assert rules_from_dict(to_dict(rules)) == rules


@pytest.mark.parametrize("changes", [
    {"giveaway_id": "bad id!"}, {"title": " "}, {"tiers": ()}, {"window_s": 0},
    {"regions": ()}, {"regions": ("Germany",)}, {"organizer": ""}, {"claim_within_h": 0},
    {"max_allowance_ms": -1},
    {"tiers": (PrizeTier("A", "x", 1, 1, "EUR"), PrizeTier("A", "y", 1, 1, "EUR"))},
])
def test_invalid_rules_raise_rules_error(changes: dict[str, object]) -> None:
    with pytest.raises(RulesError):
        make_rules(**changes)


def test_rules_error_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        PrizeTier("Grand", "TV", 0, 100, "EUR")
    with pytest.raises(RulesError):
        PrizeTier("Grand", "TV", 1, 100, "euro")


@pytest.mark.parametrize("broken", [{}, {"giveaway_id": "x"}, {"tiers": "nope"}])
def test_from_dict_rejects_missing_or_mistyped_fields(broken: dict[str, object]) -> None:
    with pytest.raises(RulesError):
        rules_from_dict(broken)


def test_from_dict_rejects_float_quantity() -> None:
    doc = to_dict(make_rules())
    doc["tiers"][0]["quantity"] = 1.5
    with pytest.raises(RulesError):
        rules_from_dict(doc)


def test_render_text_says_everything_a_viewer_needs() -> None:
    text = render_text(make_rules(condition=EntryCondition("coffee", 30)))
    for needle in ("Spring giveaway", "Grand prize: 1 x Espresso machine", "400.00 EUR",
                   "Participation: 3 x Coffee beans", 'comment the word "coffee"',
                   "at least 30 s", "60 s", "DE, FR, US-CA", "72 h", "48 h",
                   "Example Coffee GmbH", "frame on your screen", "at most 1.5 s behind"):
        assert needle in text, needle
