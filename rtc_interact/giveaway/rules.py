"""The rules of a giveaway: prize tiers, entry condition, window, deadlines, regions.

Rules are frozen dataclasses validated on construction. ``to_dict``/``rules_from_dict`` give a plain
msgpack/JSON-friendly form (what is sent to viewers and published with the result);
:func:`render_text` gives the plain text a viewer reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import RulesError

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
REGION_PATTERN = re.compile(r"^(\*|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
DEFAULT_MAX_ALLOWANCE_MS = 1500
"""Default cap on how far behind a viewer's video may run and still enter on what they saw."""


@dataclass(frozen=True, slots=True)
class PrizeTier:
    """One tier of prizes, e.g. one grand prize or fifty participation prizes."""

    name: str
    """Tier name shown to viewers ("Grand prize")."""
    prize: str
    """What the winner receives ("Espresso machine")."""
    quantity: int
    """How many winners this tier has."""
    value: float
    """Value of ONE prize of this tier, in ``currency``."""
    currency: str
    """ISO 4217 code of ``value``."""

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.prize.strip():
            raise RulesError("a prize tier needs a name and a prize")
        if not 1 <= self.quantity <= 100_000:
            raise RulesError(f"tier {self.name!r}: quantity must be 1..100000")
        if not 0 <= self.value < 1e12:
            raise RulesError(f"tier {self.name!r}: value must be >= 0")
        if not CURRENCY_PATTERN.match(self.currency):
            raise RulesError(f"tier {self.name!r}: currency must be an ISO 4217 code")


@dataclass(frozen=True, slots=True)
class EntryCondition:
    """What a viewer must do to enter. A tap is always required."""

    keyword: str = ""
    """If set, the viewer must also have commented this word (case-insensitive) before tapping."""
    min_watch_s: float = 0.0
    """If above 0, the viewer must have watched at least this long before tapping."""

    def __post_init__(self) -> None:
        if len(self.keyword) > 64:
            raise RulesError("keyword must be at most 64 characters")
        if not 0 <= self.min_watch_s <= 86_400:
            raise RulesError("min_watch_s must be 0..86400")


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything a viewer needs to know before entering."""

    giveaway_id: str
    """Unique id of the giveaway (letters, digits, ``_.-``, at most 64)."""
    title: str
    """Shown to viewers."""
    tiers: tuple[PrizeTier, ...]
    """Prize tiers in draw order: the first tier is drawn first."""
    window_s: float
    """Length of the entry window, counted from the moment the host opens the giveaway."""
    regions: tuple[str, ...]
    """Eligible regions: ISO 3166-1 ("DE"), ISO 3166-2 ("US-NY"), or "*" for everywhere."""
    organizer: str
    """Who runs the giveaway and how to reach them."""
    condition: EntryCondition = field(default_factory=EntryCondition)
    """Entry condition beyond the tap."""
    excluded_regions: tuple[str, ...] = ()
    """Regions excluded even if ``regions`` covers them (e.g. "*" minus "IT")."""
    announce_after_s: float = 60.0
    """Winners are announced this long after the window closes (at the latest)."""
    claim_within_h: float = 72.0
    """Winners must claim within this many hours of the announcement."""
    deliver_within_h: float = 48.0
    """Prizes are delivered within this many hours of a valid claim."""
    delivery: str = "shipped to the address given in the claim"
    """How prizes are delivered."""
    max_allowance_ms: int = DEFAULT_MAX_ALLOWANCE_MS
    """Latency-fair window: how far behind live a viewer's video may run and still count."""

    def __post_init__(self) -> None:
        if not ID_PATTERN.match(self.giveaway_id):
            raise RulesError("giveaway_id must be 1-64 of letters, digits, '_', '.', '-'")
        if not self.title.strip():
            raise RulesError("a giveaway needs a title")
        if not self.tiers:
            raise RulesError("a giveaway needs at least one prize tier")
        if len({t.name for t in self.tiers}) != len(self.tiers):
            raise RulesError("prize tier names must be distinct")
        if not 1 <= self.window_s <= 86_400:
            raise RulesError("window_s must be 1..86400")
        if not self.regions:
            raise RulesError("regions must list at least one region (or '*')")
        for region in (*self.regions, *self.excluded_regions):
            if not REGION_PATTERN.match(region):
                raise RulesError(f"bad region code {region!r} (use 'DE', 'US-NY' or '*')")
        if not self.organizer.strip():
            raise RulesError("organizer text is required")
        _check_hours(self)

    @property
    def window_ms(self) -> int:
        """The entry window length in ms."""
        return round(self.window_s * 1000)


