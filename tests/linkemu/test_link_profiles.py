"""Tests for rtc_interact/linkemu/profiles.py: loading, merging, schedules and validation."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from rtc_interact.errors import ConfigurationError
from rtc_interact.linkemu import (
    DirectionParams,
    DirectionPatch,
    LinkDirectionName,
    LinkProfile,
    LossModel,
    ProfileError,
    ScheduleStep,
    UnknownProfileError,
    get_profile,
    load_profiles,
    parse_profiles,
)


def _shipped_document() -> dict[str, object]:
    text = resources.files("rtc_interact.data").joinpath("link-profiles.json").read_text("utf-8")
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def test_every_shipped_profile_loads() -> None:
    profiles = load_profiles()
    raw = _shipped_document()["profiles"]
    assert isinstance(raw, dict)
    assert set(profiles) == set(raw)
    assert len(profiles) >= 10
    for name, profile in profiles.items():
        assert profile.name == name
        assert profile.summary
        assert profile.rtt_ms >= 0


def test_both_is_default_and_directions_override() -> None:
    cn_sea = get_profile("cn-sea")
    assert cn_sea.rtt_ms == 90
    for params in (cn_sea.a_to_b, cn_sea.b_to_a):
        assert (params.delay_ms, params.jitter_ms, params.queue_ms) == (45, 8, 200)
        assert params.rate_kbps == 8000
    assert cn_sea.a_to_b.loss == LossModel("gilbert", 0.5, 2)
    assert cn_sea.b_to_a.loss == LossModel("gilbert", 1.0, 2)
    brazil = get_profile("cn-brazil")
    assert brazil.a_to_b.loss == brazil.b_to_a.loss == LossModel("gilbert", 2.5, 2)
    lan = get_profile("lan")
    assert lan.a_to_b == DirectionParams() and lan.rtt_ms == 0


def test_expected_round_trip_loss() -> None:
    profile = get_profile("rtt150-loss2")
    assert profile.rtt_ms == 150
    assert profile.expected_round_trip_loss() == pytest.approx(1 - 0.98 * 0.98)
    assert get_profile("rtt150").expected_round_trip_loss() == 0


def test_schedule_overrides_are_cumulative() -> None:
    evening = get_profile("congested-evening")
    ab = LinkDirectionName.A_TO_B
    assert [s.at_s for s in evening.schedule] == [20, 40, 60, 80]
    assert evening.params_at(ab, 19.99).rate_kbps == 4000
    at_20 = evening.params_at(ab, 20.0)
    assert at_20.rate_kbps == 1200 and at_20.loss == LossModel("gilbert", 4, 3)
    assert at_20.delay_ms == 85 and at_20.queue_ms == 500  # untouched keys carry over
    assert evening.params_at("a_to_b", 45).rate_kbps == 600
    assert evening.params_at("a_to_b", 1000).rate_kbps == 4000
    assert evening.params_at("b_to_a", 45) == evening.b_to_a


def test_patch_can_remove_a_cap_and_keep_others() -> None:
    base = DirectionParams(delay_ms=10, rate_kbps=100, queue_ms=50)
    patched = base.patched(DirectionPatch(rate_kbps=None, jitter_ms=3))
    assert patched == DirectionParams(delay_ms=10, jitter_ms=3, rate_kbps=None, queue_ms=50)


def test_unknown_profile_lists_known_names() -> None:
    with pytest.raises(UnknownProfileError) as info:
        get_profile("no-such-link")
    message = str(info.value)
    assert "no-such-link" in message
    for name in ("lan", "rtt150-loss2", "congested-evening"):
        assert name in message
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ConfigurationError)


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: DirectionParams(delay_ms=-1), "delay_ms"),
        (lambda: DirectionParams(jitter_ms=-0.5), "jitter_ms"),
        (lambda: DirectionParams(rate_kbps=0), "rate_kbps"),
        (lambda: DirectionParams(queue_ms=-5), "queue_ms"),
        (lambda: DirectionParams(reorder_pct=101), "reorder_pct"),
        (lambda: LossModel("bernoulli", 101), "pct"),
        (lambda: LossModel("bernoulli", -1), "pct"),
        (lambda: LossModel("gilbert", 5, 0.5), "burst"),
        (lambda: LossModel("gilbert", 60, 1), "gilbert"),
        (lambda: LossModel("uniform", 1), "loss model"),
        (lambda: ScheduleStep(at_s=-1), "at_s"),
    ],
)
def test_invalid_values_raise(build: object, needle: str) -> None:
    assert callable(build)
    with pytest.raises(ProfileError, match=needle):
        build()


def test_unsorted_schedule_is_refused() -> None:
    with pytest.raises(ProfileError, match="sorted"):
        LinkProfile(
            "x", "", DirectionParams(), DirectionParams(), (ScheduleStep(5), ScheduleStep(1))
        )


@pytest.mark.parametrize(
    "profile",
    [
        {"both": {"delay_ms": -3}},
        {"both": {"delay": 3}},
        {"a_to_b": {"loss": {"model": "gilbert", "pct": 5, "burst": 0}}},
        {"both": {"loss": {"pct": 150}}},
        {"both": {"rate_kbps": "fast"}},
        {"schedule": [{"at_s": 1, "a_to_b": {"delay_ms": -1}}]},
        {"bogus": 1},
    ],
)
def test_invalid_json_raises(profile: dict[str, object]) -> None:
    with pytest.raises(ProfileError):
        parse_profiles({"profiles": {"bad": profile}})


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps({"profiles": {"x": {"summary": "s", "both": {"delay_ms": 5}}}}), "utf-8"
    )
    profiles = load_profiles(path)
    assert profiles["x"].rtt_ms == 10
    assert get_profile("x", path).a_to_b.delay_ms == 5
    path.write_text("{not json", "utf-8")
    with pytest.raises(ProfileError, match="JSON"):
        load_profiles(path)
