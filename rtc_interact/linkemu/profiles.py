"""Named weak-link profiles: typed, validated views of ``rtc_interact/data/link-profiles.json``.

Semantics (from the JSON's ``_doc``): side ``a`` is the host, side ``b`` the viewer. ``both`` holds
defaults for both directions, ``a_to_b`` / ``b_to_a`` override them key by key, and ``schedule``
lists cumulative overrides applied ``at_s`` seconds after the link starts.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigurationError

__all__ = [
    "KEEP",
    "DirectionParams",
    "DirectionPatch",
    "LinkDirectionName",
    "LinkProfile",
    "LossModel",
    "ProfileError",
    "ScheduleStep",
    "UnknownProfileError",
    "get_profile",
    "load_profiles",
    "parse_profiles",
]

_PROFILES_RESOURCE: Final = "link-profiles.json"
_PARAM_KEYS: Final = frozenset(
    {
        "delay_ms",
        "jitter_ms",
        "jitter_hold_ms",
        "loss",
        "rate_kbps",
        "queue_ms",
        "reorder_pct",
        "reorder_ms",
    }
)
_PROFILE_KEYS: Final = frozenset({"summary", "both", "a_to_b", "b_to_a", "schedule", "sources"})


class ProfileError(ConfigurationError):
    """A link profile or one of its values is invalid."""


class UnknownProfileError(ProfileError):
    """No profile has the requested name; the message lists the known names."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown link profile {name!r}; known profiles: {', '.join(self.known)}")


class LinkDirectionName(enum.StrEnum):
    """One direction of a link; side ``a`` is the host (media sender)."""

    A_TO_B = "a_to_b"
    B_TO_A = "b_to_a"


class _Keep(enum.Enum):
    """Marker type for "leave this parameter as it is" in a :class:`DirectionPatch`."""

    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Patch value meaning "do not override this parameter"."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ProfileError(message)


@dataclass(frozen=True, slots=True)
class LossModel:
    """Random packet loss: independent (Bernoulli) or bursty (Gilbert-Elliott)."""

    model: str
    """'bernoulli' (independent) or 'gilbert' (two-state bursty loss)."""
    pct: float
    """Long-run loss percentage, 0..100."""
    burst: float = 1.0
    """Mean burst length in packets (gilbert only), at least 1."""

    def __post_init__(self) -> None:
        _require(self.model in ("bernoulli", "gilbert"), f"unknown loss model {self.model!r}")
        _require(0.0 <= self.pct <= 100.0, f"loss pct must be within 0..100, got {self.pct}")
        _require(self.burst >= 1.0, f"loss burst must be >= 1 packet, got {self.burst}")
        if self.model == "gilbert" and 0.0 < self.pct < 100.0:
            # p (good->bad) = r * pi / (1 - pi) with r = 1 / burst must be a probability.
            p = (1.0 / self.burst) * (self.pct / 100.0) / (1.0 - self.pct / 100.0)
            _require(
                p <= 1.0,
                f"gilbert loss of {self.pct}% cannot have mean bursts as short as {self.burst}",
            )