def _check_hours(rules: Rules) -> None:
    if not 0 <= rules.announce_after_s <= 86_400:
        raise RulesError("announce_after_s must be 0..86400")
    if not 0 < rules.claim_within_h <= 24 * 365:
        raise RulesError("claim_within_h must be in (0, 8760]")
    if not 0 < rules.deliver_within_h <= 24 * 365:
        raise RulesError("deliver_within_h must be in (0, 8760]")
    if not 0 <= rules.max_allowance_ms <= 10_000:
        raise RulesError("max_allowance_ms must be 0..10000")


def to_dict(rules: Rules) -> dict[str, Any]:
    """Plain dict of ``rules`` (str/int/float/list only), for msgpack or JSON."""
    return {
        "giveaway_id": rules.giveaway_id, "title": rules.title,
        "tiers": [{"name": t.name, "prize": t.prize, "quantity": t.quantity, "value": t.value,
                   "currency": t.currency} for t in rules.tiers],
        "window_s": rules.window_s, "regions": list(rules.regions),
        "excluded_regions": list(rules.excluded_regions), "organizer": rules.organizer,
        "condition": {"keyword": rules.condition.keyword,
                      "min_watch_s": rules.condition.min_watch_s},
        "announce_after_s": rules.announce_after_s, "claim_within_h": rules.claim_within_h,
        "deliver_within_h": rules.deliver_within_h, "delivery": rules.delivery,
        "max_allowance_ms": rules.max_allowance_ms,
    }


def rules_from_dict(data: Any) -> Rules:
    """Rules from the plain form; any missing or mistyped field raises :class:`RulesError`."""
    try:
        tiers = tuple(PrizeTier(str(t["name"]), str(t["prize"]), _int(t["quantity"]),
                                float(t["value"]), str(t["currency"])) for t in data["tiers"])
        cond = data.get("condition", {})
        return Rules(
            giveaway_id=str(data["giveaway_id"]), title=str(data["title"]), tiers=tiers,
            window_s=float(data["window_s"]), regions=tuple(map(str, data["regions"])),
            organizer=str(data["organizer"]),
            condition=EntryCondition(str(cond.get("keyword", "")),
                                     float(cond.get("min_watch_s", 0.0))),
            excluded_regions=tuple(map(str, data.get("excluded_regions", ()))),
            announce_after_s=float(data.get("announce_after_s", 60.0)),
            claim_within_h=float(data.get("claim_within_h", 72.0)),
            deliver_within_h=float(data.get("deliver_within_h", 48.0)),
            delivery=str(data.get("delivery", "shipped to the address given in the claim")),
            max_allowance_ms=_int(data.get("max_allowance_ms", DEFAULT_MAX_ALLOWANCE_MS)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, RulesError):
            raise
        raise RulesError(f"rules: missing or mistyped field ({exc!r})") from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RulesError(f"expected an integer, got {value!r}")
    return value


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def render_text(rules: Rules) -> str:
    """The rules as plain text, as a viewer reads them."""
    lines = [rules.title, "", "Prizes:"]
    for tier in rules.tiers:
        lines.append(f"  {tier.name}: {tier.quantity} x {tier.prize} "
                     f"(value {_money(tier.value, tier.currency)} each)")
    cond = ["tap the giveaway button while entries are open"]
    if rules.condition.keyword:
        cond.append(f"comment the word \"{rules.condition.keyword}\" before tapping")
    if rules.condition.min_watch_s > 0:
        cond.append(f"have watched the stream for at least {rules.condition.min_watch_s:g} s")
    regions = "everywhere" if "*" in rules.regions else ", ".join(rules.regions)
    lines += [
        "", "How to enter: " + "; ".join(cond) + ". One entry per person.",
        f"Entry window: {rules.window_s:g} s from the moment the host opens the giveaway.",
        fairness_sentence(rules.max_allowance_ms),
        f"Eligible regions: {regions}"
        + (f" (except {', '.join(rules.excluded_regions)})" if rules.excluded_regions else "")
        + ". Your region is the one stated in your viewer token.",
        f"Winners are drawn and announced within {rules.announce_after_s:g} s after entries close,"
        " by a verifiable draw: a hash of the secret seed is published when entries open, a hash"
        " of the entry list when they close, and the seed itself with the winners.",
        f"Winners must claim within {rules.claim_within_h:g} h of the announcement.",
        f"Prizes are {rules.delivery}, within {rules.deliver_within_h:g} h of a valid claim.",
        f"Organizer: {rules.organizer}",
    ]
    return "\n".join(lines)


def fairness_sentence(max_allowance_ms: int) -> str:
    """The latency-fair window rule in one sentence (also in docs/GIVEAWAY.md)."""
    return ("Fair timing: your tap counts if the video frame on your screen when you tapped was "
            "inside the entry window, even if your video runs behind live, as long as it runs at "
            f"most {max_allowance_ms / 1000:g} s behind; taps without frame timing are judged by "
            "when they reach the host.")