@dataclass(frozen=True, slots=True)
class DirectionParams:
    """Impairments of one direction of a link."""

    delay_ms: float = 0.0
    """One-way base delay in milliseconds."""
    jitter_ms: float = 0.0
    """Mean of an extra exponential delay in milliseconds (packet order is kept)."""
    jitter_hold_ms: float = 50.0
    """Mean time (exponential) one extra-delay draw lasts before the next; 0 = a draw per packet."""
    loss: LossModel | None = None
    """Random loss model, None for no random loss."""
    rate_kbps: float | None = None
    """Bottleneck capacity in kbit/s counting 28 bytes IP+UDP per packet; None = unlimited."""
    queue_ms: float | None = None
    """Drop-tail queue limit as backlog time at the bottleneck; None = unbounded."""
    reorder_pct: float = 0.0
    """Percentage of packets held back by ``reorder_ms`` so that later packets overtake them."""
    reorder_ms: float = 10.0
    """Extra hold-back of a reordered packet in milliseconds."""

    def __post_init__(self) -> None:
        _require(self.delay_ms >= 0.0, f"delay_ms must be >= 0, got {self.delay_ms}")
        _require(self.jitter_ms >= 0.0, f"jitter_ms must be >= 0, got {self.jitter_ms}")
        _require(
            self.jitter_hold_ms >= 0.0, f"jitter_hold_ms must be >= 0, got {self.jitter_hold_ms}"
        )
        _require(
            self.rate_kbps is None or self.rate_kbps > 0.0,
            f"rate_kbps must be > 0 or absent, got {self.rate_kbps}",
        )
        _require(
            self.queue_ms is None or self.queue_ms >= 0.0,
            f"queue_ms must be >= 0 or absent, got {self.queue_ms}",
        )
        _require(
            0.0 <= self.reorder_pct <= 100.0,
            f"reorder_pct must be within 0..100, got {self.reorder_pct}",
        )
        _require(self.reorder_ms >= 0.0, f"reorder_ms must be >= 0, got {self.reorder_ms}")

    @property
    def loss_fraction(self) -> float:
        """Long-run random loss as a fraction 0..1 (queue drops not included)."""
        return 0.0 if self.loss is None else self.loss.pct / 100.0

    def patched(self, patch: DirectionPatch) -> DirectionParams:
        """Return a copy with every parameter the patch sets replaced."""
        changes = {
            f.name: getattr(patch, f.name)
            for f in fields(patch)
            if getattr(patch, f.name) is not KEEP
        }
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class DirectionPatch:
    """Overrides for some parameters of one direction; :data:`KEEP` leaves one unchanged."""

    delay_ms: float | _Keep = KEEP
    """New one-way base delay in milliseconds."""
    jitter_ms: float | _Keep = KEEP
    """New mean extra exponential delay in milliseconds."""
    jitter_hold_ms: float | _Keep = KEEP
    """New mean hold time of one extra-delay draw in milliseconds."""
    loss: LossModel | _Keep | None = KEEP
    """New loss model (None removes random loss)."""
    rate_kbps: float | _Keep | None = KEEP
    """New bottleneck capacity (None removes the cap)."""
    queue_ms: float | _Keep | None = KEEP
    """New queue limit in milliseconds (None makes it unbounded)."""
    reorder_pct: float | _Keep = KEEP
    """New reordering percentage."""
    reorder_ms: float | _Keep = KEEP
    """New hold-back of reordered packets in milliseconds."""


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    """Cumulative overrides applied ``at_s`` seconds after the link starts."""

    at_s: float
    """Seconds after the link starts."""
    a_to_b: DirectionPatch = field(default_factory=DirectionPatch)
    """Overrides for the host-to-viewer direction."""
    b_to_a: DirectionPatch = field(default_factory=DirectionPatch)
    """Overrides for the viewer-to-host direction."""

    def __post_init__(self) -> None:
        _require(self.at_s >= 0.0, f"schedule at_s must be >= 0, got {self.at_s}")

    def patch_for(self, direction: LinkDirectionName | str) -> DirectionPatch:
        """The overrides of this step for one direction."""
        d = LinkDirectionName(direction)
        return self.a_to_b if d is LinkDirectionName.A_TO_B else self.b_to_a


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """A named two-direction link with an optional schedule of parameter steps."""

    name: str
    """Profile name, as in the JSON file."""
    summary: str
    """One-line human description."""
    a_to_b: DirectionParams
    """Initial impairments host -> viewer."""
    b_to_a: DirectionParams
    """Initial impairments viewer -> host."""
    schedule: tuple[ScheduleStep, ...] = ()
    """Steps in increasing ``at_s`` order."""
    sources: tuple[str, ...] = ()
    """Where the figures come from."""

    def __post_init__(self) -> None:
        times = [step.at_s for step in self.schedule]
        _require(times == sorted(times), f"profile {self.name!r}: schedule must be sorted by at_s")
        for step in self.schedule:  # patched parameters are validated by DirectionParams
            for direction in LinkDirectionName:
                self.params_at(direction, step.at_s)

    @property
    def rtt_ms(self) -> float:
        """Base round-trip time: both directions' initial delay_ms summed (jitter excluded)."""
        return self.a_to_b.delay_ms + self.b_to_a.delay_ms

    def params_at(self, direction: LinkDirectionName | str, t_s: float) -> DirectionParams:
        """Parameters of one direction ``t_s`` seconds after start (schedule applied)."""
        d = LinkDirectionName(direction)
        params = self.a_to_b if d is LinkDirectionName.A_TO_B else self.b_to_a
        for step in self.schedule:
            if step.at_s > t_s:
                break
            params = params.patched(step.patch_for(d))
        return params

    def expected_loss(self, direction: LinkDirectionName | str, t_s: float = 0.0) -> float:
        """Long-run random loss fraction of one direction at ``t_s`` (queue drops excluded)."""
        return self.params_at(direction, t_s).loss_fraction

    def expected_round_trip_loss(self, t_s: float = 0.0) -> float:
        """1 - (1 - p_ab)(1 - p_ba): chance that a ping or its echo is randomly lost."""
        p1 = self.expected_loss(LinkDirectionName.A_TO_B, t_s)
        p2 = self.expected_loss(LinkDirectionName.B_TO_A, t_s)
        return 1.0 - (1.0 - p1) * (1.0 - p2)


# --------------------------------------------------------------------------- JSON parsing


def _number(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ProfileError(f"{where}: expected a number, got {raw!r}")
    return float(raw)


def _optional_number(raw: object, where: str) -> float | None:
    return None if raw is None else _number(raw, where)


def _loss(raw: object, where: str) -> LossModel | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where}: loss must be an object, got {raw!r}")
    unknown = set(raw) - {"model", "pct", "burst"}
    _require(not unknown, f"{where}: unknown loss keys {sorted(unknown)}")
    model = raw.get("model", "bernoulli")
    if not isinstance(model, str):
        raise ProfileError(f"{where}: loss model must be a string, got {model!r}")
    pct = _number(raw.get("pct", 0.0), f"{where}.pct")
    burst = _number(raw.get("burst", 1.0), f"{where}.burst")
    return LossModel(model=model, pct=pct, burst=burst)


def _param_values(raw: object, where: str) -> dict[str, Any]:
    """Typed values of a JSON parameter object (only the keys present)."""
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where}: expected an object, got {raw!r}")
    unknown = set(raw) - _PARAM_KEYS
    _require(not unknown, f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "loss":
            values[key] = _loss(value, f"{where}.loss")
        elif key in ("rate_kbps", "queue_ms"):
            values[key] = _optional_number(value, f"{where}.{key}")
        else:
            values[key] = _number(value, f"{where}.{key}")
    return values


def _schedule(raw: object, where: str) -> tuple[ScheduleStep, ...]:
    if not isinstance(raw, list):
        raise ProfileError(f"{where}: schedule must be a list, got {raw!r}")
    steps = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise ProfileError(f"{at}: expected an object, got {item!r}")
        unknown = set(item) - {"at_s", "both", "a_to_b", "b_to_a"}
        _require(not unknown, f"{at}: unknown keys {sorted(unknown)}")
        both = _param_values(item.get("both", {}), f"{at}.both")
        patches = {
            d: DirectionPatch(**(both | _param_values(item.get(d, {}), f"{at}.{d}")))
            for d in ("a_to_b", "b_to_a")
        }
        steps.append(ScheduleStep(_number(item.get("at_s"), f"{at}.at_s"), **patches))
    return tuple(steps)


def _profile(name: str, raw: object) -> LinkProfile:
    where = f"profile {name!r}"
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where}: expected an object, got {raw!r}")
    unknown = set(raw) - _PROFILE_KEYS
    _require(not unknown, f"{where}: unknown keys {sorted(unknown)}")
    both = _param_values(raw.get("both", {}), f"{where}.both")
    a_to_b = DirectionParams(**(both | _param_values(raw.get("a_to_b", {}), f"{where}.a_to_b")))
    b_to_a = DirectionParams(**(both | _param_values(raw.get("b_to_a", {}), f"{where}.b_to_a")))
    sources = raw.get("sources", [])
    _require(isinstance(sources, list), f"{where}: sources must be a list")
    return LinkProfile(
        name=name,
        summary=str(raw.get("summary", "")),
        a_to_b=a_to_b,
        b_to_a=b_to_a,
        schedule=_schedule(raw.get("schedule", []), f"{where}.schedule"),
        sources=tuple(str(s) for s in sources),
    )


def parse_profiles(document: object) -> dict[str, LinkProfile]:
    """Profiles from an already decoded JSON document (``{"profiles": {...}}``)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("profiles"), Mapping):
        raise ProfileError("link profile document must be an object with a 'profiles' object")
    return {name: _profile(name, raw) for name, raw in document["profiles"].items()}


def load_profiles(path: str | Path | None = None) -> dict[str, LinkProfile]:
    """Load profiles from ``path``, or the copy shipped in ``rtc_interact.data`` when None."""
    if path is None:
        text = resources.files("rtc_interact.data").joinpath(_PROFILES_RESOURCE).read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"link profiles are not valid JSON: {exc}") from exc
    return parse_profiles(document)


def get_profile(name: str, path: str | Path | None = None) -> LinkProfile:
    """The profile called ``name``; raises :class:`UnknownProfileError` listing known names."""
    profiles = load_profiles(path)
    try:
        return profiles[name]
    except KeyError:
        raise UnknownProfileError(name, list(profiles)) from None
